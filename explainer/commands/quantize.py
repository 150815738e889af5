"""``python -m explainer quantize``: int8 post-training quantization of MobileNetV2, measured as the Compression page does."""

from __future__ import annotations

import argparse
import json
import sys

# Light imports only: every command module is imported to build the parser; torch comes in run().
from explainer import stopwatch
from explainer.report import format_table

SCHEMES = ("per-channel", "per-tensor")
OBSERVERS = ("histogram", "minmax")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "quantize",
        help="quantize MobileNetV2 to int8 (post-training, calibrated on your photos) and measure it",
        description="Post-training static int8 quantization with PyTorch's x86 int8 kernels: fold batch norm, "
        "observe activations on every photo under --calibration, convert. Prints the state-dict sizes "
        "(float32 vs int8), batch-1 latency of both (alternated in the same run, same threads) and, with "
        "--eval, how often the int8 model's top-1 equals the float model's. Files that are not readable "
        "photos are skipped and listed.",
    )
    parser.add_argument("--model", default="mobilenet_v2", choices=("mobilenet_v2",), help="default %(default)s")
    parser.add_argument("--scheme", default="per-channel", choices=SCHEMES,
                        help="weight scales: one per output channel or one per tensor (default %(default)s)")
    parser.add_argument("--observer", default="histogram", choices=OBSERVERS,
                        help="how activation ranges are chosen during calibration (default %(default)s)")
    parser.add_argument("--equalize", action="store_true",
                        help="cross-layer equalization first (Nagel et al. 2019): the fix for per-tensor scales")
    parser.add_argument("--calibration", required=True, metavar="DIR", help="folder of calibration photos (searched recursively)")
    parser.add_argument("--eval", default=None, metavar="DIR", help="folder of photos to compare float and int8 on")
    parser.add_argument("--out", default=None, metavar="FILE", help="write the int8 state dict here (torch.save)")
    parser.add_argument("--weights-dir", default=None, help="folder with mobilenet_v2.pth (default: $EXPLAINER_WEIGHTS_DIR)")
    parser.add_argument("--runs", type=int, default=stopwatch.DEFAULT_RUNS, help="timed forward passes of each model (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explainer.commands.fetch import text_progress
    from explainer.errors import InvalidInputError
    from explainer.quant.compare import (MAX_CALIBRATION_PHOTOS, MAX_EVAL_PHOTOS, batch_of, collect_photos,
                                         compare_models)
    from explainer.quant.ptq import QuantSettings, compare_latency, quantize, save_state_dict, state_dict_bytes
    from explainer.threads import configure_torch_threads
    from explainer.weights import load_pretrained

    if not 1 <= args.runs <= 1000:
        raise InvalidInputError("out_of_range", name="--runs", low=1, high=1000, value=args.runs)
    settings = QuantSettings(args.scheme, args.observer, args.equalize)
    # bad folders fail before any weights are loaded; at most 32 calibration photos are decoded (as on the page)
    calibration = collect_photos(args.calibration, limit=MAX_CALIBRATION_PHOTOS)
    evaluation = collect_photos(args.eval, limit=MAX_EVAL_PHOTOS) if args.eval else None
    for folder, photos, limit in (("calibration", calibration, MAX_CALIBRATION_PHOTOS),
                                  ("eval", evaluation, MAX_EVAL_PHOTOS)):
        if photos is not None and photos.not_read:
            sys.stderr.write(f"note: only the first {limit} photos of the {folder} folder are used "
                             f"({photos.not_read} more files not read)\n")
    threads = configure_torch_threads()
    loaded = load_pretrained(args.model, args.weights_dir, text_progress(args.model))
    quantized = quantize(loaded.model, batch_of([p.image for p in calibration.photos], loaded), settings, args.model)
    latency = compare_latency(loaded.model, quantized.model, runs=args.runs)
    result = {
        "model": args.model,
        "scheme": settings.scheme,
        "equalize": settings.equalize,
        "observer": settings.observer,
        "calibration_images": quantized.calibration_images,
        "size_fp32_bytes": state_dict_bytes(loaded.model),
        "size_int8_bytes": state_dict_bytes(quantized.model),
        "latency_fp32_ms": round(latency.fp32_ms, 3),
        "latency_int8_ms": round(latency.int8_ms, 3),
        "threads": threads,
        "engine": quantized.engine,
        "weights": loaded.weights,
        "skipped": [{"file": f, "reason": r, "folder": "calibration"} for f, r in calibration.skipped],
    }
    if evaluation is not None:
        names = [p.name for p in evaluation.photos]
        agreement = compare_models(loaded.model, quantized.model, batch_of([p.image for p in evaluation.photos], loaded),
                                   names, loaded.categories)
        result["eval"] = agreement.as_dict()
        result["skipped"] += [{"file": f, "reason": r, "folder": "eval"} for f, r in evaluation.skipped]
    if args.out:
        result["out"] = args.out
        result["out_bytes"] = save_state_dict(quantized.model, args.out)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    for item in result["skipped"]:
        sys.stderr.write(f"skipped ({item['folder']}) {item['file']}: {item['reason']}\n")
    print(f"{loaded.display_name} int8, {settings.scheme} weights, {settings.observer} observer"
          f"{', cross-layer equalization' if settings.equalize else ''}; calibrated on {result['calibration_images']} photos")
    rows = [
        ("state dict (bytes)", f"{result['size_fp32_bytes']:,}", f"{result['size_int8_bytes']:,}",
         f"{result['size_int8_bytes'] / result['size_fp32_bytes']:.2f}"),
        (f"latency, batch 1, {threads} thread(s), median of {latency.runs} (ms)", f"{latency.fp32_ms:.2f}", f"{latency.int8_ms:.2f}", f"{latency.ratio:.2f}"),
    ]
    print(format_table(("", "float32", "int8", "int8 / float32"), rows))
    if "eval" in result:
        ev = result["eval"]
        print(f"on {ev['n']} photos: top-1 agreement {ev['top1_agreement']:.3f}, "
              f"float top-1 within int8 top-5 {ev['fp32_top1_in_int8_top5']:.3f}")
        print(format_table(("file", "float top-1", "int8 top-5"),
                           [(i["file"], i["fp32_top1"], ", ".join(i["int8_top5"])) for i in ev["images"]]))
    if args.out:
        print(f"int8 state dict written to {args.out} ({result['out_bytes']:,} bytes)")
    return 0
