"""``python -m explainer weights status|fetch``: the older spelling of ``fetch --status`` and ``fetch`` (same output)."""

from __future__ import annotations

import argparse

from explainer.commands import fetch
from explainer.commands.options import add_weights_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "weights", help="the same as `fetch` (weights status = fetch --status)", description=fetch.DESCRIPTION)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    show = actions.add_parser("status", help="the same as `fetch --status`")
    add_weights_dir(show)
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show.set_defaults(run=fetch.run_status, data_dir=None)
    get = actions.add_parser("fetch", help="the same as `fetch` (--model NAME, repeatable, or --all)")
    fetch.add_arguments(get)
    get.add_argument("--model", action="append", default=[], metavar="NAME", help="a file to fetch (repeatable)")
    get.set_defaults(run=_run_fetch)


def _run_fetch(args: argparse.Namespace) -> int:
    args.names = list(args.names) + list(args.model)
    args.all = args.all or not args.names
    return fetch.run_fetch(args)
