"""Cold start: from ``streamlit run app.py`` to the first page delivered to a visitor.

Baselines, measured in the same run: ``python -c "import streamlit"`` for the
server and the Home page (which needs no torch) and
``python -c "import streamlit, torch, torchvision"`` for the Classify page: the
import cost no Streamlit app of this kind can avoid. Each figure is the
median of ``repeats`` fresh servers (127.0.0.1, file watcher off, stopped by PID):

* cold start → the Home page fully delivered (``script_finished`` on a
  protocol-level session: every element sent);
* cold start → the Classify page fully delivered (first model load, first
  classification of the sample photo included).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # `python bench/startup.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Figure
from bench.server import ROOT, StreamlitServer
from bench.stclient import StreamlitSession

IMPORTS = "import streamlit, torch, torchvision"
IMPORT_STREAMLIT = "import streamlit"


def import_baseline_ms(code: str, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)
        samples.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(samples)


async def _first_page(base_url: str, page: str) -> None:
    async with StreamlitSession(base_url, timeout=180) as session:
        result = await session.open(page, "en")
        if result.status != "FINISHED_SUCCESSFULLY" or result.exceptions:
            raise RuntimeError(f"/{page} did not render cleanly: {result.status} {result.exceptions[:1]}")
        await session.fetch_media(result)


def cold_start_ms(page: str, repeats: int) -> tuple[float, float]:
    """Median (launch → health ok, launch → ``page`` delivered) in ms over fresh servers."""
    ready, delivered = [], []
    for _ in range(repeats):
        with StreamlitServer() as server:
            # The first visitor of a fresh server opens the entry page (see the deep-link
            # browser test for why a sub-page first is not measured here); Classify then.
            asyncio.run(_first_page(server.base_url, ""))
            if page:
                asyncio.run(_first_page(server.base_url, page))
            done = time.perf_counter()
            ready.append((server.ready_at - server.started_at) * 1000.0)
            delivered.append((done - server.started_at) * 1000.0)
    return statistics.median(ready), statistics.median(delivered)


def run(quick: bool = False) -> list[Figure]:
    repeats = 1 if quick else 3
    streamlit_only = import_baseline_ms(IMPORT_STREAMLIT, repeats)
    baseline = import_baseline_ms(IMPORTS, repeats)
    ready, home = cold_start_ms("", repeats)
    _, classify = cold_start_ms("classify", repeats)
    return [
        Figure("cold start → health endpoint ok", ready, f"`python -c \"{IMPORT_STREAMLIT}\"`", streamlit_only),
        Figure("cold start → Home page delivered", home, f"`python -c \"{IMPORT_STREAMLIT}\"`", streamlit_only),
        Figure("cold start → Home, then Classify delivered (model load + first classification)", classify,
               f"`python -c \"{IMPORTS}\"`", baseline),
    ]


if __name__ == "__main__":
    for figure in run(quick="--quick" in sys.argv):
        print(f"{figure.name}: {figure.value:.0f} {figure.unit} vs {figure.baseline_name}: "
              f"{figure.baseline:.0f} {figure.unit} (×{figure.ratio:.2f})")
