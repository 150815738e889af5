"""``python -m explainer detect IMAGE``: Google's int8 SSD-MobileNetV1 (COCO) on LiteRT, as the Applications page runs it."""

from __future__ import annotations

import argparse
import json
import os

# Light imports only: every command module is imported to build the parser; numpy/LiteRT come in run().
from explainer.commands.options import add_image
from explainer.report import format_table


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from err
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "detect",
        help="find COCO's 80 object classes in a photo with int8 SSD-MobileNetV1 on LiteRT",
        description="Decode IMAGE safely (EXIF rotation applied), stretch it to 300×300, run Google's released "
        "int8 SSD-MobileNetV1 COCO detector (.tflite, non-maximum suppression inside) with LiteRT and map its "
        "boxes back onto the photo's pixels. Prints the detections at or above --threshold, highest score "
        "first (box = x0, y0, x1, y1 in photo pixels), and the model's invoke time. Model and label map: "
        "--weights-dir / EXPLAINER_WEIGHTS_DIR (ssd_mobilenet_v1_coco_quant.tflite, coco_labelmap.txt), then "
        "the app's cache, then a one-time download of TensorFlow's published zip (the files taken out of it "
        "are checked against their SHA-256; EXPLAINER_OFFLINE=1 forbids it).",
    )
    add_image(parser)
    parser.add_argument("--threshold", type=_threshold, default=0.5,
                        help="lowest score shown, 0…1 (default %(default)s)")
    parser.add_argument("--weights-dir", default=None,
                        help="folder with the .tflite file and the label map (default: $EXPLAINER_WEIGHTS_DIR)")
    parser.add_argument("--save", default=None, metavar="BOXED.png",
                        help="write the photo with the boxes drawn and labelled (PNG)")
    parser.add_argument("--lang", default="en", choices=("en", "zh"),
                        help="language of the class names in the table and on --save (JSON labels stay COCO's "
                        "English names; default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explainer.commands.fetch import text_progress
    from explainer.detect.detector import DISPLAY, MODEL_ASSET, detect_image, load_detector, warm_up
    from explainer.errors import ExplainerError
    from explainer.figures.detect import draw_boxes
    from explainer.images import load_image
    from explainer import catalogue

    image = load_image(args.image)  # a bad image fails first, before any model file is looked for
    detector = load_detector(args.weights_dir, text_progress(catalogue.get(MODEL_ASSET).filename),
                             threads=os.cpu_count() or 1)
    warm_up(detector)  # the first invoke packs the weights for XNNPACK: don't time that one
    result = detect_image(image, detector)
    shown = result.above(args.threshold)
    names = [d.name(detector.labels, args.lang) for d in shown]
    saved = None
    if args.save:
        try:
            draw_boxes(image, [d.box for d in shown], [f"{n} {d.score:.2f}" for n, d in zip(names, shown)],
                       [d.index for d in shown], [f"{d.label} {d.score:.2f}" for d in shown]).save(args.save, format="PNG")
        except (OSError, ValueError) as err:
            raise ExplainerError("detect.cannot_save", file=str(args.save),
                                 detail=getattr(err, "strerror", None) or str(err)) from err
        saved = str(args.save)
    if args.json:
        data = result.as_dict(args.threshold)
        print(json.dumps({"model": data["model"], "weights": str(detector.model.path), "size": data["size"],
                          "threshold": args.threshold, "detections": data["detections"],
                          "latency_ms": data["latency_ms"], "save": saved}, ensure_ascii=False))
        return 0
    print(f"{DISPLAY}  weights: {detector.model.path}")
    print(f"photo {result.size[0]}×{result.size[1]}, stretched to 300×300; "
          f"{len(shown)} of {len(result.detections)} boxes at or above {args.threshold:g}")
    rows = [(n, str(d.index), f"{d.score:.3f}", ", ".join(f"{v:.0f}" for v in d.box)) for n, d in zip(names, shown)]
    print(format_table(("label", "index", "score", "box x0, y0, x1, y1"), rows))
    print(f"invoke {result.latency_ms:.1f} ms (LiteRT, int8, {detector.model.threads} threads)")
    if saved:
        print(f"boxed photo written to {saved}")
    return 0
