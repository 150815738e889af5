"""``python -m explainer classify IMAGE``: the top-k ImageNet classes of a photo, as the Classify page shows them."""

from __future__ import annotations

import argparse
import json
import sys
import time

# Light imports only: every command module is imported to build the parser; torch comes in run().
from explainer.architectures import MODEL_NAMES
from explainer.commands.options import add_image, add_model, add_untrained, add_weights_dir
from explainer.commands.fetch import text_progress
from explainer.report import format_table


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="classify a photo with a pretrained MobileNet",
        description="Decode IMAGE safely, preprocess it with the transform that belongs to the weights "
        "(resize, center crop, normalise) and print the top ImageNet classes with their softmax "
        "probabilities and the forward-pass time. Weights: --weights-dir / EXPLAINER_WEIGHTS_DIR, "
        "then torchvision's cache, then a download (see `python -m explainer weights status`).",
    )
    add_image(parser)
    add_model(parser, MODEL_NAMES, default=None, help="default mobilenet_v2, or the model of the --head file")
    add_weights_dir(parser)
    parser.add_argument("--top", type=int, default=5, help="how many classes to list (default %(default)s)")
    add_untrained(parser, note=" (predictions are meaningless)")
    parser.add_argument("--head", default=None, metavar="HEAD_FILE",
                        help="classify into the classes of a head trained with `train` (or the Teach page)")
    parser.add_argument("--lang", default="en", choices=("en", "zh"),
                        help="language of ImageNet's class names: en (torchvision's) or zh (简体中文); same indices "
                        "(a --head keeps its own class names)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explainer.classify import check_top, classify_image, warm_up
    from explainer.images import WORKING_MIN_SIDE, load_image
    from explainer.labels import imagenet_label
    from explainer.weights import load_pretrained

    check_top(args.top)
    head = None
    if args.head is not None:
        from explainer.transfer.head import check_head_fits, load_head

        head = load_head(args.head)  # a bad head file fails first, before the photo and the weights
        if args.model is not None and args.model != head.model:
            check_head_fits(head, args.model, 0)
    name = args.model or (head.model if head is not None else "mobilenet_v2")
    start = time.perf_counter()
    image = load_image(args.image, min_side=WORKING_MIN_SIDE)  # a bad image fails first, before any weights
    decode_ms = (time.perf_counter() - start) * 1000.0
    loaded = load_pretrained(name, args.weights_dir, text_progress(name), fallback=args.untrained and head is None)
    warm_up(loaded)  # the first pass of a fresh process allocates and picks kernels: don't time that one
    if head is not None:
        from explainer.transfer.embed import classify_with_head

        result = classify_with_head(image, loaded, head, args.top)
    else:
        result = classify_image(image, loaded, args.top)
    result.decode_ms = decode_ms
    # ImageNet's names in the chosen language; a head's classes are the names its trainer gave them.
    translate = args.lang != "en" and head is None
    if args.json:
        output = result.as_dict()
        if translate:  # the class names in that language; the English ones stay beside them
            for prediction in output["predictions"]:
                prediction["label_en"] = prediction["label"]
                prediction["label"] = imagenet_label(prediction["index"], args.lang)
        print(json.dumps(output, ensure_ascii=False))
        return 0
    if not loaded.pretrained:
        sys.stderr.write("warning: untrained weights, predictions are meaningless\n")
        if loaded.problem is not None:
            sys.stderr.write(f"warning: {loaded.problem.message('en')}\n")
    print(f"{loaded.display_name}  weights: {loaded.weights}")
    rows = [(str(i + 1), imagenet_label(p.index, args.lang) if translate else p.label, str(p.index),
             f"{p.prob:.4f}") for i, p in enumerate(result.predictions)]
    print(format_table(("#", "label", "index", "prob"), rows))
    print(f"this photo, one run: forward {result.forward_ms:.1f} ms, preprocess {result.preprocess_ms:.1f} ms, "
          f"decode {result.decode_ms:.1f} ms")
    return 0
