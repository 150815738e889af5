"""Deploy your own MobileNet: export it to ExecuTorch (PyTorch's on-device runtime) and run the file here.

* :mod:`explainer.deploy.pte` — settings, the export (``torch.export`` → XNNPACK lowering → ``.pte``,
  int8 through PT2E), running the file with ExecuTorch's runtime and measuring it against eager PyTorch;
* :mod:`explainer.deploy.lowering` — what lowering did, read back from the programs;
* :mod:`explainer.deploy.once` — one export per key per process, however many students press at once.

``executorch`` is optional (wheels for Linux x86_64/aarch64 and macOS arm64 only): nothing here imports
it at module level; :func:`explainer.deploy.pte.executorch_available` tells whether it can be used.
"""
