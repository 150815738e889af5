"""``python -m explainer network``: a MobileNet layer by layer, with exact MACs and parameters."""

from __future__ import annotations

import argparse
import json

from explainer.architectures import MODEL_NAMES, RESOLUTION_RANGE, WIDTH_RANGE, build_network
from explainer.report import format_table


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "network",
        help="a whole MobileNet layer by layer: shapes, MACs, parameters, breakdown by layer type",
        description="Expand MobileNetV1, V2, V3-Large or V3-Small into its layers at width multiplier α and "
        "input resolution, with the exact MACs (weight multiply-accumulates) and parameters (weights and "
        "biases; batch norm reported apart) of every layer. --twin replaces every depthwise + 1×1 pair by "
        "one full convolution (the V1 paper's 'Conv MobileNet').",
    )
    parser.add_argument("model", choices=MODEL_NAMES, help="the network")
    parser.add_argument("--width", type=float, default=1.0,
                        help=f"width multiplier α ({WIDTH_RANGE[0]:g}-{WIDTH_RANGE[1]:g}; default %(default)s)")
    parser.add_argument("--resolution", type=int, default=224,
                        help=f"input height = width ({RESOLUTION_RANGE[0]}-{RESOLUTION_RANGE[1]}; default %(default)s)")
    parser.add_argument("--twin", action="store_true", help="the standard-convolution twin instead")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(run=run)


def _shape(shape: tuple[int, int, int]) -> str:
    return "×".join(str(v) for v in shape)


def run(args: argparse.Namespace) -> int:
    network = build_network(args.model, args.width, args.resolution, args.twin)
    if args.json:
        print(json.dumps(network.as_dict()))
        return 0
    print(f"{network.display_name}  α={network.width:g}  {network.resolution}×{network.resolution}")
    rows = [
        (layer.name, layer.type, layer.stage, _shape(layer.input), _shape(layer.output), f"{layer.macs:,}",
         f"{layer.params:,}")
        for layer in network.layers
    ]
    print(format_table(("layer", "type", "stage", "input h×w×c", "output h×w×c", "MACs", "params"), rows))
    print(f"total: {network.macs:,} MACs ({network.macs / 1e6:.1f} M), {network.params:,} params "
          f"({network.params / 1e6:.2f} M) + {network.bn_params:,} batch-norm params = {network.total_params:,}")
    shares = network.breakdown()
    print(format_table(("layer type", "MACs", "% MACs", "params", "% params"), [
        (kind, f"{s.macs:,}", f"{s.macs_pct:.2f}", f"{s.params:,}", f"{s.params_pct:.2f}")
        for kind, s in shares.items()
    ]))
    return 0
