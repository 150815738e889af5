"""``python -m explainer weights status|fetch``: where each model's weights come from; cache them for offline use."""

from __future__ import annotations

import argparse
import json
import sys

# Light imports only: every command module is imported to build the parser; torch comes in run_*().
from explainer.architectures import DISPLAY_NAMES, MODEL_NAMES
from explainer.commands.options import add_weights_dir
from explainer.report import format_table


def text_progress(label: str):
    """A ``progress(done, total)`` callback drawing a one-line text bar on stderr."""

    def draw(done: int, total: int) -> None:
        if total:
            filled = int(30 * done / total)
            bar = "#" * filled + "." * (30 - filled)
            sys.stderr.write(f"\r{label} [{bar}] {100 * done / total:5.1f}% {done / 2**20:.1f}/{total / 2**20:.1f} MB")
        else:
            sys.stderr.write(f"\r{label} {done / 2**20:.1f} MB")
        if total and done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return draw


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "weights",
        help="where each model's ImageNet weights come from; download them before a lecture",
        description="Weights are looked up in this order: a folder given by --weights-dir or "
        "EXPLAINER_WEIGHTS_DIR holding <model>.pth (torchvision layout); torchvision's cache "
        "($TORCH_HOME/hub/checkpoints); a download through torchvision's weights URL. "
        "Set EXPLAINER_OFFLINE=1 to never download.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    show = actions.add_parser("status", help="list each model and where its weights come from")
    add_weights_dir(show)
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show.set_defaults(run=run_status)
    get = actions.add_parser("fetch", help="download torchvision's weights into its cache (for offline use later)")
    group = get.add_mutually_exclusive_group()
    group.add_argument("--model", action="append", choices=MODEL_NAMES, help="a model to fetch (repeatable)")
    group.add_argument("--all", action="store_true", help="fetch every model (the default)")
    get.set_defaults(run=run_fetch)
    parser.set_defaults(run=run_status, weights_dir=None, json=False)


def run_status(args: argparse.Namespace) -> int:
    from explainer.weights import offline, status, weights_dir_from

    rows = status(args.weights_dir)
    folder = weights_dir_from(args.weights_dir)
    if args.json:
        print(json.dumps({
            "weights_dir": str(folder) if folder else None,
            "offline": offline(),
            "models": [
                {
                    "model": r.name,
                    "source": r.kind,
                    "pretrained": r.pretrained,
                    "path": str(r.path) if r.path else None,
                    "url": r.url,
                    "weights_id": r.weights_id,
                }
                for r in rows
            ],
        }))
        return 0
    table = []
    for r in rows:
        where = str(r.path) if r.kind in ("file", "cache") else (r.url if r.kind == "download" else "-")
        table.append((r.name, r.kind, r.weights_id or "-", where))
    print(format_table(("model", "source", "weights", "where"), table))
    print(f"weights dir: {folder if folder else 'not set (--weights-dir or EXPLAINER_WEIGHTS_DIR)'}")
    for r in rows:
        if r.problem is not None:
            print(f"{r.name}: {r.problem.message('en')}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from explainer.weights import TORCHVISION_WEIGHTS, cache_file, fetch

    names = args.model or list(MODEL_NAMES)
    for name in names:
        if name not in TORCHVISION_WEIGHTS:
            print(f"{name}: torchvision publishes no ImageNet weights for {DISPLAY_NAMES[name]}; "
                  "the app shows it untrained (put mobilenet_v1.pth in the weights folder to use your own).")
            continue
        target = cache_file(name)
        if target is not None and target.is_file():
            print(f"{name}: already cached at {target}")
            continue
        path = fetch(name, text_progress(name))
        print(f"{name}: cached at {path}")
    return 0
