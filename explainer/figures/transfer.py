"""Figures of the "Teach it new classes" page: training curve, confusion matrix, PCA map of the photos."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explainer.figures.axes import LOG_AXIS
from explainer.transfer.head import CurvePoint

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")


def training_curve(points: Sequence[CurvePoint], *, steps: int, title: str, step_label: str, loss_label: str,
                   accuracy_label: str, train_label: str, holdout_label: str, height: int = 300) -> go.Figure:
    """Loss (left axis, log scale) and training / hold-out accuracy (right axis) after each L-BFGS step."""
    x = [p.step for p in points]
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Scatter(x=x, y=[p.loss for p in points], name=loss_label, mode="lines",
                                line=dict(color="#444")), secondary_y=False)
    figure.add_trace(go.Scatter(x=x, y=[p.train_accuracy for p in points], name=train_label, mode="lines",
                                line=dict(color=PALETTE[0])), secondary_y=True)
    if points and points[0].holdout_accuracy is not None:
        figure.add_trace(go.Scatter(x=x, y=[p.holdout_accuracy for p in points], name=holdout_label,
                                    mode="lines", line=dict(color=PALETTE[3])), secondary_y=True)
    figure.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=30),
                         legend=dict(orientation="h", y=-0.25))
    figure.update_xaxes(title_text=step_label, range=[0, steps])
    figure.update_yaxes(title_text=loss_label, **LOG_AXIS, secondary_y=False)
    figure.update_yaxes(title_text=accuracy_label, range=[0, 1.02], tickformat=".0%", secondary_y=True)
    return figure


def confusion_matrix(matrix: np.ndarray, classes: Sequence[str], *, title: str, true_label: str,
                     predicted_label: str, height: int = 320) -> go.Figure:
    """Counts, rows = true class, columns = predicted class, the diagonal (correct) darkest when right."""
    matrix = np.asarray(matrix)
    figure = go.Figure(go.Heatmap(z=matrix.tolist(), x=list(classes), y=list(classes), colorscale="Blues", showscale=False,
                                  text=matrix.tolist(), texttemplate="%{text}",
                                  hovertemplate=f"{true_label}: %{{y}}<br>{predicted_label}: %{{x}}<br>%{{z}}<extra></extra>"))
    figure.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=30),
                         xaxis=dict(title=predicted_label, side="bottom"),
                         yaxis=dict(title=true_label, autorange="reversed"))
    return figure


def pca_map(points: np.ndarray, labels: Sequence[int], classes: Sequence[str], held_out: Sequence[bool],
            names: Sequence[str], *, title: str, axis_label: str, explained: tuple[float, float],
            held_label: str, extra: tuple[np.ndarray, str] | None = None, height: int = 420) -> go.Figure:
    """The photos' features on their first two principal axes, one colour per class; held-out photos hollow."""
    points = np.asarray(points)
    labels = np.asarray(labels)
    held = np.asarray(held_out, dtype=bool)
    figure = go.Figure()
    for c, name in enumerate(classes):
        for is_held in (False, True):
            mask = (labels == c) & (held == is_held)
            if not mask.any():
                continue
            figure.add_trace(go.Scatter(
                x=points[mask, 0], y=points[mask, 1], mode="markers",
                name=f"{name} ({held_label})" if is_held else name,
                marker=dict(color=PALETTE[c % len(PALETTE)], size=9,
                            symbol="circle-open" if is_held else "circle", line=dict(width=2)),
                text=[names[i] for i in np.flatnonzero(mask)], hovertemplate="%{text}<extra></extra>",
            ))
    if extra is not None:
        where, label = extra
        figure.add_trace(go.Scatter(x=[float(where[0, 0])], y=[float(where[0, 1])], mode="markers", name=label,
                                    marker=dict(color="black", size=16, symbol="star")))
    figure.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=40, b=30),
                         xaxis=dict(title=axis_label.format(k=1, share=f"{100 * explained[0]:.0f}")),
                         yaxis=dict(title=axis_label.format(k=2, share=f"{100 * explained[1]:.0f}")))
    return figure
