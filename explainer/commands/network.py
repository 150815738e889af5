"""``python -m explainer network``: a network layer by layer, with exact MACs and parameters.

The four MobileNets come from their layer tables (:mod:`explainer.architectures`, unchanged output); every
other registered model (:mod:`explainer.registry`: SqueezeNet, ShuffleNet V2, MnasNet, EfficientNet-B0,
ResNet, VGG) is counted where each layer runs (:mod:`explainer.zoo.network`), with memory traffic and
arithmetic intensity per layer. ``--traffic`` shows a MobileNet that way too.
"""

from __future__ import annotations

import argparse
import json

from explainer.architectures import MODEL_NAMES, RESOLUTION_RANGE, WIDTH_RANGE, build_network
from explainer.report import format_table
from explainer.registry import MODEL_NAMES as ALL_MODELS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "network",
        help="a whole network layer by layer: shapes, MACs, parameters, breakdown by layer type",
        description="Expand MobileNetV1, V2, V3-Large or V3-Small into its layers at width multiplier α and "
        "input resolution, with the exact MACs (weight multiply-accumulates) and parameters (weights and "
        "biases; batch norm reported apart) of every layer. --twin replaces every depthwise + 1×1 pair by "
        "one full convolution (the V1 paper's 'Conv MobileNet'). The other models (SqueezeNet, ShuffleNet V2, "
        "MnasNet, EfficientNet-B0, ResNet, VGG) are counted where each layer runs, with the bytes every layer "
        "reads and writes (float32) and its arithmetic intensity (MACs per byte).",
    )
    parser.add_argument("model", choices=ALL_MODELS, metavar="MODEL",
                        help="the network: " + ", ".join(ALL_MODELS))
    parser.add_argument("--width", type=float, default=None,
                        help=f"MobileNets: width multiplier α ({WIDTH_RANGE[0]:g}-{WIDTH_RANGE[1]:g}; default 1.0). "
                        "ShuffleNet V2 and MnasNet: their widths are fixed variants named in the model "
                        "(shufflenet_v2_x0_5 …, mnasnet0_5 …); --width must then equal the variant's own width. "
                        "Other models have no width multiplier and refuse it.")
    parser.add_argument("--resolution", type=int, default=224,
                        help=f"input height = width ({RESOLUTION_RANGE[0]}-{RESOLUTION_RANGE[1]}; default %(default)s)")
    parser.add_argument("--twin", action="store_true", help="MobileNets only: the standard-convolution twin instead")
    parser.add_argument("--traffic", action="store_true",
                        help="MobileNets: count the PyTorch model where each layer runs, with memory traffic "
                        "(the default for the other models)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(run=run)


def _shape(shape) -> str:
    return "×".join(str(v) for v in shape)


def _mobilenet(args: argparse.Namespace) -> int:
    network = build_network(args.model, 1.0 if args.width is None else args.width, args.resolution, args.twin)
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


def _counted(args: argparse.Namespace) -> int:
    from explainer.errors import InvalidInputError
    from explainer.zoo.network import check_width, count_network

    if args.twin:
        raise InvalidInputError("zoo.no_twin", name=args.model)
    if args.model in MODEL_NAMES:
        if args.width not in (None, 1.0):
            raise InvalidInputError("zoo.traffic_width", name=args.model)
    else:
        check_width(args.model, args.width)
    network = count_network(args.model, args.resolution)
    if args.json:
        print(json.dumps(network.as_dict()))
        return 0
    spec = network.spec
    width = f"  width {spec.width:g}" if spec.width is not None else ""
    print(f"{spec.display}{width}  {network.resolution}×{network.resolution}  (counted where each layer runs; "
          "bytes in float32)")
    rows = [
        (layer.name, layer.kind, _shape(layer.as_dict()["input"]), _shape(layer.as_dict()["output"]),
         f"{layer.macs:,}", f"{layer.params:,}", f"{layer.bytes_read:,}", f"{layer.bytes_written:,}",
         f"{layer.intensity:.2f}")
        for layer in network.layers
    ]
    print(format_table(("layer", "kind", "input h×w×c", "output h×w×c", "MACs", "params", "bytes read",
                        "bytes written", "MACs/byte"), rows))
    print(f"total: {network.macs:,} MACs ({network.macs / 1e6:.1f} M), {network.params:,} params "
          f"({network.params / 1e6:.2f} M) + {network.other_params:,} other (batch norm) = "
          f"{network.total_params:,}; {network.bytes_moved / 1e6:.1f} MB moved; size {network.size_mb:.1f} MB "
          f"float32, about {network.int8_size_mb:.1f} MB int8")
    print(format_table(("kind", "MACs", "% MACs", "params", "% params", "MB moved", "% bytes"), [
        (kind, f"{s['macs']:,}", f"{s['macs_pct']:.2f}", f"{s['params']:,}", f"{s['params_pct']:.2f}",
         f"{s['bytes_moved'] / 1e6:.1f}", f"{s['bytes_pct']:.2f}")
        for kind, s in network.breakdown().items()
    ]))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.model in MODEL_NAMES and not args.traffic:
        return _mobilenet(args)
    return _counted(args)
