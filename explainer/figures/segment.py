"""Figures of the Applications page: the classes found in a mask, backbone vs head cost."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go


def _rgb(color: tuple[int, int, int]) -> str:
    return f"rgb({color[0]},{color[1]},{color[2]})"


def shares_bar(names: Sequence[str], fractions: Sequence[float], colors: Sequence[tuple[int, int, int]], *,
               title: str, axis_label: str, height: int = 240) -> go.Figure:
    """The legend of a mask: one bar per class, in the class's mask colour, largest share on top."""
    figure = go.Figure(go.Bar(
        x=list(fractions)[::-1], y=list(names)[::-1], orientation="h",
        marker=dict(color=[_rgb(c) for c in colors][::-1], line=dict(color="#444", width=1)),
        text=[f"{100 * f:.1f} %" for f in fractions][::-1], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{x:.2%}<extra></extra>",
    ))
    figure.update_layout(title=title, height=max(height, 60 + 28 * len(names)), margin=dict(l=10, r=40, t=40, b=30),
                         xaxis=dict(title=axis_label, range=[0, 1.15], tickformat=".0%"),
                         yaxis=dict(automargin=True), showlegend=False)
    return figure


def backbone_bar(names: Sequence[str], backbone_macs: Sequence[int], head_macs: Sequence[int], *,
                 backbone_label: str, head_label: str, axis_label: str, title: str, height: int = 340) -> go.Figure:
    """Stacked horizontal bars: MACs of the MobileNet backbone and of the task head, per network."""
    giga = 1e9
    shares = [b / (b + h) if b + h else 0.0 for b, h in zip(backbone_macs, head_macs)]
    figure = go.Figure()
    figure.add_bar(y=list(names), x=[b / giga for b in backbone_macs], orientation="h", name=backbone_label,
                   marker_color="#1f77b4", text=[f"{100 * s:.0f} %" for s in shares], textposition="inside",
                   hovertemplate="%{y}: %{x:.3f} G<extra>" + backbone_label + "</extra>")
    figure.add_bar(y=list(names), x=[h / giga for h in head_macs], orientation="h", name=head_label,
                   marker_color="#ff7f0e", hovertemplate="%{y}: %{x:.3f} G<extra>" + head_label + "</extra>")
    figure.update_layout(barmode="stack", title=title, height=height, margin=dict(l=10, r=10, t=40, b=30),
                         xaxis=dict(title=axis_label), yaxis=dict(automargin=True, autorange="reversed"),
                         legend=dict(orientation="h", y=-0.25))
    return figure
