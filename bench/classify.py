"""End-to-end classification of a 12-megapixel photo against the bare forward pass, same run.

* **end-to-end**: ``explainer.classify.classify_source`` on the bytes of a
  4000×3000 JPEG — safe decode (header check, JPEG draft mode down to the
  working size), the weights' preprocessing (resize, centre crop,
  normalise) and the MobileNetV2 forward pass. Target: under 2× the bare
  forward pass, i.e. decoding + preprocessing cost less than the network.
* **bare forward**: the same model on an already prepared ``1×3×224×224``
  tensor under ``torch.inference_mode()``.
* decode + preprocessing alone, with and without draft mode.

JPEG decoding time grows with the file's entropy (its size in bytes), so two
photo-like JPEGs are generated here (smooth colour fields plus luminance
grain, quality 90): a typical one (grain ±4, about 1.9 MB) and a grainy one
(grain ±12, about 3.8 MB, like a high-ISO phone photo).
Run: ``python -m bench.classify``.
"""

from __future__ import annotations

import io
import time

import numpy as np
import torch
from PIL import Image

from bench.common import Figure, interleaved_ms, median_ms
from explainer import stopwatch

SIZE = (4000, 3000)
TARGET_RATIO = 2.0
PHOTOS = {"typical": 4, "grainy": 12}  # name: grain amplitude


def make_jpeg(size: tuple[int, int] = SIZE, grain: int = 4, seed: int = 0) -> bytes:
    """A photo-like JPEG: smooth colour fields (upscaled noise) plus luminance grain, quality 90."""
    rng = np.random.default_rng(seed)
    width, height = size
    coarse = Image.fromarray(rng.integers(0, 256, (height // 100, width // 100, 3), dtype=np.uint8))
    smooth = np.asarray(coarse.resize(size, Image.BICUBIC), dtype=np.int16)
    noise = rng.integers(-grain, grain + 1, (height, width, 1), dtype=np.int16)
    pixels = np.clip(smooth + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _model():
    from explainer.weights import load_pretrained

    # Weights do not change the time of a forward pass; use real ones when present, else random.
    return load_pretrained("mobilenet_v2", download=False, fallback=True)


def run(repeats: int = 15, threads: int = 1) -> list[Figure]:
    """All figures; the pipeline comparison runs with ``threads`` intra-op threads (1: stable on a shared
    machine, where a 2-thread pool waits for busy cores), then 1 vs the default number is compared."""
    default_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        figures = _pipeline(repeats, threads)
    finally:
        torch.set_num_threads(default_threads)
    return figures + _threads(repeats, default_threads)


def _pipeline(repeats: int, threads: int) -> list[Figure]:
    from explainer.classify import classify_source, forward, preprocess
    from explainer.images import WORKING_MIN_SIDE, load_image

    loaded = _model()
    figures: list[Figure] = []
    bare_name = f"bare MobileNetV2 forward on a prepared 1×3×224×224 tensor ({threads} thread{'s' if threads > 1 else ''})"
    for label, grain in PHOTOS.items():
        data = make_jpeg(grain=grain)
        batch = preprocess(load_image(data, min_side=WORKING_MIN_SIDE), loaded)
        times = interleaved_ms(
            {
                "bare": lambda: forward(loaded, batch),
                "end_to_end": lambda: classify_source(data, loaded, top=5),
                "decode_pre": lambda: preprocess(load_image(data, min_side=WORKING_MIN_SIDE), loaded),
            },
            repeats=repeats,
        )
        bare, end_to_end, decode_pre = times["bare"], times["end_to_end"], times["decode_pre"]
        full = median_ms(lambda: preprocess(load_image(data), loaded), repeats=max(3, repeats // 3), warmup=1)
        photo = f"{SIZE[0]}×{SIZE[1]} {label} JPEG ({len(data) / 2**20:.1f} MB)"
        figures += [
            Figure(f"classify {photo} end-to-end: decode + preprocess + forward", end_to_end, bare_name, bare,
                   target=f"ratio <= {TARGET_RATIO}", ok=end_to_end <= TARGET_RATIO * bare),
            Figure(f"decode (draft mode) + preprocess, {photo}", decode_pre, bare_name, bare,
                   target="ratio < 1.0", ok=decode_pre < bare),
            Figure(f"decode at full size + preprocess (no draft mode), {photo}", full,
                   "decode (draft mode) + preprocess", decode_pre),
        ]
    return figures


def _threads(repeats: int, threads: int) -> list[Figure]:
    """Intra-op threads: on a shared 2-core server, PyTorch's thread pool waits for busy cores."""
    from explainer.classify import forward, preprocess
    from explainer.images import load_image

    loaded = _model()
    batch = preprocess(load_image(make_jpeg((640, 480))), loaded)
    figures: list[Figure] = []
    if threads > 1:
        samples: dict[int, list[float]] = {1: [], threads: []}
        # Blocks 1, N, 1, N (changing the pool size per call would itself cost time), warm-up per block.
        for count in (1, threads, 1, threads):
            block = stopwatch.time_call(lambda: forward(loaded, batch), runs=repeats // 2, warmup=3, threads=count)
            samples[count] += block.samples
        figures.append(Figure("bare MobileNetV2 forward, 1 intra-op thread", stopwatch.median(samples[1]),
                              f"bare MobileNetV2 forward, {threads} intra-op threads",
                              stopwatch.median(samples[threads])))
    return figures


if __name__ == "__main__":
    start = time.perf_counter()
    for figure in run():
        verdict = ", ok" if figure.ok else (", NOT MET" if figure.ok is False else "")
        target = f", {figure.target}" if figure.target else ""
        print(f"{figure.name}: {figure.value:.1f} {figure.unit} vs {figure.baseline_name}: "
              f"{figure.baseline:.1f} {figure.unit} (ratio {figure.ratio:.2f}{target}{verdict})")
    print(f"torch threads {torch.get_num_threads()}, {time.perf_counter() - start:.1f} s")
