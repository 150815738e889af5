"""Figures printed in the MobileNet papers, with where they were printed.

Used for the accuracy-vs-MACs scatter on the Architectures page and by the
tests that hold :mod:`explainer.architectures` to the papers. Every figure is
as printed (MACs in millions of mult-adds, params in millions, ImageNet
top-1 in %); :func:`compare_to_paper` puts our exact count beside it and says
why they differ where they do.
"""

from __future__ import annotations

from dataclasses import dataclass

V1_PAPER = "Howard et al., MobileNets (arXiv:1704.04861, 2017)"
V2_PAPER = "Sandler et al., MobileNetV2 (CVPR 2018, arXiv:1801.04381)"
V3_PAPER = "Howard et al., Searching for MobileNetV3 (ICCV 2019, arXiv:1905.02244)"

CITATIONS: dict[str, str] = {"v1": V1_PAPER, "v2": V2_PAPER, "v3": V3_PAPER}


@dataclass(frozen=True)
class Published:
    """One network variant as a paper printed it."""

    key: str  # short id, e.g. "v1_1.0_224"
    model: str  # one of architectures.MODEL_NAMES
    width: float
    resolution: int
    top1: float  # ImageNet top-1 accuracy, %
    macs_m: float  # millions of mult-adds, as printed
    params_m: float  # millions of parameters, as printed
    paper: str  # "v1" | "v2" | "v3"
    tables: str  # table number(s) in the paper, e.g. "6" or "4, 6, 7"
    twin: bool = False

    @property
    def label(self) -> str:
        from explainer import registry

        base = "Conv V1" if self.twin else registry.get(self.model).short
        width = f"{self.width:.1f}" if self.width * 10 == int(self.width * 10) else f"{self.width:g}"
        return f"{base} {width} · {self.resolution}"


PUBLISHED: tuple[Published, ...] = (
    # V1: Table 6 (width multiplier) and Table 7 (resolution); Table 4 (full convolutions)
    Published("v1_1.0_224", "mobilenet_v1", 1.0, 224, 70.6, 569, 4.2, "v1", "4, 6, 7"),
    Published("v1_0.75_224", "mobilenet_v1", 0.75, 224, 68.4, 325, 2.6, "v1", "6"),
    Published("v1_0.5_224", "mobilenet_v1", 0.5, 224, 63.7, 149, 1.3, "v1", "6"),
    Published("v1_0.25_224", "mobilenet_v1", 0.25, 224, 50.6, 41, 0.5, "v1", "6"),
    Published("v1_1.0_192", "mobilenet_v1", 1.0, 192, 69.1, 418, 4.2, "v1", "7"),
    Published("v1_1.0_160", "mobilenet_v1", 1.0, 160, 67.2, 290, 4.2, "v1", "7"),
    Published("v1_1.0_128", "mobilenet_v1", 1.0, 128, 64.4, 186, 4.2, "v1", "7"),
    Published("v1_conv_1.0_224", "mobilenet_v1", 1.0, 224, 71.7, 4866, 29.3, "v1", "4", twin=True),
    # V2: Table 4
    Published("v2_1.0_224", "mobilenet_v2", 1.0, 224, 72.0, 300, 3.4, "v2", "4"),
    Published("v2_1.4_224", "mobilenet_v2", 1.4, 224, 74.7, 585, 6.9, "v2", "4"),
    # V3: Table 3
    Published("v3l_1.0_224", "mobilenet_v3_large", 1.0, 224, 75.2, 219, 5.4, "v3", "3"),
    Published("v3l_0.75_224", "mobilenet_v3_large", 0.75, 224, 73.3, 155, 4.0, "v3", "3"),
    Published("v3s_1.0_224", "mobilenet_v3_small", 1.0, 224, 67.4, 66, 2.9, "v3", "3"),
    Published("v3s_0.75_224", "mobilenet_v3_small", 0.75, 224, 65.4, 44, 2.4, "v3", "3"),
)

#: V1 paper Table 2, "Resources per layer type": % of mult-adds and % of parameters.
V1_TABLE2: dict[str, tuple[float, float]] = {
    "pointwise": (94.86, 74.59),  # Conv 1×1
    "depthwise": (3.06, 1.06),  # Conv DW 3×3
    "conv": (1.19, 0.02),  # Conv 3×3 (the stem) — printed 1.19 %, see V1_TABLE2_NOTE
    "fc": (0.18, 24.33),  # Fully Connected
}
#: Why the stem's printed share of mult-adds cannot be reproduced.
V1_TABLE2_STEM_EXACT = 1.91


def find(key: str) -> Published:
    for entry in PUBLISHED:
        if entry.key == key:
            return entry
    raise KeyError(key)


def headline(model: str) -> Published:
    """The paper's row for ``model`` at α = 1, 224×224."""
    return next(e for e in PUBLISHED if e.model == model and e.width == 1.0 and e.resolution == 224 and not e.twin)


#: Published variants whose printed MACs/params our exact count does not round to, and why
#: (keys of locale texts ``arch.gap_<key>``). Every other row matches to the printed digits.
KNOWN_GAPS: tuple[str, ...] = (
    "v1_1.0_160",  # exact 290.7M, printed 290 (truncated, not rounded)
    "v1_conv_1.0_224",  # exact 4,867.3M; 4,866.3M without the FC layer = printed 4866M
    "v2_1.0_224",  # params: 3.47M without BN, printed 3.4 (truncated)
    "v2_1.4_224",  # 582.2M / 6.06M (TF's checkpoint table prints exactly 582 / 6.06), paper 585 / 6.9
    "v3l_1.0_224",  # 216.6M exact (TF's checkpoint table: 217), paper 219
    "v3l_0.75_224",  # released 0.75 models keep some layers full width in TF; not reproduced
    "v3s_1.0_224",  # released architecture 56.5M / 2.54M, paper 66M / 2.9M
    "v3s_0.75_224",
)
