"""Export the student's MobileNetV2 to an ExecuTorch ``.pte`` with the XNNPACK delegate, run it, measure it.

The recipe (ExecuTorch 1.5.1 beside torch 2.14.1; see ``shared/notes/measured-facts.md``):

1. **The network**: torchvision's MobileNetV2 at width α and input resolution R. ImageNet weights exist
   for α = 1.0 only (they come through the app's weights chain, :func:`explainer.weights.load_pretrained`);
   any other α is the architecture with seeded random weights — its file size and speed are real, its
   predictions are not (:attr:`Network.pretrained` is ``False`` and the page says so).
2. **Capture**: ``torch.export.export(model, (x,))`` with one contiguous ``1×3×R×R`` input.
3. **int8 only** (PT2E): ``prepare_pt2e`` with XNNPACK's quantizer (symmetric, per-channel weight
   scales), the calibration photos run through one by one, ``convert_pt2e``, then capture again.
4. **Lower**: ``to_edge_transform_and_lower(ep, partitioner=[XnnpackPartitioner()])`` hands every
   operator XNNPACK supports to its delegate; ``.to_executorch()`` makes the program, ``.buffer`` is the
   ``.pte`` file.
5. **Run** the bytes with ``executorch.runtime`` in this process, one thread (the runtime's pool is reset
   to 1 thread once per process; XNNPACK refuses a non-contiguous input, so inputs are made contiguous).
6. **Measure in one run**: eager and ``.pte`` alternated on the same input (median of the runs), the
   largest absolute difference of their logits and their top-1 agreement on the comparison photos.

Nothing here imports ``executorch`` at module level; :func:`executorch_available` says whether it can.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from PIL import Image
from torch import nn

from explainer.errors import ExplainerError, InvalidInputError
from explainer.litert import _quiet_native_stderr  # the app's one fd-2 silencer (native runtimes' log lines)

#: Models this module exports (the registry's names).
EXPORT_MODELS: tuple[str, ...] = ("mobilenet_v2",)
#: Width multipliers α offered (MobileNetV2's published range).
WIDTH_RANGE: tuple[float, float] = (0.35, 1.4)
#: Input resolutions offered (square images).
RESOLUTION_RANGE: tuple[int, int] = (96, 224)
#: Number formats of the exported file.
DTYPES: tuple[str, ...] = ("float32", "int8")
#: The only width with published ImageNet weights for MobileNetV2.
PRETRAINED_WIDTH = 1.0
#: Runs of each of eager and ``.pte`` timed (alternated; the median counts).
TIMED_RUNS = 20
#: Most calibration photos used for int8 (calibration time grows with them).
MAX_CALIBRATION = 32
#: Progress stages, in order (locale keys ``export.stage_<stage>``).
STAGES: tuple[str, ...] = ("weights", "capture", "quantize", "lower", "serialize", "measure")

#: ``progress(stage, fraction_done)``.
Progress = Callable[[str, float], None]


def executorch_available() -> bool:
    """Whether ExecuTorch's exporter and runtime (``pip install executorch``) can be imported here."""
    try:
        import executorch.exir
        import executorch.runtime  # noqa: F401
        from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner  # noqa: F401
    except Exception:  # noqa: BLE001 - missing, or built against another libtorch: unusable either way
        return False
    return True


def require_executorch() -> None:
    """Raise :class:`ExplainerError` ``export.no_executorch`` when ExecuTorch cannot be used."""
    if not executorch_available():
        raise ExplainerError("export.no_executorch")


# --------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSettings:
    """What the student configured: model, width multiplier α, input resolution, number format."""

    model: str = "mobilenet_v2"
    width: float = 1.0
    resolution: int = 224
    dtype: str = "float32"

    @property
    def pretrained_possible(self) -> bool:
        return self.width == PRETRAINED_WIDTH

    def file_name(self) -> str:
        return f"{self.model}_{self.width:g}_{self.resolution}_{self.dtype}.pte"

    def as_dict(self) -> dict:
        return {"model": self.model, "width": self.width, "resolution": self.resolution, "dtype": self.dtype}


def check_settings(model: str = "mobilenet_v2", width: float = 1.0, resolution: int = 224,
                   dtype: str = "float32") -> ExportSettings:
    """Validated :class:`ExportSettings`, or :class:`InvalidInputError` naming the bad value."""
    if model not in EXPORT_MODELS:
        raise InvalidInputError("export.unknown_model", value=model, choices=", ".join(EXPORT_MODELS))
    if isinstance(width, bool):
        raise InvalidInputError("not_number", name="α", value=width)
    try:
        value = float(width)
    except (TypeError, ValueError):
        raise InvalidInputError("not_number", name="α", value=width) from None
    low, high = WIDTH_RANGE
    if not low <= value <= high:  # also rejects NaN
        raise InvalidInputError("out_of_range", name="α", low=low, high=high, value=width)
    if isinstance(resolution, bool) or not isinstance(resolution, int):
        raise InvalidInputError("not_integer", name="resolution", value=resolution)
    low_r, high_r = RESOLUTION_RANGE
    if not low_r <= resolution <= high_r:
        raise InvalidInputError("out_of_range", name="resolution", low=low_r, high=high_r, value=resolution)
    if dtype not in DTYPES:
        raise InvalidInputError("export.unknown_dtype", value=dtype, choices=", ".join(DTYPES))
    return ExportSettings(model, value, resolution, dtype)


# --------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------


@dataclass
class Network:
    """The eager network to export, its preprocessing and where its weights came from."""

    name: str
    model: nn.Module  # eval mode; never changed by the export (it may be shared by every session)
    width: float
    resolution: int
    pretrained: bool
    weights_id: str  # "IMAGENET1K_V2", a file name, or "untrained"
    weights: str  # where the weights came from, as one string ("file:/…/mobilenet_v2.pth", "untrained")
    transform: nn.Module  # PIL image -> normalised [3, R, R]
    categories: list[str]
    problem: ExplainerError | None = None  # why α = 1.0 has no ImageNet weights, when it has none

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        from explainer.classify import trim_extreme_aspect

        return self.transform(trim_extreme_aspect(image)).unsqueeze(0).contiguous()

    def batch(self, images: Sequence[Image.Image]) -> torch.Tensor:
        if not images:
            raise InvalidInputError("quant.no_calibration")
        return torch.cat([self.preprocess(image) for image in images]).contiguous()


def transform_at(transform: nn.Module, resolution: int) -> nn.Module:
    """The weights' preprocessing moved to ``resolution``: same resize-to-crop ratio, mean and std."""
    from torchvision.transforms._presets import ImageClassification

    crop = int(transform.crop_size[0])
    if crop == resolution:
        return transform
    resize = round(resolution * int(transform.resize_size[0]) / crop)
    return ImageClassification(crop_size=resolution, resize_size=resize, mean=tuple(transform.mean),
                               std=tuple(transform.std), interpolation=transform.interpolation)


def network_from(settings: ExportSettings, loaded=None) -> Network:
    """The network for ``settings``: ``loaded`` (a :class:`~explainer.weights.LoadedModel` of α = 1.0, with
    or without ImageNet weights) when α = 1.0, else the architecture with seeded random weights."""
    from torchvision.models import MobileNet_V2_Weights

    from explainer.models import build_model
    from explainer.weights import imagenet_categories

    if settings.pretrained_possible and loaded is not None and loaded.pretrained:
        return Network(settings.model, loaded.model, settings.width, settings.resolution, True, loaded.weights_id,
                       loaded.weights, transform_at(loaded.transform, settings.resolution), loaded.categories)
    with torch.random.fork_rng(devices=[]):  # the same random weights every time, global RNG untouched
        torch.manual_seed(0)
        model = build_model(settings.model, width=settings.width).eval()
    problem = loaded.problem if (settings.pretrained_possible and loaded is not None) else None
    return Network(settings.model, model, settings.width, settings.resolution, False, "untrained", "untrained",
                   transform_at(MobileNet_V2_Weights.IMAGENET1K_V1.transforms(), settings.resolution),
                   imagenet_categories(), problem)


def load_network(settings: ExportSettings, weights_dir=None, progress=None, *, download: bool = True) -> Network:
    """:func:`network_from` with α = 1.0's weights resolved by the app's chain (folder → cache → download)."""
    from explainer.weights import load_pretrained

    loaded = None
    if settings.pretrained_possible:
        loaded = load_pretrained(settings.model, weights_dir, progress, download=download, fallback=True)
    return network_from(settings, loaded)


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------


@dataclass
class Exported:
    """One ``.pte`` file and what it took to make it."""

    settings: ExportSettings
    pte: bytes = field(repr=False)
    lowering: object  # explainer.deploy.lowering.Lowering
    seconds: float  # capture + (quantize) + lower + serialize
    calibration_images: int = 0  # int8 only

    @property
    def size_bytes(self) -> int:
        return len(self.pte)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pte).hexdigest()


def _report(progress: Progress | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, fraction)


def export_pte(network: Network, settings: ExportSettings, calibration: torch.Tensor | None = None,
               progress: Progress | None = None) -> Exported:
    """Steps 2–4: the ``.pte`` of ``network`` (int8: calibrated on ``calibration``, ``[N, 3, R, R]``)."""
    require_executorch()
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    from explainer.deploy.lowering import read_lowering

    if settings.dtype == "int8" and (calibration is None or calibration.dim() != 4 or calibration.shape[0] == 0):
        raise InvalidInputError("quant.no_calibration")
    start = time.perf_counter()
    example = (torch.zeros(1, 3, settings.resolution, settings.resolution),)
    with warnings.catch_warnings():  # torch.export's and ExecuTorch's deprecation notes are not for users
        warnings.simplefilter("ignore")
        _report(progress, "capture", 0.05)
        float_program = torch.export.export(network.model, example)
        program = float_program
        used = 0
        if settings.dtype == "int8":
            from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
                XNNPACKQuantizer,
                get_symmetric_quantization_config,
            )
            from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

            _report(progress, "quantize", 0.15)
            quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
            prepared = prepare_pt2e(float_program.module(), quantizer)
            photos = calibration[:MAX_CALIBRATION]
            with torch.no_grad():
                for row in photos.split(1):  # the program was captured for batch 1
                    prepared(row.contiguous())
            used = int(photos.shape[0])
            converted = convert_pt2e(prepared)
            program = torch.export.export(converted, example)
        _report(progress, "lower", 0.3)
        edge = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()])
        _report(progress, "serialize", 0.8)
        pte = bytes(edge.to_executorch().buffer)
        lowering = read_lowering(float_program, pte)
    return Exported(settings, pte, lowering, time.perf_counter() - start, used)


# --------------------------------------------------------------------------
# Running the file
# --------------------------------------------------------------------------

_runtime_lock = threading.Lock()
_runtime_state: dict[str, object] = {}


def runtime():
    """ExecuTorch's runtime, its thread pool set to 1 thread once per process (a fair 1-thread comparison).

    ``_unsafe_reset_threadpool`` must not run while another thread executes a program, so it runs only
    here, before the first program of the process is loaded.
    """
    with _runtime_lock:
        if "runtime" not in _runtime_state:
            require_executorch()
            from executorch.extension.pybindings import portable_lib
            from executorch.runtime import Runtime

            # The runtime's native start-up lines ("[cpuinfo_utils.cpp:87] Failed to open midr file…",
            # "Resetting threadpool to 1 threads.") go to fd 2: kept off the command line's stderr, as LiteRT's.
            with _quiet_native_stderr():
                with contextlib.suppress(Exception):  # experimental: without it the pool keeps its default size
                    portable_lib._unsafe_reset_threadpool(1)
                _runtime_state["runtime"] = Runtime.get()
            try:
                _runtime_state["threads"] = int(portable_lib._threadpool_get_thread_count())
            except Exception:  # noqa: BLE001
                _runtime_state["threads"] = 0
        return _runtime_state["runtime"]


def runtime_threads() -> int:
    """Threads of the runtime's pool (0 when unknown)."""
    runtime()
    return int(_runtime_state.get("threads", 0))


class PteRunner:
    """A ``.pte`` loaded by ExecuTorch's runtime. Calling it runs ``forward``; thread-safe (one lock)."""

    def __init__(self, pte: bytes, resolution: int) -> None:
        self.resolution = resolution
        self._pte = pte  # the runtime reads from this buffer
        loaded_runtime = runtime()
        with _quiet_native_stderr():
            self._program = loaded_runtime.load_program(pte)
            self._method = self._program.load_method("forward")
        self._lock = threading.Lock()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape) != (1, 3, self.resolution, self.resolution):
            raise ValueError(f"the .pte takes 1×3×{self.resolution}×{self.resolution}, got {tuple(x.shape)}")
        x = x.detach().to(torch.float32).contiguous()  # XNNPACK refuses a non-contiguous input
        with self._lock:
            out = self._method.execute([x])[0]
        return out.clone()

    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        """Logits of every row of ``batch`` (run one by one: the program takes batch 1)."""
        return torch.cat([self(row) for row in batch.split(1)])


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PhotoRow:
    name: str
    eager_top1: str
    pte_top1: str
    eager_index: int
    pte_index: int

    @property
    def agrees(self) -> bool:
        return self.eager_index == self.pte_index

    def as_dict(self) -> dict:
        return {"file": self.name, "eager_top1": self.eager_top1, "pte_top1": self.pte_top1}


@dataclass(frozen=True)
class Measurement:
    """``.pte`` against eager PyTorch, measured in one run on this CPU."""

    latency_ms: float  # the .pte, median of the timed runs
    eager_latency_ms: float  # eager PyTorch, same input, alternated with the .pte
    runs: int
    threads: int  # PyTorch's threads for eager
    runtime_threads: int  # ExecuTorch's pool
    max_abs_diff: float  # largest |logit(.pte) - logit(eager)| over the photos
    photos: list[PhotoRow]

    @property
    def top1_agreement(self) -> float:
        return sum(r.agrees for r in self.photos) / len(self.photos) if self.photos else 0.0

    @property
    def agreeing(self) -> int:
        return sum(r.agrees for r in self.photos)

    @property
    def speedup(self) -> float:
        return self.eager_latency_ms / self.latency_ms if self.latency_ms > 0 else float("inf")


def measure(network: Network, runner: PteRunner, batch: torch.Tensor, names: Sequence[str],
            runs: int = TIMED_RUNS) -> Measurement:
    """Time eager vs ``.pte`` (alternated, same input) and compare their logits on ``batch``."""
    from explainer.quant.ptq import compare_latency

    if batch.shape[0] != len(names):
        raise ValueError("batch and names do not match")
    with torch.inference_mode():
        eager = torch.cat([network.model(row) for row in batch.split(1)])
    exported = runner.logits(batch)
    diff = float((exported - eager).abs().max()) if len(names) else 0.0
    rows = []
    for name, e, p in zip(names, eager, exported):
        ei, pi = int(e.argmax()), int(p.argmax())
        rows.append(PhotoRow(name, network.categories[ei], network.categories[pi], ei, pi))
    # The app's timing of two models (explainer.quant.ptq): alternated runs on one input, medians.
    pair = compare_latency(network.model, runner, runs=runs, size=network.resolution)
    return Measurement(pair.int8_ms, pair.fp32_ms, pair.runs, pair.threads, runtime_threads(), diff, rows)


def top5(network: Network, runner: PteRunner, image: Image.Image):
    """The photo's five most probable classes according to the exported file."""
    from explainer.classify import top_k

    return top_k(runner(network.preprocess(image))[0], network.categories, 5)


# --------------------------------------------------------------------------
# Everything in one: what the page and the command line show
# --------------------------------------------------------------------------


@dataclass
class ExportResult:
    """An exported file, loaded for running, measured against eager PyTorch."""

    exported: Exported
    runner: PteRunner = field(repr=False)
    measurement: Measurement
    pretrained: bool
    weights: str
    weights_id: str

    @property
    def settings(self) -> ExportSettings:
        return self.exported.settings

    def as_dict(self) -> dict:
        m, low = self.measurement, self.exported.lowering
        return {
            **self.settings.as_dict(),
            "pretrained": self.pretrained,
            "weights": self.weights,
            "bytes": self.exported.size_bytes,
            "sha256": self.exported.sha256,
            "export_seconds": round(self.exported.seconds, 2),
            "calibration_images": self.exported.calibration_images,
            "max_abs_diff": m.max_abs_diff,
            "top1_agreement": round(m.top1_agreement, 4),
            "photos": [r.as_dict() for r in m.photos],
            "latency_ms": round(m.latency_ms, 3),
            "eager_latency_ms": round(m.eager_latency_ms, 3),
            "runs": m.runs,
            "threads": m.threads,
            "runtime_threads": m.runtime_threads,
            "delegated_ops": {"xnnpack": low.delegated_nodes, "portable": low.portable_count},
            "lowering": low.as_dict(),
        }


def export_and_measure(network: Network, settings: ExportSettings, photos: torch.Tensor, names: Sequence[str],
                       calibration: torch.Tensor | None = None, progress: Progress | None = None,
                       runs: int = TIMED_RUNS) -> ExportResult:
    """Export ``network`` (int8: calibrated on ``calibration``, else on ``photos``), load the file with
    ExecuTorch's runtime, and measure it against eager PyTorch on ``photos`` — all in one run."""
    if settings.resolution != network.resolution or settings.width != network.width:
        raise ValueError("the network was built for other settings")
    exported = export_pte(network, settings, calibration if calibration is not None else photos, progress)
    _report(progress, "measure", 0.9)
    runner = PteRunner(exported.pte, settings.resolution)
    measurement = measure(network, runner, photos, names, runs)
    _report(progress, "measure", 1.0)
    return ExportResult(exported, runner, measurement, network.pretrained, network.weights, network.weights_id)


def cache_key(settings: ExportSettings, weights_id: str, calibration_digest: str = "") -> tuple:
    """What an export depends on: α, resolution, dtype, the weights and (int8) the calibration photos."""
    return (settings.model, settings.width, settings.resolution, settings.dtype, weights_id,
            calibration_digest if settings.dtype == "int8" else "")


#: The exports of this process, shared by every session and the command line (one per key, ever).
#: Each holds a file (14 MB for float32 α = 1) and the runtime's copy of it: at most 4.
EXPORTS = None


def exports():
    """The process-wide :class:`~explainer.deploy.once.OncePerKey` of :class:`ExportResult`."""
    global EXPORTS
    if EXPORTS is None:
        from explainer.deploy.once import OncePerKey

        with _runtime_lock:
            if EXPORTS is None:
                EXPORTS = OncePerKey(max_entries=4, slots=1)
    return EXPORTS
