"""Figures of the Architectures page: costs per layer, shapes, twin, published variants, memory.

Every function takes a :class:`~explainer.architectures.Network` (or the
published figures) and a ``labels`` mapping of translated strings, and
returns a plotly figure. No numbers are computed here that the core does not
already provide.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explainer import registry
from explainer.architectures import LAYER_TYPES, MemoryStep, Network
from explainer.figures.axes import LOG_AXIS, label_positions, layer_axis
from explainer.published import Published

#: One colour per layer type (depthwise / pointwise as on the cost page).
TYPE_COLORS: dict[str, str] = {
    "conv": "#d1495b",
    "depthwise": "#66a182",
    "pointwise": "#2e86ab",
    "se": "#edae49",
    "fc": "#8367c7",
}
MODEL_COLORS: dict[str, str] = {name: registry.get(name).color for name in registry.TAUGHT}


def _names(network: Network) -> list[str]:
    return [layer.name for layer in network.layers]


def layer_costs(network: Network, labels: Mapping[str, str], selected: str | None = None) -> go.Figure:
    """MACs (top) and params (bottom) per layer, coloured by type, with the cumulative share of MACs.

    ``labels``: ``macs``, ``params``, ``cumulative``, and one per layer type.
    """
    names = _names(network)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        specs=[[{"secondary_y": True}], [{"secondary_y": True}]],
                        subplot_titles=(labels["macs"], labels["params"]))
    for kind in LAYER_TYPES:
        idx = [i for i, layer in enumerate(network.layers) if layer.type == kind]
        if not idx:
            continue
        for row, attr in ((1, "macs"), (2, "params")):
            fig.add_trace(go.Bar(
                x=[names[i] for i in idx], y=[getattr(network.layers[i], attr) for i in idx],
                name=labels[kind], marker_color=TYPE_COLORS[kind], legendgroup=kind, showlegend=row == 1,
                hovertemplate="%{x}<br>" + labels[kind] + ": %{y:,}<extra></extra>",
            ), row=row, col=1, secondary_y=False)
    for row, attr, total in ((1, "macs", network.macs), (2, "params", network.params)):
        running, shares = 0, []
        for layer in network.layers:
            running += getattr(layer, attr)
            shares.append(100.0 * running / total)
        fig.add_trace(go.Scatter(
            x=names, y=shares, name=labels["cumulative"], mode="lines", line=dict(color="#333333", width=1.5),
            legendgroup="cumulative", showlegend=row == 1,
            hovertemplate="%{x}<br>" + labels["cumulative"] + ": %{y:.1f}%<extra></extra>",
        ), row=row, col=1, secondary_y=True)
        fig.update_yaxes(range=[0, 100], tickvals=[0, 25, 50, 75, 100], ticksuffix="%", showgrid=False,
                         row=row, col=1, secondary_y=True)
    if selected in names:
        for row in (1, 2):
            fig.add_vline(x=names.index(selected), line=dict(color="#000000", dash="dot", width=1), row=row, col=1)
    fig.update_xaxes(**layer_axis(names, [layer.block for layer in network.layers]))
    # the legend above the "MACs" subplot title, growing upwards when it wraps on a phone (never over it)
    fig.update_layout(barmode="overlay", height=560, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.07, x=0), bargap=0.15)
    return fig


def shape_strip(network: Network, labels: Mapping[str, str]) -> go.Figure:
    """Spatial size (line, log scale) shrinking and channels (bars) growing, layer by layer.

    ``labels``: ``size``, ``channels``.
    """
    names = _names(network)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=names, y=[layer.output[2] for layer in network.layers], name=labels["channels"],
                         marker_color=[TYPE_COLORS[layer.type] for layer in network.layers], opacity=0.7,
                         hovertemplate="%{x}<br>" + labels["channels"] + ": %{y}<extra></extra>"),
                  secondary_y=False)
    fig.add_trace(go.Scatter(x=names, y=[layer.output[0] for layer in network.layers], name=labels["size"],
                             mode="lines+markers", line=dict(color="#333333", shape="hv"), marker=dict(size=4),
                             hovertemplate="%{x}<br>" + labels["size"] + ": %{y}<extra></extra>"),
                  secondary_y=True)
    sizes = sorted({layer.output[0] for layer in network.layers})
    channel_ticks = [2 ** k for k in range(0, 13)]
    fig.update_yaxes(title_text=labels["channels"], type="log", tickvals=channel_ticks, secondary_y=False)
    fig.update_yaxes(title_text=labels["size"], type="log", tickvals=sizes, secondary_y=True, showgrid=False)
    fig.update_xaxes(**layer_axis(names, [layer.block for layer in network.layers]))
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=20, b=10), legend=dict(orientation="h", y=1.12))
    return fig


def breakdown_bars(network: Network, labels: Mapping[str, str]) -> go.Figure:
    """Share of MACs and of params per layer type (horizontal stacked bars, %)."""
    shares = network.breakdown()
    fig = go.Figure()
    rows = [labels["macs"], labels["params"]]
    for kind, share in shares.items():
        fig.add_trace(go.Bar(y=rows, x=[share.macs_pct, share.params_pct], name=labels[kind], orientation="h",
                             marker_color=TYPE_COLORS[kind],
                             hovertemplate=labels[kind] + ": %{x:.2f}%<extra></extra>"))
    fig.update_layout(barmode="stack", height=200, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(range=[0, 100], ticksuffix="%"), legend=dict(orientation="h", y=-0.3))
    return fig


def twin_per_block(network: Network, twin: Network, labels: Mapping[str, str]) -> go.Figure:
    """MACs per block, the network beside its standard-convolution twin (log scale).

    ``labels``: ``original``, ``twin``, ``macs``, ``block``.
    """
    blocks = sorted({layer.block for layer in network.layers})

    def per_block(net: Network) -> list[int]:
        return [sum(layer.macs for layer in net.layers if layer.block == b) for b in blocks]

    x = [str(b) for b in blocks]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=per_block(network), name=labels["original"], marker_color="#2e86ab"))
    fig.add_trace(go.Bar(x=x, y=per_block(twin), name=labels["twin"], marker_color="#d1495b"))
    fig.update_layout(barmode="group", height=330, margin=dict(l=10, r=10, t=20, b=10),
                      xaxis_title=labels["block"], yaxis_title=labels["macs"], legend=dict(orientation="h", y=1.12))
    fig.update_yaxes(**LOG_AXIS)
    return fig


def published_scatter(entries: Sequence[Published], current: tuple[float, str] | None,
                      labels: Mapping[str, str], display: Mapping[str, str]) -> go.Figure:
    """Top-1 accuracy against MACs (log) of the papers' variants; marker area ∝ params.

    ``current`` is ``(our exact MACs, label)`` of the page's choice, drawn as a
    vertical line. ``labels``: ``macs_m``, ``top1``, ``current``, ``params_m``, ``table``.
    ``display`` maps model names (and ``"twin"``) to legend names.
    """
    fig = go.Figure()
    groups: dict[str, list[Published]] = {}
    for entry in entries:
        groups.setdefault("twin" if entry.twin else entry.model, []).append(entry)
    where = dict(zip(map(id, entries), label_positions([e.macs_m for e in entries], [e.top1 for e in entries])))
    for key, group in groups.items():
        fig.add_trace(go.Scatter(
            x=[e.macs_m for e in group], y=[e.top1 for e in group], mode="markers+text", name=display[key],
            text=[e.label for e in group], textposition=[where[id(e)] for e in group], textfont=dict(size=9),
            cliponaxis=False,
            marker=dict(size=[8 + 3 * e.params_m ** 0.5 * 2 for e in group],
                        color=MODEL_COLORS.get(key, "#777777"), line=dict(color="#ffffff", width=1)),
            customdata=[[e.params_m, e.tables] for e in group],
            hovertemplate="%{text}<br>%{x} M MACs<br>top-1 %{y}%<br>" + labels["params_m"]
            + ": %{customdata[0]} M<br>" + labels["table"] + " %{customdata[1]}<extra></extra>",
        ))
    low = min(e.top1 for e in entries) - 3
    high = max(e.top1 for e in entries) + 3
    if current is not None:
        # a trace, not a shape: shapes on a log axis take log10 coordinates
        macs, text = current
        fig.add_trace(go.Scatter(
            x=[macs / 1e6, macs / 1e6], y=[low, high], mode="lines+text", name=labels["current"],
            line=dict(color="#000000", dash="dash", width=1.5), text=["", f"{labels['current']}: {text}"],
            textposition="bottom right", hovertemplate=f"{text}<br>%{{x:.1f}} M<extra></extra>",
        ))
    fig.update_layout(height=440, margin=dict(l=10, r=10, t=20, b=10), xaxis_title=labels["macs_m"],
                      yaxis_title=labels["top1"], legend=dict(orientation="h", y=-0.2))
    fig.update_xaxes(**LOG_AXIS)
    fig.update_yaxes(range=[low, high])
    return fig


def memory_chart(profiles: Mapping[str, list[MemoryStep]], peaks: Mapping[str, int], dtype: str,
                 labels: Mapping[str, str]) -> go.Figure:
    """Live activation memory (input + output) step by step, one line per network, peak marked.

    ``profiles``: ``{legend name: steps}``; ``labels``: ``step``, ``memory``, ``peak``.
    """
    from explainer.architectures import BYTES

    fig = go.Figure()
    colors = ["#2e86ab", "#66a182", "#d1495b", "#edae49"]
    for (name, steps), color in zip(profiles.items(), colors):
        kb = [s.bytes(dtype) / 1024 for s in steps]
        fig.add_trace(go.Scatter(
            x=list(range(len(steps))), y=kb, name=name, mode="lines+markers", line=dict(color=color),
            marker=dict(size=4), text=[s.label for s in steps],
            hovertemplate="%{text}<br>%{y:,.0f} KiB<extra>" + name + "</extra>",
        ))
        p = peaks[name]
        fig.add_trace(go.Scatter(
            x=[p], y=[kb[p]], mode="markers+text", marker=dict(symbol="star", size=16, color=color),
            text=[f"{labels['peak']}: {kb[p]:,.0f} KiB ({steps[p].label})"], textposition="top right",
            showlegend=False, hoverinfo="skip",
        ))
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=20, b=10), xaxis_title=labels["step"],
                      yaxis_title=f"{labels['memory']} (KiB, {dtype}, {BYTES[dtype]} B)",
                      legend=dict(orientation="h", y=1.1))
    return fig
