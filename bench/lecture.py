"""Lecture tools: what the link state, the share panel and its QR code add to a rerun.

* The cost page rerun after a slider move through ``app.py`` (language switch, presenter switch, link state,
  "Share this view" with the link) against the same page run alone, in the same run (AppTest, median).
* The same with the panel's QR code switched on (only a lecturer who asks for it pays this).
* Making one QR code for a new link (segno, then a one-pixel-per-module PNG), against the page alone.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from bench.common import Figure, median_ms, median_rerun_ms

ROOT = Path(__file__).resolve().parent.parent
SIZES = [14, 28, 56, 112, 224]


def _move_slider(at, i: int) -> None:
    at.slider(key="df").set_value(SIZES[i % len(SIZES)])


def _through_app(qr: bool = False):
    """Open the cost page through ``app.py``; with ``qr``, switch the share panel's QR code on first."""

    def setup(at) -> None:
        at.switch_page("pages/cost.py")
        if qr:
            at.run()
            at.toggle(key="share_qr").set_value(True)

    return setup


def run(quick: bool = False) -> list[Figure]:
    import segno

    repeats = 10 if quick else 30
    os.environ.setdefault("EXPLAINER_PUBLIC_URL", "http://192.168.1.20:8501")  # a link exists in AppTest too
    alone = median_rerun_ms(ROOT / "pages" / "cost.py", repeats, _move_slider)
    through_app = median_rerun_ms(ROOT / "app.py", repeats, _move_slider, _through_app())
    with_qr = median_rerun_ms(ROOT / "app.py", repeats, _move_slider, _through_app(qr=True))
    counter = iter(range(10**6))

    def make_qr() -> None:
        link = f"http://192.168.1.20:8501/cost?lang=zh&dk=5&m=64&n=128&df={next(counter)}&s=2"
        segno.make(link, error="m", micro=False).save(io.BytesIO(), kind="png", scale=1, border=4)

    qr_ms = median_ms(make_qr, repeats=repeats)
    name_alone = "cost page alone, rerun after a slider move"
    return [
        Figure("cost page through app.py (sidebar, link state, share link), rerun after a slider move",
               through_app, name_alone, alone),
        Figure("… with the share panel's QR code switched on", with_qr, name_alone, alone),
        Figure("one QR code for a new link (segno + 1-pixel-per-module PNG)", qr_ms, name_alone, alone),
    ]


if __name__ == "__main__":
    for figure in run(quick="--quick" in sys.argv):
        print(f"{figure.name}: {figure.value:.1f} {figure.unit} vs {figure.baseline_name}: "
              f"{figure.baseline:.1f} {figure.unit} (×{figure.ratio:.2f}) {figure.target}")
