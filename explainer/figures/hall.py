"""The lecture's result charts: the hall's estimates on a log axis with the true value marked, and the answers
to a choice as bars with the right one marked. Labels arrive translated; user data is only numbers and counts."""

from __future__ import annotations

import math

import plotly.graph_objects as go

RIGHT = "#2e7d32"
OTHER = "#90a4ae"
TRUTH = "#d32f2f"
#: Bins per decade of the estimates' histogram.
BINS_PER_DECADE = 4


def short_number(value: float) -> str:
    """1,234,567 → "1.23M"; 0.5 → "0.5"; the tick labels of the log axis."""
    for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def exact_number(value: float) -> str:
    """29302784 → "29,302,784"; 8.84 → "8.84" (the true value as the app computed it, not rounded away)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.6g}"


def log_bins(values: list[float], truth: float | None) -> tuple[list[float], list[int]]:
    """Edges (powers of 10 in ``BINS_PER_DECADE`` steps) covering the values and the truth, and counts per bin."""
    points = [v for v in values if v > 0] + ([truth] if truth and truth > 0 else [])
    if not points:
        return [], []
    step = 1 / BINS_PER_DECADE
    low = math.floor(math.log10(min(points)) / step) * step
    high = math.floor(math.log10(max(points)) / step) * step + step
    n = max(1, round((high - low) / step))
    edges = [low + i * step for i in range(n + 1)]
    counts = [0] * n
    for v in values:
        if v > 0:
            i = min(n - 1, max(0, int((math.log10(v) - low) // step)))
            counts[i] += 1
    return edges, counts


def estimates_figure(values: list[float], truth: float | None, *, title: str, x_title: str, y_title: str,
                     truth_label: str, height: int = 320) -> go.Figure:
    """A histogram of number estimates on a log axis (bars in log10 space), the true value as a red line."""
    edges, counts = log_bins(values, truth)
    fig = go.Figure()
    if edges:
        centres = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
        fig.add_bar(x=centres, y=counts, width=[(b - a) * 0.95 for a, b in zip(edges, edges[1:])], marker_color=OTHER,
                    hovertext=[f"{short_number(10 ** a)} – {short_number(10 ** b)}: {c}"
                               for a, b, c in zip(edges, edges[1:], counts)], hoverinfo="text", name="")
        first, last = math.floor(edges[0]), math.ceil(edges[-1])
        ticks = list(range(first, last + 1))
        fig.update_xaxes(tickvals=ticks, ticktext=[short_number(10 ** k) for k in ticks], range=[edges[0], edges[-1]])
    if truth is not None and truth > 0:
        x = math.log10(truth)
        fig.add_vline(x=x, line_color=TRUTH, line_width=3)
        fig.add_annotation(x=x, y=1, yref="paper", text=f"{truth_label}: {exact_number(truth)}", showarrow=False,
                           yanchor="bottom", font={"color": TRUTH})
    fig.update_layout(title=title, height=height, margin={"l": 40, "r": 20, "t": 60, "b": 40}, showlegend=False,
                      bargap=0.05)
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title=y_title, rangemode="tozero", dtick=max(1, max(counts, default=1) // 8 or 1))
    return fig


def choices_figure(labels: list[str], counts: list[int], right: int | None, *, title: str, x_title: str,
                   right_label: str, height: int = 320) -> go.Figure:
    """Horizontal bars, one per option; the right option green and marked."""
    colours = [RIGHT if i == right else OTHER for i in range(len(labels))]
    shown = [f"✔ {label}  ({right_label})" if i == right else label for i, label in enumerate(labels)]
    fig = go.Figure(go.Bar(x=counts, y=shown, orientation="h", marker_color=colours, text=counts,
                           textposition="auto", hoverinfo="x+y"))
    fig.update_layout(title=title, height=height, margin={"l": 20, "r": 20, "t": 60, "b": 40}, showlegend=False)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title=x_title, rangemode="tozero")
    return fig
