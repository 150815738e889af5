"""``python -m explainer prune``: structured pruning of MobileNetV2, measured as the Compression page does."""

from __future__ import annotations

import argparse
import json
import sys

# Light imports only: every command module is imported to build the parser; torch comes in run().
from explainer.report import format_table


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prune",
        help="remove hidden channels of MobileNetV2's inverted residual blocks for real, and measure it",
        description="Structured pruning of MobileNetV2 with the pretrained weights: in each chosen block (b2-b17) "
        "keep the --keep share of the hidden channels with the largest L1 norms of their effective filters "
        "(batch norm folded in) and remove the others from the expansion, the depthwise and the projection "
        "convolutions together; block outputs and skips stay. --recover refits each pruned projection by least "
        "squares on the calibration photos (no training). Prints MACs, parameters, file sizes, batch-1 time of "
        "the original, the pruned network and the torch.nn.utils.prune masked twin (alternated in one run), "
        "and the top-1 agreement with the original on the --eval photos.",
    )
    parser.add_argument("--keep", type=float, default=0.5, help="share of hidden channels kept, 0-1 (default %(default)s)")
    parser.add_argument("--blocks", default="all", help="'all' or a comma list such as b4,b5 (blocks b2-b17; default all)")
    parser.add_argument("--recover", action=argparse.BooleanOptionalAction, default=True,
                        help="least-squares refit of the pruned projections on the calibration photos (default on)")
    parser.add_argument("--calibration", default=None, metavar="DIR",
                        help="photos for the recovery (default: the app's bundled sample photos)")
    parser.add_argument("--eval", default=None, metavar="DIR",
                        help="photos to compare pruned and original on (default: the app's bundled sample photos)")
    parser.add_argument("--out", default=None, metavar="FILE", help="write the pruned network here (torch.save)")
    parser.add_argument("--weights-dir", default=None, help="folder with mobilenet_v2.pth (default: $EXPLAINER_WEIGHTS_DIR)")
    parser.add_argument("--runs", type=int, default=15, help="timed forward passes of each model (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(run=run)


def _samples(loaded):
    from explainer import images, samples
    from explainer.quant.compare import Photo

    return [Photo(key, images.load_image(samples.sample_bytes(key)[0], key, min_side=images.WORKING_MIN_SIDE))
            for key in samples.available_samples()]


def run(args: argparse.Namespace) -> int:
    from explainer import prune
    from explainer.commands.fetch import text_progress
    from explainer.errors import InvalidInputError
    from explainer.quant.compare import batch_of, collect_photos
    from explainer.threads import configure_torch_threads
    from explainer.weights import load_pretrained

    if not 1 <= args.runs <= 1000:
        raise InvalidInputError("out_of_range", name="--runs", low=1, high=1000, value=args.runs)
    keep = prune.check_keep(args.keep)
    blocks = prune.parse_blocks(args.blocks)
    calibration = collect_photos(args.calibration, limit=prune.MAX_CALIBRATION) if args.calibration else None
    evaluation = collect_photos(args.eval) if args.eval else None
    threads = configure_torch_threads()
    loaded = load_pretrained("mobilenet_v2", args.weights_dir, text_progress("mobilenet_v2"))
    cal_photos = calibration.photos if calibration else _samples(loaded)
    eval_photos = evaluation.photos if evaluation else _samples(loaded)
    cal_batch = batch_of([p.image for p in cal_photos], loaded) if args.recover else None
    result = prune.run(loaded.model, keep, blocks, calibration=cal_batch, runs=args.runs)
    agreement = prune.compare(loaded.model, result.model, batch_of([p.image for p in eval_photos], loaded),
                              [p.name for p in eval_photos], loaded.categories)
    out = {"model": "mobilenet_v2", "weights": loaded.weights, "threads": threads, **result.as_dict(),
           "calibration_images": len(cal_photos) if args.recover else 0,
           "calibration": args.calibration or "samples", "eval": args.eval or "samples",
           "top1_agreement": agreement["top1_agreement"], "agreement": agreement,
           "skipped": [{"file": f, "reason": r, "folder": name} for name, folder in (("calibration", calibration),
                                                                                   ("eval", evaluation))
                       if folder for f, r in folder.skipped]}
    if args.out:
        out["out"] = args.out
        out["out_bytes"] = prune.save(result, args.out)
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    for item in out["skipped"]:
        sys.stderr.write(f"skipped ({item['folder']}) {item['file']}: {item['reason']}\n")
    print(f"MobileNetV2 pruned: keep {keep:.0%} of the hidden channels in {len(blocks)} block(s); recovery "
          f"{'on (' + str(out['calibration_images']) + ' photos)' if args.recover else 'off'}; {threads} thread(s)")
    print(format_table(("", "original", "pruned", "masked twin"), [
        ("MACs", f"{result.original_macs:,}", f"{result.macs:,}", f"{result.original_macs:,}"),
        ("parameters", f"{result.original_params:,}", f"{result.params:,}", f"{result.original_params:,}"),
        ("file (bytes)", f"{result.original_size_bytes:,}", f"{result.size_bytes:,}", f"{result.masked_size_bytes:,}"),
        ("time per photo (ms)", f"{result.latency.original_ms:.2f}", f"{result.latency.pruned_ms:.2f}",
         f"{result.latency.masked_ms:.2f}"),
    ]))
    print(f"top-1 agreement with the original on {agreement['n']} photos: {agreement['top1_agreement']:.3f}")
    if args.out:
        print(f"pruned network written to {args.out} ({out['out_bytes']:,} bytes)")
    return 0
