"""Post-training static quantization of MobileNetV2 to int8 (real int8 kernels, the x86 engine).

The recipe (PyTorch's eager flow; see :mod:`explainer.quant.toolchain` for why this one):

1. **Float copy**: torchvision's *quantizable* MobileNetV2 with our float weights. It is the
   same network with ``ReLU`` in place of ``ReLU6`` (the int8 ReLU fuses into the convolution)
   and explicit quantize/dequantize stubs at the input and output.
2. **Fuse**: every convolution + batch norm (+ ReLU) becomes one convolution with folded
   weights and bias — what runs on a phone.
3. optional **cross-layer equalization** (:mod:`explainer.quant.equalize`).
4. **Observe**: a ``QConfig`` puts an observer on every activation (``histogram``:
   minimizes the rounding + clipping error; ``minmax``: the observed min/max) and chooses
   how weights get their scales (``per-channel`` or ``per-tensor``, symmetric int8).
5. **Calibrate**: run the calibration photos through; the observers record ranges.
6. **Convert**: weights become ``qint8`` tensors, activations ``quint8``; every layer
   runs an int8 kernel.

Activations use 7 bits of range (``quant_max=127``, "reduce_range"): the x86 kernels
accumulate pairs of uint8 × int8 products in 16 bits, which could overflow with 8 bits
on CPUs without VNNI — PyTorch's own x86 default does the same.

Sizes are the serialized bytes of ``torch.save(model.state_dict())``; latency is the
median of forward passes at batch 1, float and int8 alternated in the same run with the
same thread count.
"""

from __future__ import annotations

import copy
import io
import time
from dataclasses import dataclass, field

import torch
from torch import nn

from explainer import stopwatch
from explainer.errors import InvalidInputError
from explainer.quant import toolchain
from explainer.quant.int8 import SCHEMES

#: Activation observers offered (how the calibration picks each activation's range).
OBSERVERS: tuple[str, ...] = ("histogram", "minmax")
#: Models this module can quantize.
QUANT_MODELS: tuple[str, ...] = ("mobilenet_v2",)
#: Calibration photos are run through in batches of this many.
CALIBRATION_BATCH = 16


@dataclass(frozen=True)
class QuantSettings:
    """One way of quantizing: the weights' scheme, the activation observer, equalization or not."""

    scheme: str = "per-channel"
    observer: str = "histogram"
    equalize: bool = False

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise InvalidInputError("quant.unknown_scheme", value=self.scheme, choices=", ".join(SCHEMES))
        if self.observer not in OBSERVERS:
            raise InvalidInputError("quant.unknown_observer", value=self.observer, choices=", ".join(OBSERVERS))

    def as_dict(self) -> dict:
        return {"scheme": self.scheme, "observer": self.observer, "equalize": self.equalize}


def check_model(name: str) -> str:
    if name not in QUANT_MODELS:
        raise InvalidInputError("quant.unknown_model", value=name, choices=", ".join(QUANT_MODELS))
    return name


def qconfig(settings: QuantSettings):
    """The ``QConfig`` for ``settings`` (activations: quint8 0…127; weights: symmetric qint8)."""
    from torch.ao.quantization import QConfig
    from torch.ao.quantization.observer import HistogramObserver, MinMaxObserver, PerChannelMinMaxObserver

    observer = HistogramObserver if settings.observer == "histogram" else MinMaxObserver
    activation = observer.with_args(dtype=torch.quint8, quant_min=0, quant_max=127)
    if settings.scheme == "per-channel":
        weight = PerChannelMinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
    else:
        weight = MinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)
    return QConfig(activation=activation, weight=weight)


def fused_float_model(float_model: nn.Module, *, equalize: bool = False) -> nn.Module:
    """Steps 1–3: a fused float copy of ``float_model`` (a torchvision MobileNetV2), optionally equalized.

    Without equalization the fused layers keep **ReLU6** (torchvision's quantizable model
    swaps it for ReLU; measured here, that swap alone changes the float top-1 on about one
    ants/bees photo in five). The calibration then sees outputs clipped at 6, so the int8
    layer's output range ends at 6 or below and the int8 kernel clips exactly like ReLU6
    (as TFLite does). Cross-layer equalization needs ReLU (see
    :mod:`explainer.quant.equalize`), so an equalized model uses ReLU, as in the paper.

    ``float_model`` itself is never changed (it is shared by every session of the app).
    """
    from torchvision.models.quantization import mobilenet_v2 as quantizable_mobilenet_v2

    from explainer.quant.equalize import equalize as cross_layer_equalize

    with toolchain.quiet():
        model = quantizable_mobilenet_v2(weights=None, quantize=False)
        model.load_state_dict(copy.deepcopy(float_model.state_dict()), strict=True)
        model.eval()
        model.fuse_model(is_qat=False)
    if equalize:
        cross_layer_equalize(model)
    else:
        for module in model.modules():
            if type(module).__name__ == "ConvReLU2d" and isinstance(module[1], nn.ReLU):
                module[1] = nn.ReLU6()
    return model


@dataclass
class Quantized:
    """An int8 model and how it was made."""

    model_name: str
    settings: QuantSettings
    model: nn.Module  # the converted int8 model (eval)
    fused: nn.Module = field(repr=False)  # the fused float model it was made from (equalized if asked)
    calibration_images: int = 0
    engine: str = toolchain.ENGINE
    seconds: float = 0.0  # time to fuse, calibrate and convert


def quantize(float_model: nn.Module, calibration: torch.Tensor, settings: QuantSettings,
             model_name: str = "mobilenet_v2") -> Quantized:
    """Steps 1–6: an int8 copy of ``float_model`` calibrated on ``calibration`` (``[N, 3, 224, 224]``)."""
    from torch.ao.quantization import convert, prepare

    check_model(model_name)
    if calibration.dim() != 4 or calibration.shape[0] == 0:
        raise InvalidInputError("quant.no_calibration")
    start = time.perf_counter()
    engine = toolchain.use_engine()
    fused = fused_float_model(float_model, equalize=settings.equalize)
    model = copy.deepcopy(fused)
    model.qconfig = qconfig(settings)
    with toolchain.quiet():
        prepare(model, inplace=True)
        with torch.inference_mode():
            for chunk in calibration.split(CALIBRATION_BATCH):
                model(chunk)
        convert(model, inplace=True)
    model.eval()
    return Quantized(model_name, settings, model, fused, int(calibration.shape[0]), engine,
                     time.perf_counter() - start)


def int8_weight_dtypes(model: nn.Module) -> dict[str, torch.dtype]:
    """``{module name: weight dtype}`` of every quantized convolution / linear layer of ``model``."""
    from torch.ao.nn.quantized import Conv2d as QConv2d
    from torch.ao.nn.quantized import Linear as QLinear

    with toolchain.quiet():
        return {name: m.weight().dtype for name, m in model.named_modules() if isinstance(m, (QConv2d, QLinear))}


def state_dict_bytes(model: nn.Module) -> int:
    """Bytes of ``torch.save(model.state_dict())`` — the size of the model file."""
    buffer = io.BytesIO()
    with toolchain.quiet():
        torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def save_state_dict(model: nn.Module, path) -> int:
    """Write ``model.state_dict()`` to ``path``; return its size in bytes."""
    with toolchain.quiet():
        torch.save(model.state_dict(), path)
    import os

    return os.path.getsize(path)


@dataclass(frozen=True)
class LatencyPair:
    """Median batch-1 forward times of the float and the int8 model, measured alternately."""

    fp32_ms: float
    int8_ms: float
    runs: int
    threads: int

    @property
    def ratio(self) -> float:
        return self.int8_ms / self.fp32_ms


def compare_latency(float_model: nn.Module, int8_model: nn.Module, runs: int = 15, size: int = 224) -> LatencyPair:
    """Time both models on one ``1×3×size×size`` input, alternating (so both see the same machine load)."""
    x = torch.zeros(1, 3, size, size)
    with torch.inference_mode(), toolchain.quiet():  # warm-up: allocations, kernel choice, weight packing
        timed = stopwatch.time_interleaved({"fp32": lambda: float_model(x), "int8": lambda: int8_model(x)},
                                           runs=runs, warmup=1)
    return LatencyPair(timed["fp32"].median_ms, timed["int8"].median_ms, timed["fp32"].runs, timed["fp32"].threads)
