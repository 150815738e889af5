"""``python -m explainer trace IMAGE --stage b4.dw --channel 81 --y 10 --x 12``: one output value of a real
MobileNet convolution, recomputed step by step (window × kernel, sum, + bias, activation) and compared with the
value of the real forward pass — what the "Inside a convolution" page shows."""

from __future__ import annotations

import argparse
import json
import sys

from explainer.architectures import MODEL_NAMES
from explainer.commands.options import add_image, add_model, add_untrained, add_weights_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "trace",
        help="one output value of a convolution, computed step by step on real weights",
        description="Decode IMAGE, run the network once (the feature-capture pass, keeping every convolution's "
        "input) and recompute output (CHANNEL, Y, X) of STAGE by hand: the input window the output sees "
        "(zeros where it lies on the padding), the kernel with batch norm folded in, their products, the sum, "
        "+ bias, the activation — against the value the forward pass produced. Stages are the convolution "
        "names of `features --json`: stem, b<k>.expand, b<k>.dw, b<k>.project (V1: b<k>.dw, b<k>.pw), head.",
    )
    add_image(parser)
    add_model(parser, MODEL_NAMES)
    parser.add_argument("--stage", required=True, help="a convolution stage, e.g. stem, b4.dw, b4.project")
    parser.add_argument("--channel", type=int, required=True, help="output channel (from 0)")
    parser.add_argument("--y", type=int, required=True, help="output row (from 0)")
    parser.add_argument("--x", type=int, required=True, help="output column (from 0)")
    add_weights_dir(parser)
    add_untrained(parser)
    parser.add_argument("--json", action="store_true",
                        help='print {"model", "stage", "kind", "kernel_size", "stride", "multiplications", "window", '
                        '"kernel", "sum_of_products", "bias", "pre_activation", "activation", "output", '
                        '"reference_output", "abs_error", …}')
    parser.set_defaults(run=run)


def _matrix(values) -> str:
    return "\n".join("    " + " ".join(f"{v:9.4f}" for v in row) for row in values)


def run(args: argparse.Namespace) -> int:
    from explainer.architectures import build_network
    from explainer.commands.fetch import text_progress
    from explainer.images import WORKING_MIN_SIDE, load_image
    from explainer.trace import check_index, conv_layer, trace_image
    from explainer.weights import load_pretrained

    # A wrong stage name (and for V2/V3, whose shapes do not depend on the weights file, a position outside
    # the map) needs no photo and no weights.
    layer = conv_layer(build_network(args.model), args.stage)
    if args.model != "mobilenet_v1":
        check_index(layer, args.channel, args.y, args.x)
    image = load_image(args.image, min_side=WORKING_MIN_SIDE)
    loaded = load_pretrained(args.model, args.weights_dir, text_progress(args.model), fallback=args.untrained)
    result = trace_image(image, loaded, args.stage, args.channel, args.y, args.x)
    if not loaded.pretrained:
        sys.stderr.write("warning: untrained weights: the numbers come from a random network\n")
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    c, h, w = result.output_shape
    m = result.input_shape[0]
    print(f"{loaded.display_name}  weights: {loaded.weights}  stage {result.stage} ({result.kind}, "
          f"{result.kernel_size}x{result.kernel_size}, stride {result.stride}): {m} -> {c} channels, output {h}x{w}")
    print(f"output channel {result.channel}, y {result.y}, x {result.x}; window rows {result.rows[0]}..{result.rows[-1]}, "
          f"columns {result.cols[0]}..{result.cols[-1]} ({result.padded_positions} of "
          f"{result.kernel_size ** 2} positions on the zero padding)")
    if len(result.input_channels) <= 4:
        for i, ch in enumerate(result.input_channels):
            print(f"  input channel {ch}: window / kernel (batch norm folded in)")
            print(_matrix(result.window[i]))
            print(_matrix(result.kernel[i]))
    fold = "batch norm folded in" if result.batch_norm else "the layer's own bias"
    print(f"multiplications for this output: {result.multiplications}; layer outputs {c}x{h}x{w} = "
          f"{result.outputs:,}; MACs = {result.multiplications} x {result.outputs:,} = "
          f"{result.multiplications * result.outputs:,} (cost engine: {result.layer_macs:,})")
    print(f"sum of products      {result.sum_of_products:.7f}")
    print(f"+ bias ({fold})  {result.bias:.7f}")
    print(f"= pre-activation     {result.pre_activation:.7f}")
    print(f"activation {result.activation:<10}-> {result.output:.7f}")
    print(f"forward pass value   {result.reference_output:.7f}   |difference| {result.abs_error:.2e}")
    return 0
