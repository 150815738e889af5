"""The command line: ``python -m explainer <command> ...``.

Each command lives in ``explainer/commands/<name>.py`` with two functions:
``add_parser(subparsers)`` declares its arguments and ``run(args) -> int``
does the work by calling the same core functions the app uses. Any
:class:`~explainer.errors.ExplainerError` (and any bad argument) becomes one
``error: ...`` line on stderr and exit status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn, Sequence

from explainer.errors import ExplainerError

#: Command modules under explainer/commands, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("cost", "network", "classify", "fetch", "weights", "features", "trace", "train",
                            "evaluate", "segment", "detect", "zoo", "quantize", "export", "energy", "prune", "serve",
                            "room")

USAGE_ERROR = 2


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error: ...`` line, exit 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(USAGE_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m explainer",
        description="MobileNet Explainer on the command line: exact costs, architectures, "
        "classification and feature maps, computed by the same code as the app.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    subparsers.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"explainer.commands.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from explainer.safe_text import TerminalText

    # Names from zips and head files are printed as they are: control characters are filtered on the way out.
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TerminalText(out), TerminalText(err)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ExplainerError as error:
        sys.stderr.write(f"error: {error.message('en')}\n")
        return USAGE_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
