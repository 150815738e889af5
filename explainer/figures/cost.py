"""Figures of the cost calculator: stacked cost bars and ratio sweeps."""

from __future__ import annotations

from typing import Mapping

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explainer.costs import Comparison, SweepPoint
from explainer.figures.axes import LOG_AXIS

#: One colour per sub-layer kind, used on every cost figure.
COLORS = {
    "standard": "#d1495b",
    "depthwise": "#66a182",
    "pointwise": "#2e86ab",
    "expand": "#edae49",
    "project": "#8367c7",
}


def cost_bars(result: Comparison, labels: Mapping[str, str], log_scale: bool = False) -> go.Figure:
    """MACs (left) and params (right) of the three designs, split into their sub-layers.

    ``labels`` holds the translated names: ``standard``, ``separable``,
    ``inverted``, ``depthwise``, ``pointwise``, ``expand``, ``project``,
    ``macs``, ``params``.
    """
    designs = [labels["standard"], labels["separable"], labels["inverted"]]
    inv = result.inverted
    parts = [
        ("standard", labels["standard"], [result.standard, None, None]),
        ("expand", labels["expand"], [None, None, inv.expand]),
        ("depthwise", labels["depthwise"], [None, result.separable.depthwise, inv.depthwise]),
        ("pointwise", labels["pointwise"], [None, result.separable.pointwise, None]),
        ("project", labels["project"], [None, None, inv.project]),
    ]
    fig = make_subplots(rows=1, cols=2, subplot_titles=(labels["macs"], labels["params"]), horizontal_spacing=0.12)
    for kind, name, costs_per_design in parts:
        for col, attr in ((1, "macs"), (2, "params")):
            values = [getattr(c, attr) if c is not None else None for c in costs_per_design]
            fig.add_trace(
                go.Bar(
                    x=designs, y=values, name=name, marker_color=COLORS[kind], legendgroup=kind,
                    showlegend=col == 1, hovertemplate="%{x}<br>" + name + ": %{y:,}<extra></extra>",
                ),
                row=1, col=col,
            )
    fig.update_layout(barmode="stack", height=380, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.15))
    if log_scale:
        fig.update_yaxes(**LOG_AXIS)
    return fig


def ratio_sweep(points: list[SweepPoint], current_x: int, labels: Mapping[str, str], log_x: bool = False) -> go.Figure:
    """Exact separable/standard ratio (markers), ``1/N + 1/D_K²`` (line) and inverted/standard.

    ``labels``: ``x`` (axis title), ``exact``, ``approx``, ``inverted``, ``ratio``, ``current``.
    """
    xs = [p.x for p in points]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=[p.approx for p in points], name=labels["approx"], mode="lines",
                             line=dict(color="#333333", width=2)))
    fig.add_trace(go.Scatter(x=xs, y=[p.separable_exact for p in points], name=labels["exact"], mode="markers",
                             marker=dict(color=COLORS["pointwise"], size=7)))
    fig.add_trace(go.Scatter(x=xs, y=[p.inverted_exact for p in points], name=labels["inverted"],
                             mode="lines+markers", line=dict(color=COLORS["project"], dash="dot")))
    # A marker trace rather than add_vline: a vertical line's x is not log-transformed on a log axis.
    current = next((p for p in points if p.x == current_x), None)
    if current is not None:
        fig.add_trace(go.Scatter(x=[current_x], y=[current.separable_exact], name=labels["current"], mode="markers",
                                 marker=dict(color=COLORS["standard"], size=14, symbol="circle-open", line=dict(width=3))))
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=30, b=10), xaxis_title=labels["x"],
                      yaxis_title=labels["ratio"], legend=dict(orientation="h", y=-0.25))
    fig.update_yaxes(**LOG_AXIS)
    if log_x:
        fig.update_xaxes(**LOG_AXIS)
    return fig
