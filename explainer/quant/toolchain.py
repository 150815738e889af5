"""The one place that touches PyTorch's int8 quantization API (and keeps its warnings away from users).

Why eager ``torch.ao.quantization`` (checked with torch 2.14.1 on this 2-core x86 CPU):

* It converts the model into modules that call **real int8 kernels** (the
  ``x86`` engine, fbgemm + oneDNN): ``torch.ao.nn.quantized.Conv2d`` holds
  ``qint8`` weights and runs int8 convolutions, about 3× faster than float
  here, with no compiler involved and in a second or two.
* ``torchao`` 0.18 (its successor on PyPI) offers the PT2E flow
  (``prepare_pt2e`` / ``convert_pt2e`` with ``X86InductorQuantizer``). Its
  converted model only *simulates* int8 (quantize/dequantize around float
  ops: 75 ms against 52 ms for float, measured side by side); the int8
  kernels appear only after ``torch.compile`` (Inductor + a C++ compiler),
  which took 171 s for MobileNetV2 here — useless for a live page, and not
  faster under load. torchao's eager ``quantize_`` API covers linear layers,
  not static int8 convolutions.
* The eager API prints ``DeprecationWarning`` ("torch.ao.quantization is
  deprecated") and a few ``UserWarning`` on every call. :func:`quiet`
  silences exactly those messages around our calls (never globally), and
  ``tests/test_quant_toolchain.py`` fails loudly if any name used here
  disappears. ``requirements.txt`` pins torch below the first release not
  checked (``torch<2.15``).

Everything else in :mod:`explainer.quant` goes through the names below.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

#: The quantized engine: x86 (fbgemm for convolutions with oneDNN where it is faster).
ENGINE = "x86"

#: Warnings of the eager quantization API that users must never see (regular expressions on the message).
_QUIET_MESSAGES: tuple[tuple[type[Warning], str], ...] = (
    (DeprecationWarning, r"torch\.ao\.quantization is deprecated"),
    (UserWarning, r".*quantized tensor creation functions.*deprecated"),
    (UserWarning, r"Please use quant_min and quant_max"),
    (UserWarning, r"must run observer before calling calculate_qparams"),
    (UserWarning, r".*reduce_range will be deprecated"),
    (FutureWarning, r".*torch\.ao\.quantization.*"),
)

#: Every name this app uses from PyTorch's quantization stack (the toolchain test checks each one).
REQUIRED_NAMES: tuple[str, ...] = (
    "torch.ao.quantization.QConfig",
    "torch.ao.quantization.prepare",
    "torch.ao.quantization.convert",
    "torch.ao.quantization.observer.HistogramObserver",
    "torch.ao.quantization.observer.MinMaxObserver",
    "torch.ao.quantization.observer.PerChannelMinMaxObserver",
    "torch.ao.nn.quantized.Conv2d",
    "torch.ao.nn.quantized.Linear",
    "torch.ao.nn.intrinsic.quantized.ConvReLU2d",
    "torchvision.models.quantization.mobilenet_v2",
)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the quantization API's deprecation chatter inside this block only."""
    with warnings.catch_warnings():
        for category, message in _QUIET_MESSAGES:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield


def missing_names() -> list[str]:
    """The names of :data:`REQUIRED_NAMES` this installation lacks (empty when all are there)."""
    import importlib

    missing = []
    with quiet():
        for dotted in REQUIRED_NAMES:
            module_name, _, attr = dotted.rpartition(".")
            try:
                module = importlib.import_module(module_name)
                getattr(module, attr)
            except (ImportError, AttributeError):
                missing.append(dotted)
    return missing


def use_engine() -> str:
    """Select :data:`ENGINE` for quantized kernels (falls back to fbgemm); return the engine in use."""
    import torch

    engines = torch.backends.quantized.supported_engines
    engine = ENGINE if ENGINE in engines else "fbgemm"
    if torch.backends.quantized.engine != engine:
        torch.backends.quantized.engine = engine
    return engine
