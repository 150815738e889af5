"""``python -m explainer zoo``: the lightweight family measured on this machine.

Light imports only: torch comes in ``run()`` (through :mod:`explainer.zoo.latency`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _threads(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid thread count: {text!r}") from None
    cores = os.cpu_count() or 1
    if not 1 <= value <= cores:
        raise argparse.ArgumentTypeError(f"--threads must be between 1 and {cores} (this machine's cores), got {value}")
    return value


def _repeats(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid repeat count: {text!r}") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"--repeats must be between 1 and 100, got {value}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from explainer.registry import MODEL_NAMES

    parser = subparsers.add_parser(
        "zoo",
        help="every model's MACs, parameters, size, published top-1 and latency measured now",
        description="One row per model: exact MACs and parameters at 224×224, float32 size (and an int8 "
        "estimate), published ImageNet top-1 (torchvision's weights metadata; the V1 paper for MobileNetV1) "
        "and the forward time measured now on this CPU (batch 1, random weights, warm, median of repeats), "
        "with ms per GMAC. Other work on the machine makes times noisy; compare the ratios of one run.",
    )
    parser.add_argument("--threads", type=_threads, default=None,
                        help="PyTorch threads for the timing (default: PyTorch's default, all cores)")
    parser.add_argument("--repeats", type=_repeats, default=10, help="timed passes per model (default %(default)s)")
    parser.add_argument("--models", default=None,
                        help="comma-separated subset, in the given order (default: all: " + ", ".join(MODEL_NAMES) + ")")
    parser.add_argument("--json", action="store_true", help="print one JSON list of rows instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explainer.report import format_table
    from explainer import registry
    from explainer.zoo.latency import zoo_rows

    names = registry.MODEL_NAMES
    if args.models:
        names = tuple(name.strip() for name in args.models.split(",") if name.strip())
        for name in names:
            registry.get(name)

    def progress(done: int, total: int, model: str) -> None:
        sys.stderr.write(f"\rtimed {done}/{total} ({model})".ljust(60))
        sys.stderr.flush()
        if done == total:
            sys.stderr.write("\n")

    show = progress if sys.stderr.isatty() else None
    rows = zoo_rows(names, args.threads, args.repeats, progress=show)
    if args.json:
        print(json.dumps([row.as_dict() for row in rows]))
        return 0
    print(format_table(
        ("model", "MACs", "params", "size MB", "int8 MB", "top-1 %", "latency ms", "ms/GMAC"),
        [(row.model, f"{row.macs:,}", f"{row.total_params:,}", f"{row.size_mb:.1f}", f"{row.int8_size_mb:.1f}",
          "—" if row.top1 is None else f"{row.top1:.1f}", f"{row.latency_ms:.1f}", f"{row.ms_per_gmac:.0f}")
         for row in rows]))
    threads = rows[0].threads if rows else "?"
    print(f"batch 1, 224×224, {threads} thread(s), median of {args.repeats} warm passes, random weights. "
          "top-1: torchvision's weights metadata (DEFAULT weights); MobileNetV1: the V1 paper.")
    return 0
