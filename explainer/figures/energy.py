"""Figures of the Energy page: the energy table on a log scale, the Eyeriss ladder, one estimate's split.

They take computed data (:mod:`explainer.energy`) and already-translated labels; no Streamlit.
"""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

COLORS = {"compute": "#1f77b4", "memory": "#d62728", "weights": "#ff7f0e", "activations": "#9467bd"}


def table_bars(labels: Sequence[str], pj: Sequence[float], kinds: Sequence[str], kind_labels: dict[str, str], *,
               title: str, axis: str, height: int = 420) -> go.Figure:
    """One horizontal bar per operation, pJ on a log axis, coloured compute vs memory."""
    figure = go.Figure()
    for kind in ("compute", "memory"):
        rows = [(label, value) for label, value, k in zip(labels, pj, kinds) if k == kind]
        figure.add_trace(go.Bar(x=[v for _, v in rows], y=[l for l, _ in rows], orientation="h", name=kind_labels[kind],
                                marker_color=COLORS[kind], text=[f"{v:g} pJ" for _, v in rows], textposition="outside",
                                hovertemplate="%{y}: %{x:g} pJ<extra></extra>"))
    figure.update_layout(title=title, height=height, margin=dict(l=10, r=40, t=40, b=40), barmode="group",
                         xaxis=dict(type="log", title=axis), yaxis=dict(automargin=True, autorange="reversed"),
                         legend=dict(orientation="h", y=-0.2))
    return figure


def ladder_bars(labels: Sequence[str], ratios: Sequence[float], *, title: str, axis: str,
                height: int = 300) -> go.Figure:
    """The Eyeriss ladder: energy of one access relative to one MAC, log axis."""
    figure = go.Figure(go.Bar(x=list(labels), y=list(ratios), marker_color=[COLORS["compute"]] + [COLORS["memory"]] * 3,
                              text=[f"{r:g}×" for r in ratios], textposition="outside",
                              hovertemplate="%{x}: %{y:g}×<extra></extra>"))
    figure.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=40),
                         yaxis=dict(type="log", title=axis), showlegend=False)
    return figure


def split_bars(formats: Sequence[str], parts: dict[str, Sequence[float]], part_labels: dict[str, str], *,
               title: str, axis: str, height: int = 300) -> go.Figure:
    """Stacked bars per number format: compute, weights, activations (mJ)."""
    figure = go.Figure()
    for part, values in parts.items():
        figure.add_trace(go.Bar(y=list(formats), x=list(values), orientation="h", name=part_labels[part],
                                marker_color=COLORS[part], hovertemplate="%{y}: %{x:.3f} mJ<extra></extra>"))
    figure.update_layout(title=title, height=height, barmode="stack", margin=dict(l=10, r=10, t=40, b=40),
                         xaxis=dict(title=axis), yaxis=dict(automargin=True, autorange="reversed"),
                         legend=dict(orientation="h", y=-0.3))
    return figure
