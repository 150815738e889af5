"""What lowering did, read back from the programs themselves (never typed in).

Two sources, both produced by the export in :mod:`explainer.deploy.pte`:

* the **exported program** (``torch.export``, before lowering): the ATen operators the network is made
  of — convolutions, batch norms, ReLU6 (``hardtanh``), additions, pooling, the classifier;
* the **.pte file** (after lowering): its execution plan (how many instructions call the XNNPACK
  delegate, which operators are left to ExecuTorch's portable kernels) and, inside each XNNPACK blob,
  the XNNPACK graph it will build on the phone (a FlatBuffer with ExecuTorch's ``schema.fbs``, decoded
  with the ``flatc`` that ships with ExecuTorch): node types, the output clamps that carry a fused ReLU6,
  the data type of every weight tensor.

From these two the page and the command line say what happened: batch norms folded into the
convolutions' weights, activations fused as output clamps, what runs in XNNPACK, what does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field

#: ATen operators of the exported network, grouped for the page (anything else is counted as itself).
ATEN_GROUPS: dict[str, str] = {
    "aten.conv2d": "conv",
    "aten.convolution": "conv",
    "aten.batch_norm": "batch_norm",
    "aten._native_batch_norm_legit_no_training": "batch_norm",
    "aten.hardtanh": "relu6",
    "aten.hardtanh_": "relu6",
    "aten.relu": "relu",
    "aten.relu_": "relu",
    "aten.add": "add",
    "aten.add_": "add",
    "aten.adaptive_avg_pool2d": "pool",
    "aten.mean": "pool",
    "aten.linear": "linear",
    "aten.addmm": "linear",
    "aten.flatten": "reshape",
    "aten.view": "reshape",
    "aten.reshape": "reshape",
    "aten.dropout": "dropout",
    "aten.clone": "copy",
    "quantized_decomposed.quantize_per_tensor": "quantize",
    "quantized_decomposed.dequantize_per_tensor": "dequantize",
    "quantized_decomposed.dequantize_per_channel": "dequantize",
}


#: XNNPACK nodes that *are* activations (their clamp is the operation itself, not something fused into it).
ACTIVATION_NODES: frozenset[str] = frozenset({"XNNClamp", "XNNHardtanh", "XNNReLU", "XNNLeakyReLU"})
#: How XNNPACK's schema names weight scales.
SCALES: dict[str, str] = {"PerChannelQuant": "per channel", "PerTensorQuant": "per tensor",
                          "PerChannelGroupQuant": "per group", "PerTokenDynamicQuant": "dynamic"}


def _op_name(target) -> str:
    """``aten.conv2d`` for ``torch.ops.aten.conv2d.default`` (namespace.name, overload dropped)."""
    name = getattr(target, "name", None)
    text = name() if callable(name) else str(target)
    text = text.replace("::", ".")
    parts = text.split(".")
    if len(parts) >= 3 and parts[-1] in ("default", "Tensor", "Scalar", "int", "using_ints", "dim", "input"):
        parts = parts[:-1]
    return ".".join(parts)


def exported_operators(exported_program) -> Counter:
    """How often each ATen operator occurs in a ``torch.export`` program (``{"conv": 52, ...}``, grouped)."""
    counts: Counter = Counter()
    for node in exported_program.graph_module.graph.nodes:
        if node.op != "call_function":
            continue
        name = _op_name(node.target)
        if name in ("getitem", "_operator.getitem"):
            continue
        counts[ATEN_GROUPS.get(name, name)] += 1
    return counts


@dataclass(frozen=True)
class XnnGraph:
    """One XNNPACK delegate blob of a ``.pte`` file: the graph XNNPACK builds at load time."""

    nodes: Counter  # XNNPACK node type -> count, e.g. {"XNNConv2d": 35, "XNNDepthwiseConv2d": 17}
    fused_clamps: Counter  # node type -> nodes carrying an output clamp (a fused activation such as ReLU6)
    clamp_ranges: Counter  # (min, max) -> count of fused clamps
    weight_dtypes: Counter  # XNNPACK datatype of constant tensors -> count, e.g. {"fp32": 106}

    @property
    def node_count(self) -> int:
        return sum(self.nodes.values())


@dataclass(frozen=True)
class Lowering:
    """What lowering did to one network."""

    before: Counter  # ATen operators of the exported program (grouped, see ATEN_GROUPS)
    delegate_calls: int  # instructions of the .pte that call a delegate
    delegates: Counter  # backend id -> count, e.g. {"XnnpackBackend": 1}
    portable_ops: Counter  # operators left to ExecuTorch's portable kernels, by name
    xnnpack: list[XnnGraph] = field(default_factory=list)

    @property
    def xnn_nodes(self) -> Counter:
        total: Counter = Counter()
        for graph in self.xnnpack:
            total.update(graph.nodes)
        return total

    @property
    def delegated_nodes(self) -> int:
        """Operators XNNPACK runs (nodes of its graphs)."""
        return sum(graph.node_count for graph in self.xnnpack)

    @property
    def portable_count(self) -> int:
        """Operator calls left to the portable runtime (outside any delegate)."""
        return sum(self.portable_ops.values())

    @property
    def fused_activations(self) -> int:
        return sum(sum(graph.fused_clamps.values()) for graph in self.xnnpack)

    @property
    def clamp_ranges(self) -> Counter:
        total: Counter = Counter()
        for graph in self.xnnpack:
            total.update(graph.clamp_ranges)
        return total

    @property
    def weight_dtypes(self) -> Counter:
        total: Counter = Counter()
        for graph in self.xnnpack:
            total.update(graph.weight_dtypes)
        return total

    @property
    def folded_batch_norms(self) -> int:
        """Batch norms of the exported network that no longer exist after lowering (folded into weights)."""
        remaining = self.xnn_nodes.get("XNNBatchNorm", 0) + self.portable_ops.get("aten.native_batch_norm", 0)
        return max(0, self.before.get("batch_norm", 0) - remaining)

    def as_dict(self) -> dict:
        return {
            "exported_ops": dict(sorted(self.before.items())),
            "delegate_calls": self.delegate_calls,
            "xnnpack": self.delegated_nodes,
            "portable": self.portable_count,
            "xnnpack_nodes": dict(sorted(self.xnn_nodes.items())),
            "portable_ops": dict(sorted(self.portable_ops.items())),
            "folded_batch_norms": self.folded_batch_norms,
            "fused_activations": self.fused_activations,
            "clamp_ranges": {f"{lo:g}..{hi:g}": n for (lo, hi), n in sorted(self.clamp_ranges.items())},
            "weight_dtypes": dict(sorted(self.weight_dtypes.items())),
        }


def _xnn_graph_json(blob: bytes) -> dict:
    """Decode one XNNPACK delegate blob (header + FlatBuffer + constants) to the graph's JSON."""
    from executorch.backends.xnnpack.serialization import xnnpack_graph_serialize as xser
    from executorch.exir._serialize._flatbuffer import _get_flatc_path

    header = xser.XNNHeader.from_bytes(blob[: xser.XNNHeader.EXPECTED_LENGTH])
    flatbuffer = blob[header.flatbuffer_offset: header.flatbuffer_offset + header.flatbuffer_size]
    schema = os.path.join(os.path.dirname(xser.__file__), "schema.fbs")
    with tempfile.TemporaryDirectory() as folder:
        binary = os.path.join(folder, "graph.bin")
        with open(binary, "wb") as handle:
            handle.write(flatbuffer)
        subprocess.run([_get_flatc_path(), "--json", "--strict-json", "--raw-binary", "-o", folder, schema,
                        "--", binary], check=True, capture_output=True, timeout=60)
        with open(os.path.join(folder, "graph.json"), encoding="utf-8") as handle:
            return json.load(handle)


def xnn_graph(blob: bytes) -> XnnGraph:
    """The node types, fused clamps and weight data types of one XNNPACK delegate blob."""
    graph = _xnn_graph_json(blob)
    nodes: Counter = Counter()
    fused: Counter = Counter()
    ranges: Counter = Counter()
    for node in graph.get("xnodes", []):
        kind = node.get("xnode_union_type", "?")
        nodes[kind] += 1
        clamp = node.get("output_min_max")
        if clamp and kind not in ACTIVATION_NODES:  # a clamp node's own range is not a fusion
            fused[kind] += 1
            ranges[(float(clamp.get("output_min", 0.0)), float(clamp.get("output_max", 0.0)))] += 1
    dtypes: Counter = Counter()
    for value in graph.get("xvalues", []):
        union = value.get("xvalue_union", {})
        tensor = union.get("tensor_value", union)  # a quantized value wraps its tensor
        if int(tensor.get("constant_buffer_idx", 0)) > 0:  # 0 (left out) = not a constant: an activation
            dtype = str(tensor.get("datatype", "?")).removeprefix("xnn_datatype_")
            scales = union.get("quant_params_type")
            dtypes[f"{dtype} ({SCALES.get(scales, scales)})" if scales else dtype] += 1
    return XnnGraph(nodes, fused, ranges, dtypes)


def read_lowering(exported_program, pte: bytes) -> Lowering:
    """What lowering did: the exported program's operators beside the ``.pte``'s plan and XNNPACK graphs."""
    from executorch.exir._serialize._program import deserialize_pte_binary

    program = deserialize_pte_binary(pte).program
    delegate_calls = 0
    portable: Counter = Counter()
    delegates: Counter = Counter()
    graphs: list[XnnGraph] = []
    for plan in program.execution_plan:
        for chain in plan.chains:
            for instruction in chain.instructions:
                kind = type(instruction.instr_args).__name__
                if kind == "DelegateCall":
                    delegate_calls += 1
                elif kind == "KernelCall":
                    operator = plan.operators[instruction.instr_args.op_index]
                    portable[f"{operator.name}" + (f".{operator.overload}" if operator.overload not in ("", "default")
                                                   else "")] += 1
        for delegate in plan.delegates:
            delegates[delegate.id] += 1
            if delegate.id == "XnnpackBackend" and delegate.processed.location.name == "INLINE":
                graphs.append(xnn_graph(program.backend_delegate_data[delegate.processed.index].data))
    return Lowering(exported_operators(exported_program), delegate_calls, delegates, portable, graphs)
