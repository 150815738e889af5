"""Lecture-hall load test: N students open the Classify page at the same moment and classify a photo.

    python bench/loadtest.py                 # N = 20 and 60 against a fresh local server
    python bench/loadtest.py -n 60 --json    # one size, machine-readable

Each simulated student is a session speaking Streamlit's own websocket protocol
(:mod:`bench.stclient`), doing what the browser does: open ``/classify`` (the page
classifies its sample photo), switch the photo source to "Upload", upload one of
the shared test photos through the file uploader (its own copy: cropped by a few
random pixels and re-encoded, :func:`distinct_photo`, so no two students send the
same bytes and the per-photo caches see what a real hall sends), wait for the top-5 chart and
fetch the images the page shows. A session counts as an error if anything fails,
an exception is rendered, or none of the photo's acceptable labels
(``../shared/images/expected.json``) is in the result.

A simulated student costs the server what a browser tab costs it: it loads the
page's HTML, scripts, stylesheet and fonts, the component chunks and the images
(``browser_like`` in :mod:`bench.stclient`), sends every widget's state on each
rerun, and the server is warmed up as in real use (the first visitor opens Home).

``--workers N`` starts N workers behind nginx (``python -m explainer serve``'s
:class:`explainer.serving.Cluster`, loopback only) and sends the students
through it; server CPU and RSS are then the sums over the workers. ``--json``
prints one JSON object on the last line (``sessions``, ``workers``, ``errors``,
``upload_to_result_p50_s``, ``upload_to_result_p95_s``, ``whole_visit_p95_s``,
``server_cpu_s_per_visit``, ``rss_growth_mb``, … and, for several crowd sizes,
``runs`` with one such object per size).

Bounded: one run per session, a per-session timeout and an overall deadline;
the servers are started on 127.0.0.1 with ``--server.fileWatcherType none`` and
stopped by their PIDs. Server RSS is read from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

if __package__ in (None, ""):  # `python bench/loadtest.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import ROOT, SHARED, StreamlitServer, cpu_seconds, rss_mb
from bench.stclient import FINISHED_OK, RunResult, StreamlitSession
from explainer.i18n import t

PAGE = "classify"
SOURCE_KEY = "classify_source"  # the photo-source radio of pages/image_input.py on the Classify page
SESSION_TIMEOUT = 180.0  # seconds, per session
TARGET_P95_S = 15.0
TARGET_RSS_GROWTH_MB = 300.0


def visit_targets(sessions: int, workers: int, ramp: float) -> dict[str, float]:
    """The lecture-hall targets (issue 14) for a crowd: p95 limits in seconds (absent: no target)."""
    if workers >= 2:
        return {"whole_visit_p95_s": 10.0, "upload_to_result_p95_s": TARGET_P95_S}
    if sessions <= 60:
        return {"whole_visit_p95_s": 5.0, "upload_to_result_p95_s": 2.0}
    return {"upload_to_result_p95_s": TARGET_P95_S}


@dataclass
class Photo:
    name: str
    data: bytes
    accepted: list[str]


def distinct_photo(photo: Photo, index: int) -> Photo:
    """``photo`` as student ``index`` uploads it: cropped by 1–12 pixels on each side (a seeded random crop) and
    re-encoded, so every simulated student sends different bytes. A lecture hall never uploads the same file twice,
    and the app's per-photo caches (keyed by content) must not turn 56 of 60 uploads into cache hits."""
    import io
    import random

    from PIL import Image

    rng = random.Random(index)
    image = Image.open(io.BytesIO(photo.data)).convert("RGB")
    left, top, right, bottom = (rng.randint(1, 12) for _ in range(4))
    cropped = image.crop((left, top, image.width - right, image.height - bottom))
    out = io.BytesIO()
    cropped.save(out, "JPEG", quality=rng.randint(88, 94))
    stem = photo.name.rsplit(".", 1)[0]
    return Photo(f"{stem}_{index}.jpg", out.getvalue(), photo.accepted)


def shared_photos() -> list[Photo]:
    folder = SHARED / "images"
    expected = json.loads((folder / "expected.json").read_text())
    return [Photo(name, (folder / name).read_bytes(), entry["top5_any"])
            for name, entry in sorted(expected.items()) if not name.startswith("_")]


@dataclass
class SessionOutcome:
    index: int
    photo: str
    ok: bool = False
    error: str = ""
    open_s: float = float("nan")  # connect → Classify page rendered (with its sample photo classified)
    result_s: float = float("nan")  # upload starts → top-5 of the uploaded photo rendered, images fetched
    total_s: float = float("nan")  # connect → result
    http_retries: int = 0  # HTTP requests re-sent after the server closed an idle keep-alive connection
    retry_log: list[str] = field(default_factory=list)


def _radio(result: RunResult, key: str):
    for radio in result.widgets.get("radio", []):
        if radio.id.endswith(key):
            return radio
    raise RuntimeError(f"no radio {key!r} on the page")


def _problems(result: RunResult) -> str:
    if result.status not in FINISHED_OK:
        return f"script run ended with {result.status or 'nothing'}"
    if result.exceptions:
        return "exception on the page: " + result.exceptions[0][:200]
    return ""


async def student(base_url: str, index: int, photo: Photo, lang: str, start_at: float) -> SessionOutcome:
    """One student: open the page, choose Upload, upload the photo, see the result."""
    outcome = SessionOutcome(index=index, photo=photo.name)
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    began = time.perf_counter()
    session = StreamlitSession(base_url, timeout=SESSION_TIMEOUT, browser_like=True)
    step = "open the page"
    try:
        opened = await session.open(PAGE, lang)
        if problem := _problems(opened):
            raise RuntimeError(problem)
        step = "fetch the page's images"
        await session.fetch_media(opened)
        outcome.open_s = time.perf_counter() - began
        # Photo source → "Upload" (the radio's value is its shown option text).
        step = "choose Upload"
        radio = _radio(opened, SOURCE_KEY)
        upload_label = t("images.source_upload", lang)
        if upload_label not in radio.options:
            raise RuntimeError(f"no {upload_label!r} among the photo sources {list(radio.options)}")
        session.set_widget(radio.id, string_value=upload_label)
        waiting = await session.rerun()
        if problem := _problems(waiting):
            raise RuntimeError(problem)
        uploader = waiting.widget("file_uploader")
        step = "upload"
        upload_start = time.perf_counter()
        shown = await session.upload(uploader.id, photo.name, photo.data)
        if problem := _problems(shown):
            raise RuntimeError(problem)
        step = "fetch the result's images"
        await session.fetch_media(shown)
        outcome.result_s = time.perf_counter() - upload_start
        outcome.total_s = time.perf_counter() - began
        step = "check the labels"
        if not any(shown.has_text(label) for label in photo.accepted):
            raise RuntimeError(f"{photo.name}: none of {photo.accepted} in the result")
        outcome.ok = True
    except Exception as error:  # noqa: BLE001 - every failure is one counted error
        outcome.error = f"{step}: {type(error).__name__}: {error}"[:300]
    finally:
        outcome.http_retries = session.http_retries
        outcome.retry_log = session.retry_log
        try:
            await asyncio.wait_for(session.close(), timeout=10)
        except Exception:  # noqa: BLE001
            pass
    return outcome


async def browser_student(browser, base_url: str, index: int, photo: Photo, lang: str,
                          start_at: float) -> SessionOutcome:
    """The same visit in a real Chromium tab (Playwright's async API): a realism check on the protocol client."""
    import re

    outcome = SessionOutcome(index=index, photo=f"{photo.name} (Chromium)")
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    began = time.perf_counter()
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    timeout_ms = SESSION_TIMEOUT * 1000
    try:
        page = await context.new_page()
        page.set_default_timeout(timeout_ms)
        await page.goto(f"{base_url}/{PAGE}?lang={lang}")
        await page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')  # the sample photo's result
        outcome.open_s = time.perf_counter() - began
        await page.get_by_text(t("images.source_upload", lang), exact=True).first.click()
        file_input = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
        await file_input.wait_for(state="attached")
        await page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        upload_start = time.perf_counter()
        await file_input.set_input_files(files=[{"name": photo.name, "mimeType": "image/jpeg",
                                                 "buffer": photo.data}])
        pattern = "|".join(re.escape(label) for label in photo.accepted)
        await page.wait_for_function(
            "re => { const m = document.querySelector('[data-testid=\"stMainBlockContainer\"]');"
            " return m && new RegExp(re).test(m.innerText)"
            " && document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 2"
            " && [...document.querySelectorAll('[data-testid=\"stImage\"] img')].every(i => i.complete); }",
            arg=pattern)
        outcome.result_s = time.perf_counter() - upload_start
        outcome.total_s = time.perf_counter() - began
        if await page.locator('[data-testid="stException"]').count():
            raise RuntimeError("exception on the page")
        outcome.ok = True
    except Exception as error:  # noqa: BLE001
        outcome.error = f"Chromium: {type(error).__name__}: {error}"[:300]
    finally:
        await context.close()
    return outcome


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation; nan for no values."""
    data = sorted(v for v in values if v == v)
    if not data:
        return float("nan")
    if len(data) == 1:
        return data[0]
    position = q * (len(data) - 1)
    low = int(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)


@dataclass
class LoadReport:
    sessions: int
    workers: int  # 0: one Streamlit server without a balancer; N: N workers behind nginx
    lang: str
    ramp_s: float
    errors: int
    error_samples: list[str]
    open_p50_s: float
    open_p95_s: float
    result_p50_s: float
    result_p95_s: float
    result_max_s: float
    total_p50_s: float
    total_p95_s: float
    wall_s: float
    server_cpu_s: float  # CPU time the server used during the crowd (all its threads; all workers)
    generator_cpu_s: float  # CPU time this load generator used (it shares the cores)
    rss_before_mb: float
    rss_peak_mb: float
    rss_after_mb: float
    rss_growth_mb: float
    browser_results_s: list[float] = field(default_factory=list)  # upload→result seen in real Chromium tabs
    browser_visits: list[tuple[float, float, float]] = field(default_factory=list)  # (open, result, whole visit)
    http_retries: int = 0  # requests re-sent on a just-closed keep-alive connection (as browsers do)
    retry_samples: list[str] = field(default_factory=list)
    balancer_cpu_s: float = 0.0  # CPU time nginx used (with --workers)
    outcomes: list[SessionOutcome] = field(default_factory=list, repr=False)

    def summary(self) -> dict:
        """The figures ``--json`` prints, named as the issue asks."""
        return {
            "sessions": self.sessions, "workers": self.workers, "errors": self.errors,
            "upload_to_result_p50_s": round(self.result_p50_s, 3),
            "upload_to_result_p95_s": round(self.result_p95_s, 3),
            "whole_visit_p95_s": round(self.total_p95_s, 3), "whole_visit_p50_s": round(self.total_p50_s, 3),
            "open_page_p95_s": round(self.open_p95_s, 3),
            "server_cpu_s_per_visit": round(self.server_cpu_s / max(1, self.sessions), 4),
            "balancer_cpu_s_per_visit": round(self.balancer_cpu_s / max(1, self.sessions), 4),
            "rss_growth_mb": round(self.rss_growth_mb, 1), "rss_before_mb": round(self.rss_before_mb, 1),
            "wall_s": round(self.wall_s, 2), "ramp_s": self.ramp_s, "error_samples": self.error_samples,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }

    @property
    def meets_target(self) -> bool:
        return self.errors == 0 and self.result_p95_s < TARGET_P95_S and self.rss_growth_mb < TARGET_RSS_GROWTH_MB


def _rss(pids: list[int]) -> float:
    return sum(rss_mb(pid) for pid in pids)


def _cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def _children(pid: int) -> list[int]:
    """``pid`` and its direct children (nginx: the master and its worker)."""
    found = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            children = (task / "children").read_text().split()
            found += [int(c) for c in children]
    except OSError:
        pass
    return found


async def _sample_rss(pids: list[int], peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], _rss(pids))
        try:
            await asyncio.wait_for(stop.wait(), timeout=0.25)
        except asyncio.TimeoutError:
            pass


async def _crowd(base_url: str, pids: list[int], sessions: int, lang: str, ramp: float, deadline_s: float,
                 browsers: int = 0, balancer_pids: list[int] | None = None) -> LoadReport:
    """``sessions`` students; the first ``browsers`` of them (spread over the crowd) use real Chromium tabs."""
    photos = shared_photos()
    playwright = chromium = None
    in_browser: set[int] = set()
    if browsers:
        from playwright.async_api import async_playwright

        from tests.e2e.helpers import CHROMIUM_ARGS, chromium_path

        executable = chromium_path()
        if executable is None:
            raise RuntimeError("--browsers needs Chromium (apt-get install -y chromium)")
        playwright = await async_playwright().start()
        chromium = await playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        in_browser = {round(k * sessions / browsers) for k in range(browsers)}
    balancer_pids = balancer_pids or []
    rss_before = _rss(pids)
    server_cpu_before, own_cpu_before = _cpu(pids), time.process_time()
    balancer_before = _cpu(balancer_pids)
    peak = [rss_before]
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample_rss(pids, peak, stop))
    start = time.perf_counter() + 0.5
    tasks = []
    for i in range(sessions):
        at = start + (ramp * i / max(1, sessions - 1) if ramp else 0.0)
        mine = distinct_photo(photos[i % len(photos)], i)  # every student's own bytes: no shared cache hits
        if i in in_browser:
            tasks.append(asyncio.create_task(browser_student(chromium, base_url, i, mine, lang, at)))
        else:
            tasks.append(asyncio.create_task(student(base_url, i, mine, lang, at)))
    done, pending = await asyncio.wait(tasks, timeout=deadline_s)
    for task in pending:
        task.cancel()
    outcomes = [task.result() for task in done]
    outcomes += [SessionOutcome(index=-1, photo="?", error="overall deadline reached") for _ in pending]
    wall = time.perf_counter() - start
    server_cpu, own_cpu = _cpu(pids) - server_cpu_before, time.process_time() - own_cpu_before
    balancer_cpu = _cpu(balancer_pids) - balancer_before
    stop.set()
    await sampler
    if playwright is not None:
        await chromium.close()
        await playwright.stop()
    rss_after = _rss(pids)
    failed = [o for o in outcomes if not o.ok]
    good = [o for o in outcomes if o.ok]
    return LoadReport(
        sessions=sessions, workers=0, lang=lang, balancer_cpu_s=balancer_cpu, ramp_s=ramp, errors=len(failed),
        error_samples=sorted({o.error for o in failed})[:5],
        open_p50_s=percentile([o.open_s for o in good], 0.5), open_p95_s=percentile([o.open_s for o in good], 0.95),
        result_p50_s=percentile([o.result_s for o in good], 0.5),
        result_p95_s=percentile([o.result_s for o in good], 0.95),
        result_max_s=max((o.result_s for o in good), default=float("nan")),
        total_p50_s=percentile([o.total_s for o in good], 0.5), total_p95_s=percentile([o.total_s for o in good], 0.95),
        wall_s=wall, server_cpu_s=server_cpu, generator_cpu_s=own_cpu, rss_before_mb=rss_before, rss_peak_mb=peak[0], rss_after_mb=rss_after,
        rss_growth_mb=rss_after - rss_before, outcomes=outcomes,
        browser_results_s=[o.result_s for o in outcomes if o.ok and o.photo.endswith("(Chromium)")],
        browser_visits=[(o.open_s, o.result_s, o.total_s) for o in outcomes if o.ok and o.photo.endswith("(Chromium)")],
        http_retries=sum(o.http_retries for o in outcomes),
        retry_samples=sorted({line for o in outcomes for line in o.retry_log})[:6],
    )


async def _warm_up(base_url: str, lang: str) -> SessionOutcome:
    """As in real use: the first visitor opens Home (the lecturer's projector), then one student does the visit."""
    photo = shared_photos()[0]
    session = StreamlitSession(base_url, browser_like=True)  # the entry page (Home), as most first visitors
    try:
        if problem := _problems(await session.open("", lang)):
            raise RuntimeError(f"Home: {problem}")
    finally:
        await session.close()
    return await student(base_url, 0, photo, lang, 0.0)


@contextmanager
def serving(workers: int, log_name: str, server_env: dict[str, str] | None = None
            ) -> Iterator[tuple[str, Callable[[], list[int]], list[int], list[str]]]:
    """``(base_url, worker_pids(), balancer_pids, worker_urls)``: one server (``workers=0``) or N behind nginx."""
    if workers <= 0:
        with StreamlitServer(log_path=ROOT / "test-artifacts" / f"{log_name}.log", extra_env=server_env) as server:
            yield server.base_url, (lambda: [server.pid]), [], []
        return
    from bench.server import free_port, weights_dir
    from explainer.serving import Cluster

    env = dict(server_env or {})
    folder = weights_dir()
    if folder is not None and "EXPLAINER_WEIGHTS_DIR" not in os.environ:
        env.setdefault("EXPLAINER_WEIGHTS_DIR", str(folder.resolve()))
    run_dir = ROOT / "test-artifacts" / log_name
    with Cluster(workers=workers, port=free_port(), host="127.0.0.1", run_dir=run_dir, extra_env=env,
                 log=lambda line: None) as cluster:
        yield (cluster.url, (lambda: [w.pid for w in cluster.workers]), _children(cluster.nginx.pid),
               [w.url for w in cluster.workers])


def run_load(sizes: list[int], lang: str = "en", ramp: float = 0.0, deadline_s: float = 600.0,
             log=print, server_env: dict[str, str] | None = None, browsers: int = 0,
             workers: int = 0) -> tuple[dict, list[LoadReport]]:
    """For each crowd size: fresh server(s), warm-up (Home, then one student), then the crowd; stopped by PID.

    Returns ``(info, reports)``; ``info`` has the first server's cold and warm RSS
    and one student's times alone on a warm server (the baseline for the crowd).
    With ``workers`` ≥ 1 the students go through nginx to that many workers.
    """
    info: dict = {}
    reports = []
    for size in sizes:
        name = f"loadtest-{size}" + (f"-w{workers}" if workers else "")
        with serving(workers, name, server_env) as (base_url, worker_pids, balancer_pids, worker_urls):
            cold = _rss(worker_pids())
            first = asyncio.run(_warm_up(base_url, lang))
            if not first.ok:
                raise RuntimeError(f"a single student already fails: {first.error}")
            for url in worker_urls:  # each worker as after its first student (the model loaded once per process)
                warm = asyncio.run(student(url, 0, shared_photos()[0], lang, 0.0))
                if not warm.ok:
                    raise RuntimeError(f"a single student on worker {url} fails: {warm.error}")
            cpu_before = _cpu(worker_pids())
            alone = asyncio.run(student(base_url, 0, shared_photos()[1], lang, 0.0))
            alone_cpu = _cpu(worker_pids()) - cpu_before
            if not alone.ok:
                raise RuntimeError(f"a single student already fails: {alone.error}")
            if not info:
                info = {"rss_cold_mb": cold, "rss_warm_mb": _rss(worker_pids()), "alone_open_s": alone.open_s,
                        "alone_result_s": alone.result_s, "alone_total_s": alone.total_s,
                        "alone_cpu_s": alone_cpu}
                log(f"server{'s' if workers > 1 else ''}: RSS {cold:.0f} MB cold, {info['rss_warm_mb']:.0f} MB "
                    f"after two students; one student alone: open {alone.open_s:.2f} s, upload→result "
                    f"{alone.result_s:.2f} s, whole visit {alone.total_s:.2f} s")
            report = asyncio.run(_crowd(base_url, worker_pids(), size, lang, ramp, deadline_s, browsers,
                                        balancer_pids=balancer_pids))
            report.workers = workers
        reports.append(report)
        log(format_report(report))
    return info, reports


def format_report(r: LoadReport) -> str:
    verdict = "meets" if r.meets_target else "MISSES"
    lines = [
        f"{r.sessions} sessions ({r.lang}, ramp {r.ramp_s:g} s"
        + (f", {r.workers} worker{'s' if r.workers > 1 else ''} behind nginx" if r.workers else ", one server")
        + f"): {r.errors} errors; "
        f"upload→result p50 {r.result_p50_s:.2f} s, p95 {r.result_p95_s:.2f} s (max {r.result_max_s:.2f} s); "
        f"open page p50 {r.open_p50_s:.2f} s, p95 {r.open_p95_s:.2f} s; "
        f"whole visit p50 {r.total_p50_s:.2f} s, p95 {r.total_p95_s:.2f} s; wall {r.wall_s:.1f} s",
        f"  CPU: server {r.server_cpu_s:.1f} s ({r.server_cpu_s / r.sessions:.2f} s per visit), "
        + (f"nginx {r.balancer_cpu_s:.1f} s, " if r.workers else "")
        + f"load generator {r.generator_cpu_s:.1f} s, over {r.wall_s:.1f} s of wall time on {os.cpu_count()} cores"
        + f" (load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())})",
        f"  server RSS {r.rss_before_mb:.0f} MB before, {r.rss_peak_mb:.0f} MB peak, {r.rss_after_mb:.0f} MB after "
        f"(growth {r.rss_growth_mb:+.0f} MB) — {verdict} the target (0 errors, p95 < {TARGET_P95_S:g} s, "
        f"growth < {TARGET_RSS_GROWTH_MB:g} MB)",
    ]
    if r.http_retries:
        lines.append(f"  {r.http_retries} HTTP request(s) re-sent after the server closed an idle keep-alive "
                     "connection (browsers do the same)")
        lines += [f"  re-sent: {line}" for line in r.retry_samples]
    if r.browser_visits:
        lines.append("  real Chromium tabs among them (open page / upload→result / whole visit): "
                     + "; ".join(f"{a:.2f} / {b:.2f} / {c:.2f} s" for a, b, c in r.browser_visits))
    lines += [f"  error: {e}" for e in r.error_samples]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--sessions", type=int, action="append",
                        help="concurrent sessions (repeatable; default: 20 and 60)")
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    parser.add_argument("--ramp", type=float, default=0.0, help="spread the arrivals over this many seconds")
    parser.add_argument("--deadline", type=float, default=600.0, help="overall limit per crowd, seconds")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for the server, e.g. OMP_NUM_THREADS=1 (repeatable)")
    parser.add_argument("--browsers", type=int, default=0,
                        help="of the sessions, this many are real Chromium tabs (a realism check; ~0.3 GB each)")
    parser.add_argument("--workers", type=int, default=0,
                        help="N workers behind nginx (python -m explainer serve's setup); 0: one server, no balancer")
    parser.add_argument("--json", action="store_true",
                        help="progress on stderr; the last line of stdout is one JSON object with the figures")
    parser.add_argument("--scenario", choices=("classify", "vote"), default="classify",
                        help="classify: upload a photo (default); vote: a lecture room — join, follow a step "
                        "change, answer (bench/vote.py)")
    parser.add_argument("--postgres", action="store_true",
                        help="vote: the room's store on a throwaway PostgreSQL cluster instead of an SQLite file")
    args = parser.parse_args(argv)
    sizes = args.sessions or [20, 60]
    if args.scenario == "vote":
        from bench import vote

        if len(sizes) != 1 or not 1 <= sizes[0] <= 200:
            parser.error("vote: one -n between 1 and 200")
        return vote.main(sizes[0], args.workers, args.postgres, args.json)
    if any(not 1 <= n <= 200 for n in sizes):
        parser.error("sessions must be between 1 and 200")
    if not 0 <= args.workers <= 8:
        parser.error("--workers must be between 0 and 8")
    if not (SHARED / "images" / "expected.json").is_file():
        parser.error(f"shared test photos not found in {SHARED / 'images'}")
    server_env = dict(item.split("=", 1) for item in args.server_env if "=" in item)
    info, reports = run_load(sizes, args.lang, args.ramp, args.deadline,
                             log=(lambda s: print(s, file=sys.stderr)) if args.json else print, server_env=server_env,
                             browsers=max(0, min(args.browsers, 5)), workers=args.workers)
    if args.json:
        last = reports[-1].summary()
        last["alone"] = {key: round(value, 3) for key, value in info.items()}
        if len(reports) > 1:
            last["runs"] = [r.summary() for r in reports]
        print(json.dumps(last))
    return 0 if all(r.meets_target for r in reports) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
