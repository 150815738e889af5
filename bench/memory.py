"""A worker's memory across every page: the figures deploy/ sizes its workers by (deploy/README.md, "Sizing").

One Streamlit server (``streamlit run app.py``, the shared weights, downloads off) is opened on Home by one
visitor, then every page of the app's menu in turn, each with its default settings (so Classify classifies the
default sample, Applications segments it, Compression quantizes MobileNetV2, the lightweight family starts timing
its 18 models in the background). The figures: resident memory after Home (a warm worker), after the last page,
and the peak (``VmHWM``) once the server has gone quiet again (the family page's timing done), against the
memory limit of one worker in deploy/k8s/deployment.yaml and deploy/systemd (2 GiB).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench.common import Figure
from bench.server import StreamlitServer, cpu_seconds, rss_mb

#: One worker's memory limit in deploy/ (k8s limits.memory 2Gi, systemd MemoryMax=2G), in MB.
LIMIT_MB = 2048.0


def peak_mb(pid: int) -> float:
    """The process's peak resident memory so far (``VmHWM``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmHWM for pid {pid}")


def _wait_quiet(pid: int, timeout: float, idle_cpu_s: float = 0.1, window: float = 3.0) -> float:
    """Wait until the server used less than ``idle_cpu_s`` of CPU in ``window`` seconds; returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        before = cpu_seconds(pid)
        time.sleep(window)
        if cpu_seconds(pid) - before < idle_cpu_s:
            break
    return time.monotonic() - start


async def _visit_every_page(base_url: str, pid: int) -> tuple[float, list[str], float]:
    from bench.stclient import StreamlitSession

    async with StreamlitSession(base_url, timeout=600) as session:
        first = await session.open("", "en")
        if first.status not in ("FINISHED_SUCCESSFULLY",):
            raise RuntimeError(f"Home: {first.status}")
        warm = rss_mb(pid)
        pages = [page for page in session.app_pages if page]
        if not pages:
            raise RuntimeError("the app sent no navigation")
        for page in pages:
            result = await session.rerun(page=page, query="lang=en")
            if result.status != "FINISHED_SUCCESSFULLY" or result.exceptions:
                raise RuntimeError(f"/{page}: {result.status} {result.exceptions[:1]}")
        return warm, pages, rss_mb(pid)


def run(quick: bool = False) -> list[Figure]:
    with StreamlitServer(extra_env={"EXPLAINER_OFFLINE": "1"}, startup_timeout=180) as server:
        warm, pages, after = asyncio.run(_visit_every_page(server.base_url, server.pid))
        _wait_quiet(server.pid, timeout=120 if quick else 600)
        settled, peak = rss_mb(server.pid), peak_mb(server.pid)
    base = "warm worker RSS (Home opened once)"
    return [
        Figure(f"worker RSS after opening every page of the menu once ({len(pages) + 1} pages, default settings)",
               after, base, warm, unit="MB"),
        Figure("worker RSS once the server is quiet again (the family page's background timing done)", settled,
               base, warm, unit="MB"),
        Figure("worker peak RSS (VmHWM) over all of it", peak, base, warm, unit="MB",
               target=f"< {LIMIT_MB:.0f} MB (one worker's limit in deploy/)", ok=peak < LIMIT_MB),
    ]


if __name__ == "__main__":
    for figure in run():
        print(f"{figure.name}: {figure.value:.0f} MB (baseline {figure.baseline:.0f} MB; {figure.target})")
