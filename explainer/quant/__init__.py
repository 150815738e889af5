"""int8 quantization of MobileNetV2 — the win (4× smaller, about 3× faster) and the trap (depthwise layers).

Modules, one idea each:

* :mod:`~explainer.quant.toolchain` — the only module that touches PyTorch's quantization API;
  why eager ``torch.ao.quantization`` (real int8 kernels on the x86 engine, no compiler) and
  not torchao's PT2E flow; keeps the API's deprecation warnings away from users.
* :mod:`~explainer.quant.int8` — the arithmetic: scales, rounding, SQNR, weight statistics.
* :mod:`~explainer.quant.equalize` — cross-layer equalization (Nagel et al. 2019), our own.
* :mod:`~explainer.quant.ptq` — post-training static quantization: fuse, observe, calibrate,
  convert; sizes and latency.
* :mod:`~explainer.quant.compare` — float vs int8 on photos: agreement, per-image predictions.
* :mod:`~explainer.quant.layers` — the layer view (histogram, per-channel ranges, SQNR) and the
  per-layer sensitivity (one layer quantized at a time).
* :mod:`~explainer.quant.google` — Google's released int8 MobileNetV2 on LiteRT, beside ours.

Import the submodules directly (``from explainer.quant.ptq import quantize``); this package
imports nothing heavy.
"""
