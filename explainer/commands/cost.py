"""``python -m explainer cost``: standard vs depthwise separable vs inverted residual."""

from __future__ import annotations

import argparse
import json

from explainer.costs import DEFAULT_INPUTS as D, CostInputs, compare
from explainer.report import format_table


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cost",
        help="exact MACs and parameters of one layer in three designs",
        description="Cost of a standard convolution, a depthwise separable convolution and an "
        "inverted residual block with the same input/output shape. MACs count weight "
        "multiply-accumulates (no bias, BN or activations); 'same' padding; output size "
        "ceil(DF/stride).",
    )
    parser.add_argument("--dk", type=int, default=int(D["d_k"]), help="kernel size D_K (odd, 1-11; default %(default)s)")
    parser.add_argument("--m", type=int, default=int(D["m"]), help="input channels M (1-2048; default %(default)s)")
    parser.add_argument("--n", type=int, default=int(D["n"]), help="output channels N (1-2048; default %(default)s)")
    parser.add_argument("--df", type=int, default=int(D["d_f"]), help="input height = width D_F (1-512; default %(default)s)")
    parser.add_argument("--t", type=int, default=int(D["t"]), help="expansion factor t of the inverted residual (1-10; default %(default)s)")
    parser.add_argument("--stride", type=int, default=int(D["stride"]), help="stride, 1 or 2 (default %(default)s)")
    parser.add_argument("--alpha", type=float, default=D["alpha"], help="width multiplier α (0.1-2.0; default %(default)s)")
    parser.add_argument("--rho", type=float, default=D["rho"], help="resolution multiplier ρ (0.1-2.0; default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    inputs = CostInputs.checked(args.dk, args.m, args.n, args.df, args.t, args.stride, args.alpha, args.rho)
    result = compare(inputs)
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    i = inputs
    print(
        f"D_K={i.d_k}  M={i.m}→{i.effective_m}  N={i.n}→{i.effective_n}  "
        f"D_F={i.d_f}→{i.effective_d_f}  t={i.t}  stride={i.stride}  α={i.alpha:g}  ρ={i.rho:g}  "
        f"output {i.output_d_f}×{i.output_d_f}"
    )
    inv = result.inverted
    rows = [
        ("standard convolution", result.standard.macs, result.standard.params),
        ("depthwise separable", result.separable.macs, result.separable.params),
        ("  depthwise", result.separable.depthwise.macs, result.separable.depthwise.params),
        ("  pointwise", result.separable.pointwise.macs, result.separable.pointwise.params),
        (f"inverted residual (t={i.t})", inv.macs, inv.params),
        ("  expand 1×1", inv.expand.macs if inv.expand else 0, inv.expand.params if inv.expand else 0),
        ("  depthwise", inv.depthwise.macs, inv.depthwise.params),
        ("  project 1×1 (linear)", inv.project.macs, inv.project.params),
    ]
    print(format_table(("design", "MACs", "params"), [(n, f"{m:,}", f"{p:,}") for n, m, p in rows]))
    print(f"residual additions: {inv.residual_adds:,}" + ("" if inv.has_residual else " (no shortcut: stride 2 or M ≠ N)"))
    print(f"separable / standard = {result.ratio_exact:.6f} (exact);  1/N + 1/D_K² = {result.ratio_approx:.6f}")
    print(f"separable saves {result.separable_reduction:.2f}×, inverted residual {result.inverted_reduction:.2f}× vs standard")
    return 0
