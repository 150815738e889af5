"""Figures of "The lightweight family" page: accuracy vs cost scatters, the roofline, the key blocks.

They take computed data (:mod:`explainer.zoo`) and already-translated labels, and never import Streamlit.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping, Sequence

import plotly.graph_objects as go

from explainer.costs import BlockCost
from explainer.figures.axes import LOG_AXIS, label_positions
from explainer.zoo.latency import ZooRow
from explainer.zoo.roofline import Machine, RooflinePoint

FAMILY_COLORS: dict[str, str] = {
    "squeezenet": "#8d6e63",
    "shufflenet_v2": "#edae49",
    "mobilenet": "#2e86ab",
    "mnasnet": "#66a182",
    "efficientnet": "#d1495b",
    "resnet": "#8367c7",
    "vgg": "#555555",
}
KIND_COLORS: dict[str, str] = {
    "standard": "#d1495b",
    "grouped": "#b56576",
    "depthwise": "#66a182",
    "pointwise": "#2e86ab",
    "linear": "#8367c7",
}


def accuracy_scatter(rows: Sequence[ZooRow], cost: Callable[[ZooRow], float | None], front: Sequence[ZooRow],
                     pick: str | None, labels: Mapping[str, str]) -> go.Figure:
    """Top-1 against a cost (log x axis): one marker per model coloured by family, the Pareto front as a step
    line, the student's pick ringed. ``labels``: ``x``, ``y``, ``front``, ``pick`` and one per family key."""
    fig = go.Figure()
    usable = [r for r in rows if r.top1 is not None and cost(r) is not None]
    named = {r.model for r in front} | {pick}  # the others are named on hover (labels would overlap)
    labelled = [r for r in usable if r.model in named]
    where = dict(zip((r.model for r in labelled), label_positions([cost(r) for r in labelled],
                                                                   [r.top1 for r in labelled])))
    for family, color in FAMILY_COLORS.items():
        chosen = [r for r in usable if r.family == family]
        if not chosen:
            continue
        fig.add_trace(go.Scatter(
            x=[cost(r) for r in chosen], y=[r.top1 for r in chosen], mode="markers+text",
            text=[r.display if r.model in named else "" for r in chosen], hovertext=[r.display for r in chosen],
            textposition=[where.get(r.model, "top center") for r in chosen], textfont={"size": 10}, cliponaxis=False,
            marker={"size": 10, "color": color, "symbol": ["diamond" if r.reference else "circle" for r in chosen]},
            name=labels[family], hovertemplate="%{hovertext}<br>%{x:,.4g}<br>top-1 %{y:.1f} %<extra></extra>"))
    if len(front) > 1:
        xs, ys = [], []
        for i, row in enumerate(front):
            if i:
                xs.append(cost(row))
                ys.append(front[i - 1].top1)
            xs.append(cost(row))
            ys.append(row.top1)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#222", "dash": "dot", "width": 1.5},
                                 name=labels["front"], hoverinfo="skip"))
    picked = [r for r in usable if r.model == pick]
    if picked:
        row = picked[0]
        fig.add_trace(go.Scatter(x=[cost(row)], y=[row.top1], mode="markers", name=labels["pick"],
                                 marker={"size": 22, "color": "rgba(0,0,0,0)", "line": {"color": "#e4572e", "width": 3}},
                                 hovertemplate=row.display + "<extra></extra>"))
    fig.update_xaxes(**LOG_AXIS, title=labels["x"])
    fig.update_yaxes(title=labels["y"])
    fig.update_layout(height=440, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def roofline(points: Sequence[RooflinePoint], machine: Machine, labels: Mapping[str, str],
             reference: Sequence[RooflinePoint] = ()) -> go.Figure:
    """Log-log roofline in MAC units: the memory roof (bandwidth × intensity), the compute roof (peak), each layer
    at its intensity and measured rate (or at its roof, hollow, when not measured). ``reference``: another
    network's layers drawn faintly (VGG-16's 3×3 convolutions against the compute roof).

    ``labels``: ``x``, ``y``, ``memory_roof``, ``compute_roof``, ``reference``, and one per layer kind.
    """
    fig = go.Figure()
    every = list(points) + list(reference)
    low = min([p.intensity for p in every] + [machine.ridge / 20])
    high = max([p.intensity for p in every] + [machine.ridge * 20])
    xs = [low / 1.5, machine.ridge, high * 1.5]
    fig.add_trace(go.Scatter(x=xs[:2], y=[machine.roof(x) for x in xs[:2]], mode="lines",
                             line={"color": "#444", "width": 3}, name=labels["memory_roof"]))
    fig.add_trace(go.Scatter(x=xs[1:], y=[machine.peak_gmacs] * 2, mode="lines", line={"color": "#000", "width": 3},
                             name=labels["compute_roof"]))
    if reference:
        fig.add_trace(go.Scatter(
            x=[p.intensity for p in reference], y=[p.measured_gmacs or p.roof_gmacs for p in reference],
            mode="markers", marker={"size": 8, "color": "rgba(120,120,120,0.45)", "symbol": "square"},
            name=labels["reference"], text=[p.name for p in reference],
            hovertemplate="%{text}<br>%{x:.2f} MAC/B · %{y:.1f} GMAC/s<extra></extra>"))
    for kind, color in KIND_COLORS.items():
        chosen = [p for p in points if p.kind == kind]
        if not chosen:
            continue
        measured = [p.measured_gmacs is not None for p in chosen]
        fig.add_trace(go.Scatter(
            x=[p.intensity for p in chosen], y=[p.measured_gmacs or p.roof_gmacs for p in chosen], mode="markers",
            marker={"size": [6 + 10 * math.sqrt(p.macs / max(q.macs for q in every)) for p in chosen],
                    "color": color, "symbol": ["circle" if m else "circle-open" for m in measured]},
            name=labels[kind], text=[p.name for p in chosen],
            customdata=[[p.macs, p.bytes_moved] for p in chosen],
            hovertemplate="%{text}<br>%{customdata[0]:,} MACs, %{customdata[1]:,} bytes<br>"
                          "%{x:.2f} MAC/B · %{y:.1f} GMAC/s<extra></extra>"))
    fig.update_xaxes(**LOG_AXIS, title=labels["x"])
    fig.update_yaxes(**LOG_AXIS, title=labels["y"])
    fig.update_layout(height=480, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": -0.2})
    return fig


# --------------------------------------------------------------------------
# Key blocks as Graphviz DOT (st.graphviz_chart), like explainer.diagrams
# --------------------------------------------------------------------------

_STYLE = (
    'graph [rankdir=TB, bgcolor="transparent", fontname="Helvetica", nodesep=0.25, ranksep=0.3];\n'
    'node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, fillcolor="#eef3fb", color="#4a6fa5"];\n'
    'edge [color="#555555"];\n'
)
_FILL = {"pointwise": "#d6e9f5", "depthwise": "#dff0e6", "standard": "#f6d5da", "memory": "#f4f4f4"}

#: Edges of each block between part names ("in" and "out" are the block's tensors).
_EDGES: dict[str, list[tuple[str, str]]] = {
    "fire": [("in", "squeeze"), ("squeeze", "expand1x1"), ("squeeze", "expand3x3"), ("expand1x1", "concat"),
             ("expand3x3", "concat"), ("concat", "out")],
    "shufflenet_v2_s1": [("in", "split"), ("split", "branch2_1x1"), ("branch2_1x1", "branch2_depthwise"),
                         ("branch2_depthwise", "branch2_1x1_out"), ("branch2_1x1_out", "concat"), ("split", "concat"),
                         ("concat", "shuffle"), ("shuffle", "out")],
    "shufflenet_v2_s2": [("in", "branch1_depthwise"), ("branch1_depthwise", "branch1_1x1"), ("branch1_1x1", "concat"),
                         ("in", "branch2_1x1"), ("branch2_1x1", "branch2_depthwise"),
                         ("branch2_depthwise", "branch2_1x1_out"), ("branch2_1x1_out", "concat"),
                         ("concat", "shuffle"), ("shuffle", "out")],
}


def _quote(text: str) -> str:
    return '"' + text.replace('"', r"\"") + '"'


def _shape(shape: Sequence[int]) -> str:
    c, h, w = shape
    return f"{h}×{w}×{c}"


def _chain_edges(block: BlockCost) -> list[tuple[str, str]]:
    """A chain of parts; SE branches off the main path (pool → reduce → expand) and rejoins at the scaling."""
    edges: list[tuple[str, str]] = []
    previous = "in"
    for part in block.parts:
        name = part.name
        if name == "se_pool":
            edges.append((previous, name))
        elif name == "se_reduce":
            edges.append(("se_pool", name))
        elif name == "se_expand":
            edges.append(("se_reduce", name))
        elif name == "se_scale":
            edges += [("se_expand", name), (previous, name)]
            previous = name
        else:
            edges.append((previous, name))
            previous = name
    edges.append((previous, "out"))
    return edges


def block_dot(block: BlockCost, labels: Mapping[str, str]) -> str:
    """One block as a DOT graph: every part with its MACs and output shape; memory-only steps grey.

    ``labels``: ``in``, ``out``, ``macs``, ``residual`` and one per part name.
    """
    if block.name == "shufflenet_v2":
        edges = _EDGES["shufflenet_v2_s1" if block.parts[0].name == "split" else "shufflenet_v2_s2"]
    elif block.name == "fire":
        edges = _EDGES["fire"]
    else:
        edges = _chain_edges(block)
    lines = [
        f'in [label={_quote(labels["in"] + chr(10) + _shape(block.in_shape))}, shape=plaintext, style=""];',
        f'out [label={_quote(labels["out"] + chr(10) + _shape(block.out_shape))}, shape=plaintext, style=""];',
    ]
    for part in block.parts:
        text = f"{labels[part.name]}\n{part.macs:,} {labels['macs']}\n{_shape(part.out_shape)}"
        lines.append(f"{part.name} [label={_quote(text)}, fillcolor={_quote(_FILL.get(part.kind, '#eef3fb'))}];")
    lines += [f"{a} -> {b};" for a, b in edges]
    if block.residual_adds:
        lines.append(f'in -> out [style=dashed, label={_quote(labels["residual"])}, fontsize=9];')
    return "digraph block {\n" + _STYLE + "\n".join(lines) + "\n}"
