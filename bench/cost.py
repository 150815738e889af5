"""Cost page and cost CLI timings.

* Server-side rerun of the cost page after a slider move, measured with
  AppTest, against the rerun of a one-line page in the same run (Streamlit's
  own fixed cost). Target: median under 150 ms.
* ``python -m explainer cost --json`` wall time against ``python -c pass``.
* Expanding every MobileNet table at a new width and resolution
  (``build_network``, cache cleared: what a new setting on the Architectures
  page costs once) against the one-slider page rerun. Target: under 100 ms.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import Figure, median_ms, median_rerun_ms
from explainer import architectures

ROOT = Path(__file__).resolve().parent.parent
RERUN_TARGET_MS = 150.0
BUILD_TARGET_MS = 100.0


def _median_process_ms(argv: list[str], repeats: int) -> float:
    return median_ms(lambda: subprocess.run(argv, check=True, capture_output=True, cwd=ROOT), repeats, warmup=0)


def _build_all_ms(repeats: int) -> float:
    def build_all() -> None:
        architectures._build.cache_clear()
        for name in architectures.MODEL_NAMES:
            architectures.build_network(name, 0.9, 200)

    return median_ms(build_all, repeats=repeats)


def run(quick: bool = False) -> list[Figure]:
    repeats = 10 if quick else 30
    sizes = [14, 28, 56, 112, 224]

    def move_slider(at, i: int) -> None:
        at.slider(key="df").set_value(sizes[i % len(sizes)])

    with tempfile.TemporaryDirectory() as tmp:
        trivial = Path(tmp) / "trivial.py"
        trivial.write_text("import streamlit as st\nst.slider('x', 0, 10, key='x')\nst.write('hello')\n")

        def move_trivial(at, i: int) -> None:
            at.slider(key="x").set_value(i % 10)

        baseline = median_rerun_ms(str(trivial), repeats, move_trivial)
    page = median_rerun_ms(str(ROOT / "pages" / "cost.py"), repeats, move_slider)
    cli_repeats = 3 if quick else 7
    python_start = _median_process_ms([sys.executable, "-c", "pass"], cli_repeats)
    cli = _median_process_ms([sys.executable, "-m", "explainer", "cost", "--json"], cli_repeats)
    build = _build_all_ms(repeats)
    return [
        Figure("cost page rerun after a slider move (AppTest, median)", page,
               "one-slider page rerun", baseline, target=f"median < {RERUN_TARGET_MS:.0f} ms",
               ok=page < RERUN_TARGET_MS),
        Figure("`python -m explainer cost --json` (wall, median)", cli, "`python -c pass`", python_start),
        Figure(f"expand all {len(architectures.MODEL_NAMES)} MobileNet tables at a new width and resolution "
               "(build_network, uncached, median)",
               build, "one-slider page rerun", baseline, target=f"median < {BUILD_TARGET_MS:.0f} ms",
               ok=build < BUILD_TARGET_MS),
    ]


if __name__ == "__main__":
    for figure in run(quick="--quick" in sys.argv):
        print(f"{figure.name}: {figure.value:.1f} {figure.unit} vs {figure.baseline_name}: "
              f"{figure.baseline:.1f} {figure.unit} (×{figure.ratio:.2f}) {figure.target}")
