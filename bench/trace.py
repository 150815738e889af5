"""The "Inside a convolution" page: what a position change costs on the server, against a bare forward pass.

* **position change, fragment work** per layer (target: under 100 ms): what the page's position fragment
  computes on a position change — the trace itself plus the four figures serialised exactly as
  ``st.plotly_chart`` does (output map with one clickable marker per cell, window | kernel | products,
  running sum, the sliding-window animation with one frame per output column) — for the stem (the largest
  map, 112×112, 112 frames), a depthwise layer and the last 1×1 convolution (320 products).
* **position change, page rerun** (AppTest, median): the whole page script after moving x, an upper bound
  (AppTest reruns the whole script; in the browser only the position fragment reruns); the capture is
  cached, no forward pass.
* **the one capture** (forward pass keeping every convolution's input) against the bare forward pass.

Baseline: the bare MobileNetV2 forward pass on a prepared ``1×3×224×224`` tensor (1 intra-op thread),
measured in turns with the figures above. Run: ``python -m bench.trace``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from bench.common import (Figure, interleaved_ms, median_rerun_ms, print_table, torch_threads,
                          use_shared_weights)

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 100.0
LAYERS = (("stem", 7, 40, 60), ("b4.dw", 81, 10, 12), ("head", 5, 3, 4))


def _loaded():
    from explainer.weights import load_pretrained

    # Real weights when present (the shared folder or torchvision's cache), else random: the same work.
    return load_pretrained("mobilenet_v2", download=False, fallback=True)


def _photo():
    from explainer.images import WORKING_MIN_SIDE, load_image
    from explainer.samples import sample_bytes

    data, name = sample_bytes("chelsea")
    return load_image(data, name, min_side=WORKING_MIN_SIDE)


def _serialise(figure) -> int:
    """What ``st.plotly_chart`` does with a figure: ``return_figure_from_figure_or_data`` then ``to_json``."""
    import plotly.io
    import plotly.tools

    return len(plotly.io.to_json(plotly.tools.return_figure_from_figure_or_data(figure, validate_figure=True),
                                 validate=False))


def fragment_work(maps, model, stage: str, channel: int, y: int, x: int) -> int:
    """Everything the page's position fragment computes and serialises for one position (bytes sent)."""
    from explainer import trace as T
    from explainer.figures import trace as figs

    result = T.trace(maps, model, stage, channel, y, x)
    record = next(r for r in maps.records if r.name == stage)
    plane = record.tensor[channel].numpy()
    sent = _serialise(figs.output_map(plane, y, x, stage, "%{customdata:.4f}"))
    if result.kernel_size == 1:  # as the page: a 1×1 convolution is shown as its dot product over channels
        sent += _serialise(figs.channel_bars(T.channel_contributions(result), result.input_shape[0],
                                             {"channel": "ch {channel}", "rest": "{n}", "total": "{m}", "x": "x"}))
    else:
        sent += _serialise(figs.step_panels(result, ["w", "k", "p"], "pad 0", ["%{z}"] * 3))
    sent += _serialise(figs.running_sum(result, {k: k for k in ("running", "bias", "activation", "reference", "x")}))
    band = T.slide_band(maps, result, T.main_input_channel(result))
    sent += _serialise(figs.slide_animation(band, result.kernel_size, result.x, result.input_shape[1:],
                                            {k: k for k in ("input", "output", "play", "pause", "step")}))
    return sent


def _page_rerun_ms(repeats: int) -> float:
    """Median AppTest rerun of the page after a position change (no forward pass: the capture is cached)."""
    use_shared_weights()
    return median_rerun_ms(ROOT / "pages" / "conv_trace.py", repeats, warmup=2, timeout=180,
                           move=lambda at, i: at.number_input(key="x").set_value(i % 56))


def run(repeats: int = 20, threads: int = 1) -> list[Figure]:
    from explainer.classify import preprocess
    from explainer.features import capture, network_for

    with torch_threads(threads):
        loaded = _loaded()
        photo = _photo()
        batch = preprocess(photo, loaded)
        network = network_for(loaded)
        maps = capture(loaded.model, batch, network, keep_inputs=True)

        def bare() -> None:
            with torch.inference_mode():
                loaded.model(batch)

        fns = {"bare": bare, "capture": lambda: capture(loaded.model, batch, network, keep_inputs=True)}
        sizes: dict[str, int] = {}
        for stage, channel, y, x in LAYERS:
            moves = [0]

            def move(stage=stage, channel=channel, y=y, x=x, moves=moves) -> None:
                moves[0] += 1  # a different column each time, as a student stepping along a row
                sizes[stage] = fragment_work(maps, loaded.model, stage, channel, y, (x + moves[0]) % 7)

            fns[stage] = move
        ms = interleaved_ms(fns, max(5, repeats // 2))
        page_ms = _page_rerun_ms(max(5, repeats // 2))
    base = "bare forward MobileNetV2 (1 thread)"
    figures = [Figure("conv trace: position change, whole page rerun (AppTest, median; no forward pass; the "
                      "browser reruns only the position fragment)", page_ms, base, ms["bare"])]
    for stage, *_ in LAYERS:
        figures.append(Figure(f"conv trace: position change on {stage}, trace + 4 figures serialised "
                              f"({sizes[stage] / 1024:.0f} KB)", ms[stage], base, ms["bare"],
                              target=f"< {TARGET_MS:g} ms", ok=ms[stage] < TARGET_MS))
    figures.append(Figure("conv trace: the one capture (every stage + every convolution's input)", ms["capture"],
                          base, ms["bare"]))
    return figures


if __name__ == "__main__":
    print_table(run)
