"""``python -m explainer train DATA_DIR``: teach a frozen MobileNet new classes (a linear head), as the
"Teach it new classes" page does."""

from __future__ import annotations

import argparse
import json
import sys

# Light imports only: every command module is imported to build the parser; torch comes in run().
from explainer import registry
from explainer.commands.options import add_model, add_weights_dir
from explainer.commands.fetch import text_progress

#: Models with published ImageNet weights (the backbones a head can be trained on).
TRANSFER_MODELS = registry.PRETRAINED


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a linear head for new classes on frozen MobileNet features",
        description="Read DATA_DIR in torchvision's ImageFolder layout (one folder of photos per class, or a "
        "train/ subfolder holding them; a .zip in that layout works too), skip and report unreadable files, "
        "hold out every fifth photo of each class, train a logistic-regression head on the global-average-"
        "pooled features of the frozen, pretrained model and print its hold-out accuracy. --out saves the "
        "head (classes, model name, weights) for `evaluate` and `classify --head`.",
    )
    parser.add_argument("data_dir", help="folder (or .zip) with one subfolder of photos per class")
    add_model(parser, TRANSFER_MODELS)
    add_weights_dir(parser)
    parser.add_argument("--out", default=None, help="write the trained head to this file (e.g. head.pt)")
    parser.add_argument("--fine-tune-blocks", type=int, default=0, metavar="K",
                        help="also fine-tune the last K stages of the backbone with augmentation (1-4) and report "
                        "its hold-out accuracy and time beside the frozen head's; the saved head stays the "
                        "frozen-feature head")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explainer.threads import configure_torch_threads
    from explainer.transfer.datasets import check_trainable, read_data
    from explainer.transfer.finetune import BLOCKS_RANGE, check_range, fine_tune
    from explainer.transfer.head import save_head
    from explainer.transfer.teach import fit
    from explainer.weights import load_pretrained

    if args.fine_tune_blocks:
        check_range(args.fine_tune_blocks, "--fine-tune-blocks", BLOCKS_RANGE)
    configure_torch_threads()
    data = check_trainable(read_data(args.data_dir))  # bad data fails before any weights are loaded
    loaded = load_pretrained(args.model, args.weights_dir, text_progress(args.model))
    result = fit(data, loaded)
    out = str(save_head(result.trained.head, args.out)) if args.out else None
    report = result.as_dict(out)
    tuned = None
    if args.fine_tune_blocks:
        tuned = fine_tune(result.data.photos, result.labels, result.train_idx, result.holdout_idx, loaded,
                          result.trained.head, blocks=args.fine_tune_blocks)
        report["fine_tune"] = tuned.as_dict()
    if args.json:
        print(json.dumps(report))
        return 0
    for skipped in result.data.skipped:
        sys.stderr.write(f"skipped: {skipped.name}: {skipped.reason('en')}\n")
    counts = ", ".join(f"{c} {n}" for c, n in zip(result.data.classes, result.data.counts()))
    print(f"{loaded.display_name}: {len(result.data.photos)} photos ({counts})")
    print(f"trained on {report['n_train']}, held out {report['n_holdout']} (every fifth photo of each class)")
    print(f"hold-out accuracy {result.holdout.accuracy:.4f} in {report['seconds']:.1f} s "
          f"(features {result.feature_seconds:.1f} s, head {result.trained.seconds:.2f} s)")
    if tuned is not None:
        print(f"fine-tuned last {tuned.blocks} stage(s), {tuned.epochs} epochs: hold-out accuracy "
              f"{tuned.holdout_accuracy:.4f} in {tuned.seconds:.1f} s")
    if out:
        print(f"head written to {out}")
    return 0
