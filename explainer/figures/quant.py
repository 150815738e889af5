"""Figures of the Compression page: sizes and times, one layer's weights, per-layer sensitivity.

They take computed data (:mod:`explainer.quant`) and already-translated labels; no Streamlit.
"""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explainer.figures.axes import LOG_AXIS, layer_axis
from explainer.quant.int8 import WeightStats
from explainer.quant.layers import Sensitivity

COLORS = {"fp32": "#1f77b4", "int8": "#d62728", "google": "#2ca02c", "per-tensor": "#ff7f0e", "per-channel": "#9467bd"}


def bars(names: Sequence[str], values: Sequence[float], colors: Sequence[str], *, title: str, unit: str,
         digits: int = 1, height: int = 260) -> go.Figure:
    """Horizontal bars, one per model, labelled with their value and unit."""
    figure = go.Figure(go.Bar(
        x=list(values), y=list(names), orientation="h", marker_color=list(colors),
        text=[f"{v:.{digits}f} {unit}" for v in values], textposition="auto",
        hovertemplate="%{y}: %{x:." + str(digits) + "f} " + unit + "<extra></extra>",
    ))
    figure.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=30),
                         xaxis=dict(title=unit, rangemode="tozero"), yaxis=dict(automargin=True, autorange="reversed"),
                         showlegend=False)
    return figure


def weight_view(stats: WeightStats, *, hist_title: str, ranges_title: str, value_label: str, count_label: str,
                channel_label: str, tensor_step_label: str, height: int = 340) -> go.Figure:
    """Left: histogram of all weights (log counts). Right: each output channel's [min, max], and the
    per-tensor int8 step (one scale for all) as a dashed line at ±step."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=(hist_title, ranges_title), horizontal_spacing=0.12)
    centers = [(a + b) / 2 for a, b in zip(stats.edges, stats.edges[1:])]
    widths = [b - a for a, b in zip(stats.edges, stats.edges[1:])]
    figure.add_trace(go.Bar(x=centers, y=stats.counts, width=widths, marker_color=COLORS["fp32"], name=count_label,
                            hovertemplate="%{x:.4g}: %{y}<extra></extra>"), row=1, col=1)
    channels = list(range(len(stats.channel_min)))
    figure.add_trace(go.Bar(x=channels, y=[hi - lo for lo, hi in zip(stats.channel_min, stats.channel_max)],
                            base=stats.channel_min, marker_color=COLORS["per-channel"], name=channel_label,
                            hovertemplate=channel_label + " %{x}: %{base:.3g} … %{y:.3g}<extra></extra>"), row=1, col=2)
    step = stats.per_tensor_scale
    for sign in (1, -1):
        figure.add_trace(go.Scatter(x=[channels[0] - 0.5, channels[-1] + 0.5], y=[sign * step, sign * step],
                                    mode="lines", line=dict(color=COLORS["int8"], dash="dash", width=1),
                                    name=tensor_step_label, showlegend=sign == 1, hoverinfo="skip"), row=1, col=2)
    figure.update_yaxes(**LOG_AXIS, title_text=count_label, row=1, col=1)
    figure.update_xaxes(title_text=value_label, row=1, col=1)
    figure.update_xaxes(title_text=channel_label, row=1, col=2)
    figure.update_yaxes(title_text=value_label, row=1, col=2)
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=50, b=40), bargap=0,
                         legend=dict(orientation="h", y=-0.25))
    return figure


def sensitivity_bars(results: dict[str, list[Sensitivity]], scheme_labels: dict[str, str], *, title: str,
                     axis_label: str, height: int = 380) -> go.Figure:
    """Output SQNR (dB, higher is better) with one layer quantized at a time, per scheme; low bars hurt."""
    figure = go.Figure()
    first = next(iter(results.values()), [])
    names = [r.info.label for r in first]
    # upright block numbers at most every few blocks (the label's first part: "2 · depthwise 3×3 · 96 ch" → "2")
    axis = layer_axis(names, [r.info.block for r in first], [name.split(" · ")[0] for name in names])
    for scheme, rows in results.items():
        figure.add_trace(go.Bar(
            x=[r.info.label for r in rows], y=[max(r.logits_sqnr_db, -10.0) for r in rows], name=scheme_labels[scheme],
            marker_color=COLORS[scheme],
            customdata=[[r.logits_sqnr_db, 100 * r.top1_changed] for r in rows],
            hovertemplate="%{x}<br>%{customdata[0]:.1f} dB · top-1 changed %{customdata[1]:.0f} %<extra></extra>",
        ))
    figure.update_layout(title=title, height=height, barmode="group", margin=dict(l=10, r=10, t=40, b=30),
                         yaxis=dict(title=axis_label), xaxis=axis,
                         legend=dict(orientation="h", y=1.08))
    return figure
