"""How many CPU threads PyTorch may use per forward pass in the app.

A Streamlit server runs every student's script in its own thread of one
process. With PyTorch's default (one intra-op thread per core) two
concurrent forward passes on a 2-core machine oversubscribe the cores and
each gets many times slower (measured here: 16–21 ms with 1 thread, a
median of 235–750 ms with 2 under load). One thread per forward pass,
many passes side by side, scales better. ``EXPLAINER_TORCH_THREADS``
overrides the default of 1 (e.g. a single lecturer on a quiet laptop may
prefer all cores).
"""

from __future__ import annotations

import os

DEFAULT_THREADS = 1


_configured: dict[str, int] = {}  # the setting last applied -> threads (app.py calls this on every run)


def configure_torch_threads(environ: os._Environ[str] | dict[str, str] = os.environ) -> int:
    """Set ``torch.set_num_threads`` from ``EXPLAINER_TORCH_THREADS`` (default 1); return the value used."""
    raw = environ.get("EXPLAINER_TORCH_THREADS", "")
    if raw in _configured:
        return _configured[raw]
    import torch

    try:
        threads = int(raw) if raw.strip() else DEFAULT_THREADS
    except ValueError:
        threads = DEFAULT_THREADS
    threads = max(1, min(threads, os.cpu_count() or 1))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    _configured.clear()
    _configured[raw] = threads
    return threads
