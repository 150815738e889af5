"""Feature capture against the bare forward pass, same run, and the Feature-maps page's figures.

* **capture**: :func:`explainer.features.capture` — one forward pass with a
  hook on every stage (62 for MobileNetV2), keeping every output tensor.
  Target: at most 1.2× the bare forward pass of the same model on the same
  ``1×3×224×224`` tensor under ``torch.inference_mode()``, measured in turns.
* **capture + stats + float16**: what the page caches once per photo
  (exact zero fractions, mean, min, max in float32, then float16 copies).
* **64-channel grid**: :func:`explainer.figures.features.channel_grid` on the
  largest stage of V2 (block 2's expansion, 96 channels of 112×112), built and
  serialised to JSON as Streamlit does, with each channel's own colour range and
  with one shared range (plus its colour bar). Target: under 500 ms each.
* **slider move**: everything the page draws for a new block from the cached
  capture (bottleneck strip, 16-channel grid, enlarged channel over the photo)
  — no forward pass; the journey strip is drawn once per photo and language.
* **block slider move, whole page rerun** (AppTest, median): the page script
  after moving the block slider to a block not shown before in this process
  (the capture is cached: no forward pass; the figures of a view already shown
  are shared, so this is the dearer case), what a student's slider move costs
  the server.

Run: ``python -m bench.features``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from bench.common import (Figure, interleaved_ms, median_rerun_ms, print_table, torch_threads,
                          use_shared_weights)

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.2
TARGET_GRID_MS = 500.0


def _loaded(name: str):
    from explainer.weights import load_pretrained

    # Weights do not change the time of a forward pass; real ones when present, else random.
    return load_pretrained(name, download=False, fallback=True)


def _photo():
    from explainer.samples import sample_bytes
    from explainer.images import WORKING_MIN_SIDE, load_image

    data, name = sample_bytes("chelsea")
    return load_image(data, name, min_side=WORKING_MIN_SIDE)


def _capture_figures(name: str, repeats: int) -> list[Figure]:
    from explainer.features import capture, network_for

    loaded = _loaded(name)
    batch = torch.randn(1, 3, loaded.input_size, loaded.input_size, generator=torch.Generator().manual_seed(0))
    network = network_for(loaded)
    stages = len(capture(loaded.model, batch, network).records)

    def bare() -> None:
        with torch.inference_mode():
            loaded.model(batch)

    def hooked() -> None:
        capture(loaded.model, batch, network)

    def cached() -> None:
        capture(loaded.model, batch, network).compact()

    fns = {"bare": bare, "capture": hooked}
    if name == "mobilenet_v2":
        fns["compact"] = cached
    ms = interleaved_ms(fns, repeats)
    label = loaded.display_name
    figures = [Figure(f"features {label}: capture of all {stages} stages (hooks)", ms["capture"],
                      f"bare forward {label}", ms["bare"], target=f"ratio <= {TARGET_RATIO:g}",
                      ok=ms["capture"] <= TARGET_RATIO * ms["bare"])]
    if "compact" in ms:
        figures.append(Figure(f"features {label}: capture + stats + float16 (the page's one cached run)",
                              ms["compact"], f"bare forward {label}", ms["bare"]))
    return figures, ms["bare"]


def _figure_figures(repeats: int, bare_ms: float) -> list[Figure]:
    from explainer.features import capture_image, top_channels
    from explainer.figures import features as figs

    maps = capture_image(_photo(), _loaded("mobilenet_v2")).compact()
    record = maps.record(2, "expand")
    figs.channel_grid(record, top_channels(record, 8)).to_json()  # colour tables, once per process

    def grid() -> None:
        figs.channel_grid(record, top_channels(record, 64), normalise="channel").to_json()

    def grid_shared() -> None:
        figs.channel_grid(record, top_channels(record, 64), normalise="shared").to_json()

    block = [7]

    def slider_move() -> None:
        records = maps.block(block[0])
        figs.path_strip(records).to_json()
        stage = records[1]
        figs.channel_grid(stage, top_channels(stage, 16)).to_json()
        figs.channel_figure(stage, top_channels(stage, 1)[0], photo=maps.input_image).to_json()
        block[0] = 7 if block[0] == 12 else 12

    def journey() -> None:
        figs.journey_strip(maps).to_json()

    ms = interleaved_ms({"grid": grid, "grid_shared": grid_shared, "move": slider_move, "journey": journey},
                        max(3, repeats // 2), warmup=1)
    return [
        Figure("features: 64-channel grid figure (96×112×112 stage, build + JSON)", ms["grid"],
               "bare forward MobileNetV2", bare_ms, target=f"< {TARGET_GRID_MS:g} ms", ok=ms["grid"] < TARGET_GRID_MS),
        Figure("features: 64-channel grid figure, shared colour range + colour bar (build + JSON)",
               ms["grid_shared"], "bare forward MobileNetV2", bare_ms, target=f"< {TARGET_GRID_MS:g} ms",
               ok=ms["grid_shared"] < TARGET_GRID_MS),
        Figure("features: block slider move (strip, 16-channel grid, enlarged channel; no forward pass)",
               ms["move"], "bare forward MobileNetV2", bare_ms),
        Figure("features: journey strip (drawn once per photo and language, then cached)", ms["journey"],
               "bare forward MobileNetV2", bare_ms),
    ]


#: The blocks the page rerun visits in turn: every MobileNetV2 block but the default 3, each drawn once.
NEW_BLOCKS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 0, 1, 2)


def _page_rerun_ms(repeats: int) -> float:
    """Median AppTest rerun of pages/feature_maps.py after a block slider move to a block not shown before (no
    forward pass: the capture is cached; no figure of that view is cached yet)."""
    use_shared_weights()
    blocks = NEW_BLOCKS[:repeats + 2]
    return median_rerun_ms(ROOT / "pages" / "feature_maps.py", len(blocks) - 2, warmup=2, timeout=180,
                           move=lambda at, i: at.select_slider(key="features_block_mobilenet_v2").set_value(blocks[i]))


def run(repeats: int = 30, threads: int = 1) -> list[Figure]:
    """All figures, with ``threads`` intra-op threads (1: stable on a shared machine, as ``bench/classify.py``)."""
    with torch_threads(threads):
        figures, bare_v2 = _capture_figures("mobilenet_v2", repeats)
        for name in ("mobilenet_v3_large", "mobilenet_v1"):
            more, _ = _capture_figures(name, repeats)
            figures += more
        figures += _figure_figures(repeats, bare_v2)
        figures.append(Figure("features: block slider move to a new block, whole page rerun (AppTest, median; "
                              "no forward pass)",
                              _page_rerun_ms(max(5, repeats // 2)), "bare forward MobileNetV2", bare_v2))
    return figures


if __name__ == "__main__":
    print_table(run)
