"""THE benchmark command: every performance figure of the project in one table.

    python bench/run.py               # full run (several minutes on 2 cores)
    python bench/run.py --quick       # fewer repeats, load test with 20 sessions only
    python bench/run.py --markdown    # the table as Markdown
    python bench/run.py --update-readme   # full run; writes its Markdown into bench/README.md ("Latest full run")

Each figure is measured against a baseline measured in the same run, so the
ratio column means something on any machine; the machine is printed too.
Sources: ``bench/cost.py`` (cost page), ``bench/classify.py`` (classify
end-to-end vs bare forward), ``bench/features.py`` (feature capture vs bare
forward), ``bench/trace.py``, ``bench/transfer.py``, ``bench/segment.py``, ``bench/detect.py`` (detection beside
classification and segmentation), ``bench/quant.py`` (int8 vs float32),
``bench/export.py`` (ExecuTorch .pte vs eager, float32 and int8),
``bench/prune.py`` (structured pruning vs the original and the masked twin),
``bench/startup.py`` (cold start), ``bench/zoo.py`` (the lightweight family: roofs, latency, ms per GMAC),
``bench/hall.py`` (a lecture room: 120 phones vote through 2 workers),
``bench/memory.py`` (a worker's memory across every page: deploy/'s sizing), ``bench/kept.py`` (calibration
copies instead of uploads, a kept head's round trip) and ``bench/loadtest.py`` (the
lecture hall: 20 and 60 concurrent sessions on one server).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import math
import os
import platform
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Figure

#: The benchmark log; --update-readme replaces the text between these two lines with the run's Markdown.
README = Path(__file__).resolve().parent / "README.md"
BLOCK_START = "<!-- bench/run.py --update-readme: start (generated, do not edit) -->"
BLOCK_END = "<!-- bench/run.py --update-readme: end -->"

MODULES = ("cost", "classify", "features", "trace", "transfer", "segment", "detect", "quant", "prune", "export",
           "startup", "zoo", "lecture", "memory", "hall", "kept")


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, load, Python and library versions."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = {}
    for name in ("torch", "torchvision", "streamlit"):
        try:
            versions[name] = importlib.import_module(name).__version__
        except Exception:  # noqa: BLE001
            versions[name] = "not installed"
    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cpu": cpu,
        "cores": f"{os.cpu_count()} logical, {usable} usable, torch uses {torch.get_num_threads()} threads",
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "torch": versions["torch"], "torchvision": versions["torchvision"], "streamlit": versions["streamlit"],
        "load average at start": " / ".join(f"{x:.2f}" for x in load) + " (1/5/15 min; > 0.5 means other work ran)",
    }


def _call_run(module, quick: bool) -> list[Figure]:
    parameters = inspect.signature(module.run).parameters
    if "quick" in parameters:
        return list(module.run(quick=quick))
    if quick and "repeats" in parameters:
        return list(module.run(repeats=5))
    return list(module.run())


def load_figures(quick: bool) -> list[Figure]:
    """The lecture hall: 20 and 60 at the same second, 60 arriving within a minute, 60 / 120 on 1 / 2 workers + nginx."""
    from bench.loadtest import TARGET_P95_S, TARGET_RSS_GROWTH_MB, run_load, visit_targets

    scenarios = [([20], 0.0, 0)] if quick else [([20, 60], 0.0, 0), ([60], 60.0, 0), ([60], 0.0, 1), ([120], 0.0, 2)]
    figures = []
    for sizes, ramp, workers in scenarios:
        info, reports = run_load(sizes, ramp=ramp, log=lambda s: print(s, file=sys.stderr), workers=workers)
        alone = info["alone_result_s"] * 1000.0
        for r in reports:
            crowd = (f"load {r.sessions} at once" if not ramp else f"load {r.sessions} arriving over {ramp:g} s")
            crowd += f", {workers} worker{'s' if workers > 1 else ''} + nginx" if workers else ""
            limits = visit_targets(r.sessions, workers, ramp)
            figures += [
                Figure(f"{crowd}: upload→result p50", r.result_p50_s * 1000.0,
                       "one student alone, upload→result", alone),
                Figure(f"{crowd}: upload→result p95", r.result_p95_s * 1000.0,
                       "one student alone, upload→result", alone,
                       target=f"p95 ≤ {limits['upload_to_result_p95_s']:g} s",
                       ok=r.result_p95_s <= limits["upload_to_result_p95_s"]),
                Figure(f"{crowd}: whole visit p95 (open page, choose Upload, result)", r.total_p95_s * 1000.0,
                       "one student alone, whole visit", info["alone_total_s"] * 1000.0,
                       target=f"p95 ≤ {limits['whole_visit_p95_s']:g} s" if "whole_visit_p95_s" in limits else "",
                       ok=r.total_p95_s <= limits["whole_visit_p95_s"] if "whole_visit_p95_s" in limits else None),
                Figure(f"{crowd}: server CPU per visit", r.server_cpu_s / r.sessions * 1000.0,
                       "one student alone, server CPU", info["alone_cpu_s"] * 1000.0),
                Figure(f"{crowd}: errors", r.errors, "sessions", r.sessions, unit="", target="0 errors",
                       ok=r.errors == 0),
                Figure(f"{crowd}: server RSS after", r.rss_after_mb, "server RSS before (warm)", r.rss_before_mb,
                       unit="MB", target=f"growth < {TARGET_RSS_GROWTH_MB:g} MB (here {r.rss_growth_mb:+.0f} MB)",
                       ok=r.rss_growth_mb < TARGET_RSS_GROWTH_MB),
            ]
    return figures


def _fmt(value: float, unit: str) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if unit == "ms" and value >= 10_000:
        return f"{value / 1000:.1f} s"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g}{(' ' + unit) if unit else ''}"


def table(figures: list[Figure], markdown: bool) -> str:
    header = ["figure", "value", "baseline (same run)", "baseline value", "value / baseline", "target", "met"]
    rows = []
    for f in figures:
        met = "" if f.ok is None else ("yes" if f.ok else "NO")
        ratio = "n/a" if math.isnan(f.ratio) else f"×{f.ratio:.2f}"
        rows.append([f.name, _fmt(f.value, f.unit), f.baseline_name, _fmt(f.baseline, f.unit), ratio, f.target, met])
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [min(max(len(row[i]) for row in rows + [header]), 90) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    return "\n".join(out)


def replace_latest_run(text: str, markdown: str) -> str:
    """``text`` (bench/README.md) with the generated block between :data:`BLOCK_START` and :data:`BLOCK_END`
    replaced by ``markdown``; a ValueError if the two marker lines are not there once each, in order."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.strip() == BLOCK_START]
    ends = [i for i, line in enumerate(lines) if line.strip() == BLOCK_END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(f"{README}: expected one line {BLOCK_START!r} and, after it, one line {BLOCK_END!r}")
    return "".join(lines[:starts[0] + 1]) + markdown.rstrip("\n") + "\n" + "".join(lines[ends[0]:])


def markdown_report(figures: list[Figure], info: dict[str, str], stamp: str, quick: bool, seconds: float) -> str:
    """The run as Markdown: when and how it was measured, the table, the machine."""
    lines = [f"Measured {stamp} with `python bench/run.py{' --quick' if quick else ''}` "
             f"({'quick' if quick else 'full'} run, {seconds:.0f} s):", "", table(figures, markdown=True), ""]
    lines += [f"- **{key}**: {value}" for key, value in info.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Every performance figure of MobileNet Explainer in one table.")
    parser.add_argument("--quick", action="store_true", help="fewer repeats; load test with 20 sessions only")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--only", action="append", choices=MODULES + ("load",),
                        help="run only these parts (repeatable)")
    parser.add_argument("--no-load", action="store_true", help="skip the load test")
    parser.add_argument("--update-readme", action="store_true",
                        help="write this full run's Markdown into bench/README.md (\"Latest full run\")")
    args = parser.parse_args(argv)
    if args.update_readme and (args.quick or args.only or args.no_load):
        parser.error("--update-readme records a full run: leave out --quick, --only and --no-load")
    if args.update_readme:
        replace_latest_run(README.read_text(encoding="utf-8"), "")  # the markers are there: fail before measuring
    os.chdir(Path(__file__).resolve().parent.parent)
    started = time.perf_counter()
    info = machine()
    figures: list[Figure] = []
    missing: list[str] = []
    for name in MODULES:
        if args.only and name not in args.only:
            continue
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"bench.{name}":
                print(f"[bench] bench/{name}.py: not available", file=sys.stderr)
                missing.append(f"bench/{name}.py: not available")
                continue
            raise
        try:
            figures += _call_run(module, args.quick)
        except Exception as error:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            missing.append(f"bench/{name}.py failed: {type(error).__name__}: {error}")
    if not args.no_load and (not args.only or "load" in args.only):
        print("[bench] load …", file=sys.stderr, flush=True)
        try:
            figures += load_figures(args.quick)
        except Exception as error:  # noqa: BLE001
            traceback.print_exc()
            missing.append(f"load test failed: {type(error).__name__}: {error}")

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick" if args.quick else "full"
    report = markdown_report(figures, info, stamp, args.quick, time.perf_counter() - started)
    if args.update_readme:
        if missing:  # a run with a part missing or failed would replace a complete table with a partial one
            print(f"[bench] {README} not updated: " + "; ".join(missing), file=sys.stderr)
        else:
            README.write_text(replace_latest_run(README.read_text(encoding="utf-8"), report), encoding="utf-8")
            print(f"[bench] wrote the run into {README}", file=sys.stderr)
    if args.markdown or args.update_readme:
        print(report)
    else:
        print(f"MobileNet Explainer benchmarks — {stamp}, {mode} run, {time.perf_counter() - started:.0f} s")
        for key, value in info.items():
            print(f"  {key}: {value}")
        print()
        print(table(figures, markdown=False))
    for line in missing:
        print(f"{'- ' if args.markdown else ''}{line}")
    failed = [f for f in figures if f.ok is False]
    return 1 if failed or missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
