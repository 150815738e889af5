"""``python -m explainer export``: the configured MobileNetV2 as an ExecuTorch ``.pte`` (XNNPACK), run and measured."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# Light imports only: every command module is imported to build the parser; torch comes in run().
from explainer.commands.options import add_weights_dir
from explainer.report import format_table

MODELS = ("mobilenet_v2",)
DTYPES = ("float32", "int8")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export MobileNetV2 (any α 0.35–1.4, resolution 96–224, float32 or int8) to an ExecuTorch .pte",
        description="torch.export → to_edge_transform_and_lower(XnnpackPartitioner) → to_executorch, int8 through "
        "PT2E with XNNPACK's quantizer (symmetric, per-channel weights) calibrated on --calibration (default: the "
        "bundled sample photos). Then the file is run with ExecuTorch's runtime in this process (1 thread) and "
        "measured against eager PyTorch in the same run: size, time per photo, largest logit difference and top-1 "
        "agreement on the calibration (or sample) photos, operators run by XNNPACK vs ExecuTorch's portable "
        "kernels. ImageNet weights exist for α = 1.0 only; any other α is exported with random weights (size and "
        "speed only). Needs `pip install executorch` (Linux x86_64/aarch64, macOS arm64).",
    )
    parser.add_argument("--model", default="mobilenet_v2", choices=MODELS, help="default %(default)s")
    parser.add_argument("--width", type=float, default=1.0, metavar="A", help="width multiplier α, 0.35–1.4 "
                        "(default %(default)s)")
    parser.add_argument("--resolution", type=int, default=224, metavar="R", help="input size R×R, 96–224 "
                        "(default %(default)s)")
    parser.add_argument("--dtype", default="float32", choices=DTYPES, help="number format (default %(default)s)")
    parser.add_argument("--calibration", default=None, metavar="DIR",
                        help="photos to calibrate int8 on and to compare with eager (default: the sample photos)")
    add_weights_dir(parser, "folder with mobilenet_v2.pth (default: $EXPLAINER_WEIGHTS_DIR)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each of eager and .pte (default %(default)s)")
    parser.add_argument("--out", required=True, metavar="FILE.pte", help="where to write the .pte file")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(run=run)


def _photos(folder: str | None):
    """(names, images): the photos under ``folder``, or the bundled samples; plus skipped files."""
    from explainer.images import WORKING_MIN_SIDE, load_image
    from explainer.quant.compare import collect_photos
    from explainer.samples import available_samples, sample_bytes

    if folder:
        found = collect_photos(folder)
        return [p.name for p in found.photos], [p.image for p in found.photos], found.skipped
    keys = available_samples()
    return list(keys), [load_image(sample_bytes(k)[0], k, min_side=WORKING_MIN_SIDE) for k in keys], []


def run(args: argparse.Namespace) -> int:
    from explainer.commands.fetch import text_progress
    from explainer.deploy.pte import check_settings, export_and_measure, load_network, require_executorch
    from explainer.errors import InvalidInputError
    from explainer.threads import configure_torch_threads

    settings = check_settings(args.model, args.width, args.resolution, args.dtype)  # bad options fail first
    if not 1 <= args.runs <= 1000:
        raise InvalidInputError("out_of_range", name="--runs", low=1, high=1000, value=args.runs)
    out = Path(args.out)
    if out.is_dir() or not out.parent.is_dir():
        raise InvalidInputError("export.bad_out", file=str(out))
    require_executorch()
    names, images, skipped = _photos(args.calibration)
    configure_torch_threads()
    network = load_network(settings, args.weights_dir, text_progress(settings.model))
    batch = network.batch(images)

    def progress(stage: str, fraction: float) -> None:
        if not args.json:
            sys.stderr.write(f"{stage}… {100 * fraction:.0f}%\n")

    result = export_and_measure(network, settings, batch, names, progress=progress, runs=args.runs)
    out.write_bytes(result.exported.pte)
    data = {"file": str(out), **result.as_dict(),
            "skipped": [{"file": f, "reason": r} for f, r in skipped]}
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    for item in data["skipped"]:
        sys.stderr.write(f"skipped {item['file']}: {item['reason']}\n")
    m, low = result.measurement, result.exported.lowering
    weights = "ImageNet weights" if result.pretrained else "untrained weights: size and speed only"
    print(f"{out} ({data['bytes']:,} bytes): MobileNetV2 α={settings.width:g} at {settings.resolution}×"
          f"{settings.resolution}, {settings.dtype}, {weights}; lowered in {result.exported.seconds:.1f} s")
    print(format_table(("", "eager PyTorch", ".pte (ExecuTorch + XNNPACK)"), [
        (f"time per photo, {m.threads} / {m.runtime_threads} thread(s), median of {m.runs} (ms)",
         f"{m.eager_latency_ms:.2f}", f"{m.latency_ms:.2f}"),
    ]))
    print(f"on {len(names)} photos: top-1 agreement {m.agreeing}/{len(m.photos)}, "
          f"largest |logit difference| {m.max_abs_diff:.3g}")
    print(f"operators: {low.delegated_nodes} run by XNNPACK ({low.delegate_calls} delegate call(s)), "
          f"{low.portable_count} left to the portable runtime; {low.folded_batch_norms} batch norms folded, "
          f"{low.fused_activations} activations fused into the layer before")
    print(format_table(("XNNPACK node", "count"), sorted(low.xnn_nodes.items())))
    return 0
