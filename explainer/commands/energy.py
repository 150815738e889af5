"""``python -m explainer energy``: energy of one inference, from the exact MACs and bytes and Horowitz's 45 nm table."""

from __future__ import annotations

import argparse
import json

# Light imports only: every command module is imported to build the parser.
from explainer.report import format_table

DTYPES = ("fp32", "fp16", "int8")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from explainer.registry import MODEL_NAMES

    parser = subparsers.add_parser(
        "energy",
        help="estimate the energy of one inference: MACs × energy per MAC + bytes moved × energy per byte",
        description="Energy of one inference of any network of the app, estimated from its exact MACs and the "
        "bytes every layer reads and writes (each layer reads its input and weights once and writes its output "
        "once) with the energies per operation of Horowitz (ISSCC 2014, 45 nm): a MAC is a multiply + an add in "
        "the number format (int8: 8-bit multiply, 32-bit accumulate); a byte in DRAM costs 1.3 nJ / 8 (the low "
        "end of 1.3-2.6 nJ per 64-bit access), a byte on chip a 64-bit read of a 1 MB SRAM (100 pJ) / 8. Left "
        "out: instruction overhead, caches, idle power - a phone measures 10-100× more (see the Energy page).",
    )
    parser.add_argument("--model", required=True, choices=MODEL_NAMES, metavar="NAME",
                        help="the network: " + ", ".join(MODEL_NAMES))
    parser.add_argument("--width", type=float, default=None,
                        help="MobileNets: width multiplier α (0.1-2.0; default 1.0); the other models refuse "
                        "another width than their own")
    parser.add_argument("--resolution", type=int, default=224, help="input height = width (32-512; default 224)")
    parser.add_argument("--dtype", default="fp32", choices=DTYPES,
                        help="number format of weights, activations and arithmetic (default %(default)s)")
    parser.add_argument("--weights-on-chip", action="store_true",
                        help="weights stay in on-chip SRAM (default: fetched from DRAM on every photo)")
    parser.add_argument("--activations-on-chip", action="store_true",
                        help="activations stay in on-chip SRAM (default: written to and read from DRAM)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explainer.energy import estimate

    result = estimate(args.model, args.width, args.resolution, args.dtype, weights_on_chip=args.weights_on_chip,
                      activations_on_chip=args.activations_on_chip)
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    where = lambda on_chip: "on-chip SRAM" if on_chip else "DRAM"  # noqa: E731
    width = "" if result.width is None else f"  α={result.width:g}"
    print(f"{args.model}{width}  {result.resolution}×{result.resolution}  {result.dtype}  weights in "
          f"{where(result.weights_on_chip)}, activations in {where(result.activations_on_chip)}")
    rows = [
        ("compute", f"{result.macs:,} MACs", f"{float(result.mac_pj):g} pJ/MAC", f"{result.compute_mj:.4f}"),
        ("weights", f"{result.weight_bytes:,} bytes", f"{float(result.weight_byte_pj):g} pJ/byte",
         f"{result.weight_mj:.4f}"),
        ("activations", f"{result.activation_bytes:,} bytes", f"{float(result.activation_byte_pj):g} pJ/byte",
         f"{result.activation_mj:.4f}"),
        ("total", "", "", f"{result.total_mj:.4f}"),
    ]
    print(format_table(("part", "count", "energy each", "mJ"), rows))
    print(f"memory share: {result.memory_share:.1%} (Horowitz, ISSCC 2014, 45 nm; a phone measures far more: "
          "instruction overhead, caches, idle power)")
    return 0
