"""Numbers derived from measured times and from layer shapes, pinned by hand on synthetic inputs.

- Rates (GMAC/s, ms per GMAC, roof fractions, the ridge) from a synthetic timing: a unit slip (ms vs s, 1e6 vs
  1e9, bytes vs elements) or a swapped ratio changes the number.
- Memory traffic and arithmetic intensity, one hand count for every kind of row the family page shows.
- The int8 size estimate, exactly, on a small hand-made network and on MobileNetV2 counted from its modules.
"""

from __future__ import annotations

import pytest

from explainer.zoo import roofline
from explainer.zoo.latency import ZooRow
from explainer.zoo.network import KINDS, CountedNetwork, NetLayer, count_network

# ------------------------------------------------------------------ rates from a synthetic timing


def _point(macs: int, ms: float | None, intensity: float = 2.0, roof: float = 40.0) -> roofline.RooflinePoint:
    return roofline.RooflinePoint("l", "pointwise", macs, 1000, intensity, roof, "memory", ms)


def test_measured_rate_of_a_layer() -> None:
    # 6,000,000 MACs in 2 ms = 3·10⁹ MAC/s = 3 GMAC/s; the roof allows 40: 7.5 %.
    point = _point(6_000_000, 2.0)
    assert point.measured_gmacs == pytest.approx(3.0, rel=1e-12)
    assert point.roof_fraction == pytest.approx(0.075, rel=1e-12)
    assert _point(6_000_000, None).measured_gmacs is None and _point(6_000_000, None).roof_fraction is None


def test_median_rate_per_kind() -> None:
    points = [_point(1_000_000, 1.0), _point(4_000_000, 1.0), _point(30_000_000, 1.0),  # 1, 4, 30 GMAC/s
              _point(5_000_000, None)]  # not measured: not in the median
    (summary,) = roofline.summarise(points)
    assert summary.median_gmacs == pytest.approx(4.0, rel=1e-12)
    assert summary.layers == 4 and summary.macs == 40_000_000


def test_machine_roofs_and_ridge() -> None:
    # 96 GFLOP/s = 48 GMAC/s peak; 12 GB/s: ridge at 4 MACs per byte.
    machine = roofline.Machine(peak_gflops=96.0, bandwidth_gbs=12.0, threads=2)
    assert machine.peak_gmacs == 48.0 and machine.ridge == 4.0
    assert machine.roof(0.5) == 6.0 and machine.roof(4.0) == 48.0 and machine.roof(100.0) == 48.0
    assert machine.as_dict()["ridge_macs_per_byte"] == 4.0


def test_milliseconds_per_gmac_of_a_zoo_row() -> None:
    # 300,774,272 MACs in 12.0 ms: 12.0 / 0.300774272 = 39.8970… ms per GMAC.
    row = ZooRow("mobilenet_v2", "MobileNetV2", "mobilenet", 300_774_272, 3_504_872, 14.0, 3.6, 72.0, "x", False,
                 latency_ms=12.0, threads=1)
    assert row.gmacs == pytest.approx(0.300774272, rel=1e-12)
    assert row.ms_per_gmac == pytest.approx(12.0 / 0.300774272, rel=1e-12)
    assert row.as_dict()["ms_per_gmac"] == pytest.approx(39.89702, rel=1e-6)


# ------------------------------------------------------------------ traffic: one hand count per row kind
# (elements; float32 = 4 bytes each; reads = inputs + weights and biases, writes = outputs)

HAND = {
    # kind: (model, layer name, reads, writes)
    # MobileNetV1 stem: 3×224×224 in, 32×3×3×3 weights; 32×112×112 out
    "standard": ("mobilenet_v1", "features.stem.conv", 3 * 224 * 224 + 32 * 27, 32 * 112 * 112),
    # first depthwise: 32×112×112 in, 32×3×3 weights, out the same map
    "depthwise": ("mobilenet_v1", "features.block1.depthwise.conv", 32 * 112 * 112 + 32 * 9, 32 * 112 * 112),
    # first pointwise: 32×112×112 in, 64×32 weights; 64×112×112 out
    "pointwise": ("mobilenet_v1", "features.block1.pointwise.conv", 32 * 112 * 112 + 64 * 32, 64 * 112 * 112),
    # classifier: 1024 in, 1000×1024 weights + 1000 biases; 1000 out
    "linear": ("mobilenet_v1", "classifier", 1024 + 1024 * 1000 + 1000, 1000),
    # SE scaling in V3-Large's 4th block (72×28×28): the pool reads the map and writes 72 values, the scaling reads
    # the map and the 72 scales and writes the map
    "se_scale": ("mobilenet_v3_large", "features.4.block.2", 72 * 28 * 28 * 2 + 72, 72 * 28 * 28 + 72),
    # SqueezeNet's first Fire concatenation: 64 + 64 channels at 54×54 read and written once
    "concat": ("squeezenet1_0", "features.3", 128 * 54 * 54, 128 * 54 * 54),
    # ShuffleNet V2's first unit: torch.cat and the channel shuffle's contiguous copy, two copies of 48×28×28
    "shuffle": ("shufflenet_v2_x0_5", "stage2.0", 2 * 48 * 28 * 28, 2 * 48 * 28 * 28),
}


@pytest.mark.parametrize("kind", sorted(HAND))
def test_traffic_and_intensity_by_hand(kind: str) -> None:
    model, name, reads, writes = HAND[kind]
    layer = next(layer for layer in count_network(model).layers if layer.name == name)
    assert layer.kind == kind
    assert (layer.reads, layer.writes) == (reads, writes)
    assert (layer.bytes_read, layer.bytes_written, layer.bytes_moved) == (4 * reads, 4 * writes, 4 * (reads + writes))
    assert layer.intensity == (layer.macs / (4 * (reads + writes)) if layer.macs else 0.0)


def test_every_row_kind_the_page_can_show_has_a_hand_count() -> None:
    shown = {layer.kind for model in ("mobilenet_v1", "mobilenet_v3_large", "squeezenet1_0", "shufflenet_v2_x0_5",
                                      "efficientnet_b0", "resnet18", "vgg16", "mnasnet0_5")
             for layer in count_network(model).layers}
    assert shown <= set(HAND) | {"grouped"}, shown - set(HAND)
    assert set(KINDS) - set(HAND) == {"grouped"}  # no network of the app has a grouped (non-depthwise) convolution


# ------------------------------------------------------------------ the int8 size estimate, exactly


def test_int8_size_estimate_of_a_hand_made_network() -> None:
    layers = (
        # 3×3 convolution 3 → 8 without bias: 216 weights, 8 channels
        NetLayer("conv", "standard", (3, 8, 8), (8, 8, 8), 0, 216, 0, 0, (3, 3)),
        # 1×1 convolution 8 → 16 with bias: 128 weights + 16 biases, 16 channels
        NetLayer("pw", "pointwise", (8, 8, 8), (16, 8, 8), 0, 144, 0, 0),
        # a concatenation: no weights, not counted
        NetLayer("cat", "concat", (16, 8, 8), (16, 8, 8), 0, 0, 0, 0),
        # linear 16 → 10 with bias: 160 weights + 10 biases, 10 channels
        NetLayer("fc", "linear", (16,), (10,), 0, 170, 0, 0),
    )
    net = CountedNetwork(model="mobilenet_v2", resolution=8, layers=layers, total_params=530, buffers=0)
    # weights at 1 byte: 216 + 128 + 160 = 504; per output channel a 4-byte bias and a 4-byte scale: 8 · 34 = 272
    assert net.int8_size_mb == (504 + 272) / 1e6


def test_int8_size_estimate_of_mobilenet_v2_from_its_modules() -> None:
    import torchvision
    from torch import nn

    model = torchvision.models.mobilenet_v2()
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    weights = sum(m.weight.numel() for m in layers)
    channels = sum(m.weight.shape[0] for m in layers)
    assert (weights, channels) == (3_469_760, 18_056)  # conv/linear weights; output channels
    assert count_network("mobilenet_v2").int8_size_mb == (weights + 8 * channels) / 1e6
