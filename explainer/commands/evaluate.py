"""``python -m explainer evaluate HEAD_FILE DATA_DIR``: accuracy and confusion matrix of a trained head."""

from __future__ import annotations

import argparse
import json
import sys

# Light imports only: every command module is imported to build the parser; torch comes in run().
from explainer.commands.options import add_weights_dir
from explainer.commands.fetch import text_progress
from explainer.report import format_table


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="accuracy and confusion matrix of a trained head on labelled photos",
        description="Classify every photo of DATA_DIR (ImageFolder layout, class folders named like the "
        "head's classes) with HEAD_FILE on the features of the head's model; print the accuracy and the "
        "confusion matrix (rows = true class, columns = predicted class).",
    )
    parser.add_argument("head_file", help="a head file written by `train --out` or the page's export")
    parser.add_argument("data_dir", help="folder (or .zip) with one subfolder of photos per class")
    add_weights_dir(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from explainer.errors import InvalidInputError
    from explainer.threads import configure_torch_threads
    from explainer.transfer.datasets import read_data
    from explainer.transfer.embed import embed_photos, feature_dim
    from explainer.transfer.head import check_head_fits, evaluate, load_head
    from explainer.weights import load_pretrained

    configure_torch_threads()
    head = load_head(args.head_file)
    data = read_data(args.data_dir)
    unknown = [c for c in data.classes if c not in head.classes]
    if unknown:
        raise InvalidInputError("transfer.unknown_classes", names=", ".join(unknown), classes=", ".join(head.classes))
    if not data.photos:
        raise InvalidInputError("transfer.no_photos")
    from explainer.models import check_model_name

    check_model_name(head.model)
    loaded = load_pretrained(head.model, args.weights_dir, text_progress(head.model))
    check_head_fits(head, loaded.name, feature_dim(loaded))
    embedded = embed_photos(data.photos, loaded)
    labels = np.array([head.classes.index(data.classes[data.photos[int(i)].label]) for i in embedded.kept],
                      dtype=np.int64)
    result = evaluate(head, embedded.features, labels)
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    for skipped in tuple(data.skipped) + embedded.skipped:
        sys.stderr.write(f"skipped: {skipped.name}: {skipped.reason('en')}\n")
    print(f"accuracy {result.accuracy:.4f} on {result.n} photos ({head.model}, classes {', '.join(head.classes)})")
    rows = [(name, *(str(v) for v in row)) for name, row in zip(head.classes, result.confusion.tolist())]
    print(format_table(("true \\ predicted", *head.classes), rows))
    return 0
