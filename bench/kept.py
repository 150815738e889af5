"""What a session keeps (issue 26): calibration copies instead of raw uploads, and a kept head's round trip.

* **calibration copies**: the bytes the Compression page keeps for 32 large phone-size JPEG uploads
  (:func:`explainer.quant.compare.calibration_copy`, lossless, at the size MobileNetV2's preprocessing crops
  from) — against the bytes uploaded; target: at most 5 % of them;
* **kept head** (SQLite in a temporary folder): keeping a trained two-class head and reading it back through
  the head-file checks (:mod:`explainer.lecture.kept`) — against writing and reading the same head file alone
  (``head_bytes`` + ``read_head``).

Run: ``python -m bench.kept``.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

from bench.common import Figure, median_ms

SHARED = Path(os.environ.get("EXPLAINER_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))


def _large_jpegs(n: int) -> list[bytes]:
    import numpy as np
    from PIL import Image

    base = np.asarray(Image.open(SHARED / "images" / "cat.jpg").convert("RGB").resize((4000, 3000)), dtype=np.int16)
    noise = np.random.default_rng(0).integers(-12, 13, size=base.shape, dtype=np.int16)
    out = []
    for i in range(n):
        buffer = io.BytesIO()
        Image.fromarray(np.clip(base + np.roll(noise, 97 * i, axis=1), 0, 255).astype(np.uint8)).save(
            buffer, "JPEG", quality=95)
        out.append(buffer.getvalue())
    return out


def run(quick: bool = False) -> list[Figure]:
    import torch

    from explainer.lecture import kept
    from explainer.lecture.store import forget_engine
    from explainer.quant.compare import calibration_copy
    from explainer.transfer.head import Head, head_bytes, read_head
    from explainer.weights import load_pretrained

    figures: list[Figure] = []
    weights = os.environ.get("EXPLAINER_WEIGHTS_DIR") or str(SHARED / "weights")
    if (SHARED / "images" / "cat.jpg").is_file() and Path(weights, "mobilenet_v2.pth").is_file():
        loaded = load_pretrained("mobilenet_v2", weights, download=False)
        uploads = _large_jpegs(8 if quick else 32)
        copies = [calibration_copy(data, f"p{i}.jpg", loaded) for i, data in enumerate(uploads)]
        figures.append(Figure(f"calibration copies kept for {len(uploads)} uploads", sum(map(len, copies)) / 2**20,
                              "bytes uploaded", sum(map(len, uploads)) / 2**20, unit="MB", target="ratio <= 0.05",
                              ok=sum(map(len, copies)) <= 0.05 * sum(map(len, uploads))))
    else:
        print("bench.kept: calibration copies skipped (no shared photo or weights)", file=sys.stderr)

    head = Head("mobilenet_v2", "bench", ("ants", "bees"), torch.randn(2, 1280), torch.randn(2))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'lecture.sqlite3'}"
        token = kept.new_token()
        try:
            kept_ms = median_ms(lambda: (kept.keep_head(token, head, url), kept.kept_head(token, url)),
                                repeats=5 if quick else 20)
            file_ms = median_ms(lambda: read_head(head_bytes(head)), repeats=5 if quick else 20)
        finally:
            forget_engine(url)
    figures.append(Figure("kept head: store + read back (SQLite)", kept_ms, "head file write + read", file_ms))
    return figures


if __name__ == "__main__":
    for figure in run(quick="--quick" in sys.argv):
        print(f"{figure.name}: {figure.value:.2f} {figure.unit} vs {figure.baseline_name}: "
              f"{figure.baseline:.2f} {figure.unit} (ratio {figure.ratio:.3f})")
