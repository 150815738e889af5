"""``python -m explainer features IMAGE``: every stage of every block of a MobileNet for one photo, as the
Feature-maps page shows it (shape, exact zeros, mean, max), and optionally one PNG grid per block."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from explainer.architectures import MODEL_NAMES
from explainer.commands.options import add_image, add_model, add_untrained, add_weights_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "features",
        help="feature maps of a photo through every MobileNet block (shapes, sparsity, PNG grids)",
        description="Decode IMAGE safely, preprocess it with the weights' own transform and run the network "
        "once with forward hooks that record the output of every stage of every block: V1 depthwise and "
        "pointwise layers; V2/V3 expansion, depthwise, squeeze-and-excite, linear projection and residual "
        "sum; the stem and the last 1x1 convolution. Prints each stage's shape (C, H, W), its fraction of "
        "exact zeros (what a ReLU switched off), mean and max. Weights: --weights-dir / "
        "EXPLAINER_WEIGHTS_DIR, then torchvision's cache, then a download.",
    )
    add_image(parser)
    add_model(parser, MODEL_NAMES)
    add_weights_dir(parser)
    add_untrained(parser)
    parser.add_argument("--json", action="store_true",
                        help='print a JSON list of {"block", "stage", "name", "shape": [c, h, w], '
                        '"zero_fraction", "mean", "max"}')
    parser.add_argument("--save-dir", default=None,
                        help="write one PNG per block (the clearest channels of each stage) into this folder")
    parser.add_argument("--k", type=int, default=16, help="channels per stage in the PNG grids (1-64; default %(default)s)")
    parser.set_defaults(run=run)


def _png_name(maps, block: int) -> str:
    last = maps.blocks[-1]
    if block == 0:
        return "block_00_stem.png"
    if block == last and maps.block(block)[-1].stage == "head":
        return f"block_{block:02d}_head.png"
    return f"block_{block:02d}.png"


def save_pngs(maps, folder: str | Path, k: int = 16) -> list[Path]:
    """One PNG per block in ``folder`` (created if needed); the paths written."""
    from explainer.errors import ExplainerError
    from explainer.figures.features import block_png

    folder = Path(folder).expanduser()
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for block in maps.blocks:
            path = folder / _png_name(maps, block)
            block_png(maps.block(block), k=k).save(path, format="PNG")
            written.append(path)
    except OSError as err:
        raise ExplainerError("features.save_dir", dir=str(folder), detail=err.strerror or type(err).__name__) from err
    return written


def run(args: argparse.Namespace) -> int:
    from explainer.commands.fetch import text_progress
    from explainer.features import capture_image, check_k
    from explainer.images import WORKING_MIN_SIDE, load_image
    from explainer.report import format_table
    from explainer.weights import load_pretrained

    check_k(args.k)
    image = load_image(args.image, min_side=WORKING_MIN_SIDE)  # a bad image fails first, before any weights
    loaded = load_pretrained(args.model, args.weights_dir, text_progress(args.model), fallback=args.untrained)
    maps = capture_image(image, loaded)
    written = save_pngs(maps, args.save_dir, args.k) if args.save_dir else []
    if not loaded.pretrained:
        sys.stderr.write("warning: untrained weights: the maps show a random network\n")
    if args.json:
        print(json.dumps(maps.as_list()))
    else:
        print(f"{loaded.display_name}  weights: {loaded.weights}  input {maps.resolution}x{maps.resolution}")
        rows = []
        for record in maps.records:
            s = record.summary()
            c, h, w = record.shape
            rows.append((str(record.block), record.stage, f"{h}×{w}×{c}", f"{100 * s.zero_fraction:.1f}",
                         f"{s.mean:.4f}", f"{s.max:.4f}"))
        print(format_table(("block", "stage", "h×w×c", "zeros %", "mean", "max"), rows))
        print(f"{len(maps.records)} stage outputs from one forward pass ({maps.forward_ms:.1f} ms)")
    for path in written:
        sys.stderr.write(f"wrote {path}\n")
    return 0
