"""``python -m explainer segment IMAGE``: Google's int8 DeepLabV3-MobileNetV2 on LiteRT, as the Applications page runs it."""

from __future__ import annotations

import argparse
import json
import os

# Light imports only: every command module is imported to build the parser; numpy/LiteRT come in run().
from explainer.commands.options import add_image
from explainer.report import format_table

#: The models offered (the same names as explainer.segment.deeplab.SEGMENTERS; kept literal so --help stays light).
MODELS = ("deeplabv3_mobilenet_v2", "deeplabv3_mobilenet_v2_dm05")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "segment",
        help="segment a photo into PASCAL VOC's 21 classes with int8 DeepLabV3-MobileNetV2 on LiteRT",
        description="Decode IMAGE safely, resize its longer side to 513, pad to 513×513, run Google's released "
        "int8 DeepLabV3-MobileNetV2 (.tflite) with LiteRT, crop the padding away and map the mask back to the "
        "photo's size. Prints the classes found with their share of the image (largest first) and the model's "
        "invoke time. Model file: --weights-dir / EXPLAINER_WEIGHTS_DIR, then the app's cache, then a one-time "
        "download from google-coral/test_data (checked against its SHA-256; EXPLAINER_OFFLINE=1 forbids it).",
    )
    add_image(parser)
    parser.add_argument("--model", default=MODELS[0], choices=MODELS, help="default %(default)s (dm05: depth multiplier 0.5)")
    parser.add_argument("--weights-dir", default=None,
                        help="folder with the .tflite files (default: $EXPLAINER_WEIGHTS_DIR)")
    parser.add_argument("--save", default=None, metavar="MASK.png",
                        help="write the mask as a palette PNG at the photo's size (pixel value = class index)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explainer.commands.fetch import text_progress
    from explainer.errors import ExplainerError
    from explainer.images import load_image
    from explainer.segment.deeplab import SEGMENTERS, load_segmenter, segment_image, warm_up, where_is
    from explainer.segment.masks import mask_png

    image = load_image(args.image)  # a bad image fails first, before any model file is looked for
    where = where_is(args.model, args.weights_dir)
    model = load_segmenter(args.model, args.weights_dir, text_progress(SEGMENTERS[args.model].filename),
                           threads=os.cpu_count() or 1)
    warm_up(model)  # the first invoke packs the weights for XNNPACK: don't time that one
    result = segment_image(image, model, args.model)
    saved = None
    if args.save:
        try:
            mask_png(result.mask).save(args.save, format="PNG")
        except (OSError, ValueError) as err:
            raise ExplainerError("segment.cannot_save", file=str(args.save),
                                 detail=getattr(err, "strerror", None) or str(err)) from err
        saved = str(args.save)
    if args.json:
        data = result.as_dict()
        print(json.dumps({"model": data["model"], "weights": f"{where.kind}:{model.path}", "size": data["size"],
                          "classes": data["classes"], "latency_ms": data["latency_ms"], "save": saved}))
        return 0
    print(f"{SEGMENTERS[args.model].display}  weights: {where.kind}:{model.path}")
    print(f"photo {result.size[0]}×{result.size[1]}, model input 513×513 (photo {result.fitted[0]}×{result.fitted[1]} "
          "top-left, rest padding)")
    rows = [(c.label, str(c.index), f"{c.fraction:.4f}", f"{c.pixels:,}") for c in result.classes]
    print(format_table(("label", "index", "fraction", "pixels"), rows))
    print(f"invoke {result.latency_ms:.1f} ms (this photo, one run; LiteRT, int8, {model.threads} threads)")
    if saved:
        print(f"mask written to {saved}")
    return 0
