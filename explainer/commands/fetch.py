"""``python -m explainer fetch``: every file the app may fetch (the catalogue), where each comes from, and
fetching them before a lecture (``fetch --all``) or into a folder (``--to DIR``, e.g. when building an image)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

# Light imports only: every command module is imported to build the parser.
from explainer import catalogue
from explainer.commands.options import add_weights_dir
from explainer.errors import AssetError
from explainer.report import format_table

DESCRIPTION = (
    "Each file is looked up in this order: the folder given by --weights-dir / EXPLAINER_WEIGHTS_DIR "
    "(data sets: --data-dir / EXPLAINER_DATA_DIR); the cache ($EXPLAINER_CACHE_DIR, default "
    "~/.cache/mobilenet-explainer; torchvision's cache too for its weights); a download of the pinned URL, "
    "checked against its SHA-256 ($EXPLAINER_DOWNLOAD_MIRROR: from a mirror that serves the same file names). "
    "EXPLAINER_OFFLINE=1 never downloads."
)


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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``fetch`` (also ``weights fetch``)."""
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"files to fetch: {', '.join(catalogue.CATALOGUE)}")
    parser.add_argument("--all", action="store_true", help="fetch every file of the catalogue")
    parser.add_argument("--to", metavar="DIR", default=None,
                        help="put the files into DIR (laid out as the cache: use it as EXPLAINER_CACHE_DIR)")
    parser.add_argument("--status", action="store_true", help="list every file and where it comes from; fetch nothing")
    parser.add_argument("--json", action="store_true", help="with --status: print JSON instead of a table")
    add_weights_dir(parser, help="folder with model files (default: $EXPLAINER_WEIGHTS_DIR)")
    parser.add_argument("--data-dir", default=None, help="folder with data sets (default: $EXPLAINER_DATA_DIR)")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fetch", help="every file the app may download; fetch them before a lecture (--all) or see where each "
        "comes from (--status)", description=DESCRIPTION)
    add_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.status or not (args.all or args.names):
        return run_status(args)
    return run_fetch(args)


def _folder_for(asset: catalogue.Asset, args: argparse.Namespace) -> str | None:
    return args.data_dir if asset.folder_env == catalogue.DATA_DIR_ENV else args.weights_dir


def run_status(args: argparse.Namespace) -> int:
    rows = [catalogue.locate(asset, _folder_for(asset, args)) for asset in catalogue.CATALOGUE.values()]
    if args.json:
        print(json.dumps({
            "offline": catalogue.offline(),
            "cache": str(catalogue.cache_root()),
            "files": [{
                "name": r.asset.key, "file": r.asset.filename, "kind": r.asset.kind, "source": r.kind,
                "path": str(r.path) if r.path else None, "url": r.asset.url or None, "sha256": r.asset.sha256,
                "size": r.asset.size or None, "licence": r.asset.licence, "publisher": r.asset.source,
                "pages": list(r.asset.pages),
            } for r in rows],
        }))
        return 0
    table = [(r.asset.key, r.asset.kind, r.kind, f"{r.asset.size:,}" if r.asset.size else "?",
              r.asset.licence or "-", ", ".join(r.asset.pages), str(r.path) if r.path else "-") for r in rows]
    print(format_table(("name", "kind", "source", "bytes", "licence", "pages", "where"), table))
    print(f"cache: {catalogue.cache_root()}" + ("  (offline: EXPLAINER_OFFLINE=1)" if catalogue.offline() else ""))
    for r in rows:
        if r.kind == "missing":
            print(f"{r.asset.key}: {catalogue.missing(r.asset).message('en')}")
    return 0


def _copy(path: Path, into: Path) -> Path:
    target = into / path.name
    if path.is_dir():
        shutil.copytree(path, target, dirs_exist_ok=True)
    else:
        shutil.copy2(path, target)
    return target


def run_fetch(args: argparse.Namespace) -> int:
    names = list(catalogue.CATALOGUE) if args.all else list(dict.fromkeys(args.names))
    assets = [catalogue.get(name) for name in names]  # an unknown name fails before any download
    into = Path(args.to).expanduser() if args.to else None
    failed: list[AssetError] = []
    for asset in assets:
        where = catalogue.locate(asset, _folder_for(asset, args), download=False)
        if into is None and where.available:
            print(f"{asset.key}: already in the {where.kind} ({where.path})")
            continue
        if into is not None and where.available and (where.kind == "folder" or not asset.downloadable):
            print(f"{asset.key}: in the {where.kind} ({where.path}); not copied")
            continue
        if not asset.downloadable:
            print(f"{asset.key}: {catalogue.missing(asset).message('en')}")
            continue
        try:
            if into is not None and where.kind == "cache":
                into.mkdir(parents=True, exist_ok=True)
                path = _copy(where.path, into)
            else:
                path = catalogue.fetch(asset, text_progress(asset.key), into=into)
        except AssetError as err:
            failed.append(err)
            continue
        print(f"{asset.key}: {path}")
    for err in failed:
        sys.stderr.write(f"error: {err.message('en')}\n")
    return 2 if failed else 0
