"""Where a student's visit spends the server's CPU: the method behind the per-visit CPU figures.

    python bench/profile_visit.py                  # 10 visits one after another: CPU per visit
    python bench/profile_visit.py --py-spy         # the same, sampled by py-spy (200 Hz): shares by area
    python bench/profile_visit.py --visits 20 --at-once
    python bench/profile_visit.py --workers 1 --py-spy   # one worker behind nginx (static files off Python)
    python bench/profile_visit.py --workers 1 --py-spy --gil --rate 1000   # only the thread holding the GIL

A fresh server on 127.0.0.1 (``bench.server``), warmed up as in real use (the
first visitor opens Home, then one student does the whole visit), then
``--visits`` simulated students (the load test's browser-like visit: the page
and its assets, Classify with its sample photo, choose Upload, upload a shared
photo, the result and its images) one after another, or all at once with
``--at-once``. The server's CPU time (``/proc/<pid>/stat``, all threads) over
the visits divided by their number is the CPU per visit. With ``--py-spy``
(``pip install py-spy``) the server is sampled while the visits run and every
sample is put in one area by the innermost frame that names one (garbage
collection, torch, image work, plotly, static files, protobuf, the script
runner, …); the folded stacks are kept in ``test-artifacts/profile-visit.folded``
for a closer look (e.g. with a flame-graph viewer).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # `python bench/profile_visit.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import ROOT
from explainer.serving import stop_process

FOLDED = ROOT / "test-artifacts" / "profile-visit.folded"

# (area, substrings of a frame "function (file:line)"); the first area whose pattern appears in a stack,
# searched from the innermost frame outwards, gets the sample.
AREAS: list[tuple[str, tuple[str, ...]]] = [
    ("torch forward passes", ("torch/nn/modules", "torch/_ops", "_conv_forward", "_call_impl")),
    ("image decode / resize / encode (PIL, numpy)", ("PIL/", "explainer/images.py", "image_utils",
                                                    "numpy/")),
    ("plotly figures + JSON", ("plotly/", "explainer/figures/", "_plotly_utils", "json/encoder")),
    ("static files and media over HTTP (Starlette, uvicorn)", ("starlette/staticfiles", "starlette/responses",
                                                               "anyio/", "media_file", "uvicorn/protocols/http",
                                                               "static_files", "starlette_static")),
    ("protobuf / websocket", ("google/protobuf", "websockets/", "uvicorn/protocols/websockets",
                              "forward_msg", "SerializeToString", "websocket")),
    ("Streamlit script runner and elements", ("streamlit/",)),
    ("app code (pages/, explainer/)", ("pages/", "explainer/", "app.py")),
]


# Innermost frames that mean "waiting", not working (py-spy also samples threads that sleep or wait).
IDLE_LEAVES = ("select (selectors.py", "polling_path_watcher.py", "Condition.wait", "_worker (concurrent",
               "sleep", "Event.wait", "_wait_for_tstate_lock")
GC = "garbage collection (Streamlit's gc.collect after every script run)"
IDLE = "idle (waiting threads)"


def area_of(stack: str) -> str:
    frames = stack.split(";")[::-1]  # innermost first
    if any(pattern in frames[0] for pattern in IDLE_LEAVES):
        return IDLE
    if "_on_script_finished" in frames[0]:  # its only slow call is gc.collect(2) (C code: no frame of its own)
        return GC
    for frame in frames:
        for area, patterns in AREAS:
            if any(p in frame for p in patterns):
                return area
    return "other (idle event loops, threads)"


def summarise(folded: Path) -> list[tuple[str, int, float]]:
    """(area, samples, share) from py-spy's folded output, largest first; idle samples left out."""
    counts: Counter[str] = Counter()
    for line in folded.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        counts[area_of(stack)] += int(n)
    counts.pop(IDLE, None)
    total = sum(counts.values()) or 1
    return [(area, n, n / total) for area, n in counts.most_common()]


async def _visits(base_url: str, count: int, at_once: bool) -> list:
    from bench.loadtest import distinct_photo, shared_photos, student

    photos = shared_photos()
    # Every visit uploads its own bytes (as in the load test): no visit is a cache hit of another's photo.
    mine = [distinct_photo(photos[i % len(photos)], i) for i in range(count)]
    if at_once:
        start = time.perf_counter() + 0.2
        return list(await asyncio.gather(*(student(base_url, i, mine[i], "en", start) for i in range(count))))
    return [await student(base_url, i, mine[i], "en", 0.0) for i in range(count)]


def profile(visits: int = 10, at_once: bool = False, py_spy: bool = False, rate: int = 200,
            server_env: dict[str, str] | None = None, log=print, workers: int = 0, gil: bool = False) -> dict:
    """Measure (and with ``py_spy`` sample) ``visits`` visits on fresh warmed-up server(s).

    ``workers`` ≥ 1: that many workers behind nginx (as ``python -m explainer serve``), each warmed by one
    visit; CPU is summed over the workers and py-spy samples the first one. ``gil``: py-spy samples only
    the thread holding the GIL (shares of the Python CPU time; without it a thread blocked in a system call
    or waiting for the GIL is counted too).
    """
    from bench.loadtest import _cpu, _warm_up, serving, shared_photos, student

    spy = None
    name = "profile-visit" + (f"-w{workers}" if workers else "")
    with serving(workers, name, server_env) as (base_url, worker_pids, _balancer, worker_urls):
        first = asyncio.run(_warm_up(base_url, "en"))
        if not first.ok:
            raise RuntimeError(f"warm-up visit failed: {first.error}")
        for url in worker_urls:
            warm = asyncio.run(student(url, 0, shared_photos()[0], "en", 0.0))
            if not warm.ok:
                raise RuntimeError(f"warm-up visit on {url} failed: {warm.error}")
        pids = worker_pids()
        if py_spy:
            exe = shutil.which("py-spy")
            if exe is None:
                raise RuntimeError("--py-spy needs py-spy (pip install py-spy)")
            FOLDED.parent.mkdir(parents=True, exist_ok=True)
            spy = subprocess.Popen([exe, "record", "--pid", str(pids[0]), "--rate", str(rate), "--format", "raw",
                                    "--output", str(FOLDED), "--threads", "--nonblocking"] + (["--gil"] if gil else []),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # py-spy attaches
        cpu_before, wall_before = _cpu(pids), time.perf_counter()
        outcomes = asyncio.run(_visits(base_url, visits, at_once))
        cpu = _cpu(pids) - cpu_before
        wall = time.perf_counter() - wall_before
        stop_process(spy, timeout=60, sig=signal.SIGINT)  # SIGINT: py-spy writes its samples, then exits
    errors = [o.error for o in outcomes if not o.ok]
    result = {"visits": visits, "workers": workers, "at_once": at_once, "errors": len(errors), "server_cpu_s": cpu,
              "cpu_per_visit_s": cpu / visits, "wall_s": wall,
              "whole_visit_s": sorted(o.total_s for o in outcomes if o.ok)}
    where = f" on {workers} worker{'s' if workers > 1 else ''} behind nginx" if workers else " on one server"
    log(f"{visits} visits {'at once' if at_once else 'one after another'}{where}: {len(errors)} errors, server CPU "
        f"{cpu:.2f} s = {cpu / visits:.3f} s per visit, wall {wall:.1f} s")
    for e in errors[:3]:
        log(f"  error: {e}")
    if spy is not None and FOLDED.is_file():
        result["areas"] = summarise(FOLDED)
        log(f"py-spy samples by area ({FOLDED.relative_to(ROOT)}):")
        for area, n, share in result["areas"]:
            log(f"  {share * 100:5.1f} %  {n:6d}  {area}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visits", type=int, default=10, help="simulated visits (1-100)")
    parser.add_argument("--at-once", action="store_true", help="all visits at the same moment")
    parser.add_argument("--py-spy", action="store_true", help="sample the server with py-spy")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--gil", action="store_true",
                        help="py-spy: sample only the thread holding the GIL (where the Python CPU time goes)")
    parser.add_argument("--workers", type=int, default=0, help="N workers behind nginx (0: one server, no nginx)")
    args = parser.parse_args(argv)
    if not 1 <= args.visits <= 100:
        parser.error("--visits must be between 1 and 100")
    if not 0 <= args.workers <= 8:
        parser.error("--workers must be between 0 and 8")
    result = profile(args.visits, args.at_once, args.py_spy, args.rate, workers=args.workers, gil=args.gil)
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
