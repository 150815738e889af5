"""Figures of the Classify page: the top-k probabilities as a horizontal bar chart."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from explainer.classify import Prediction


def top_k_bar(predictions: Sequence[Prediction], *, title: str, prob_label: str, height: int = 300,
              names: Sequence[str] | None = None) -> go.Figure:
    """Horizontal bars, most probable class on top, each labelled with its probability in percent.

    ``names``: the class names in the user's language, one per prediction (default: the predictions' own
    English labels); when given, hovering a bar also shows the English name.
    """
    labels = (list(names) if names is not None else [p.label for p in predictions])[::-1]
    english = [f" ({p.label})" if p.label != name else "" for p, name in zip(predictions[::-1], labels)]
    probs = [p.prob for p in predictions][::-1]
    # Built for every new photo, so built in one constructor call from plain dicts: the same figure JSON as
    # go.Bar + update_layout, measured 5× faster (10 vs 52 ms, interleaved, loaded machine).
    return go.Figure(
        data=[dict(
            type="bar",
            x=probs,
            y=labels,
            orientation="h",
            text=[f"{100 * p:.1f} %" for p in probs],
            textposition="auto",
            marker_color=["#1f77b4"] * (len(probs) - 1) + ["#d62728"] if probs else [],
            customdata=english,
            hovertemplate="%{y}%{customdata}: %{x:.4f}<extra></extra>",
        )],
        layout=dict(
            title=title,
            height=height,
            margin=dict(l=10, r=10, t=40, b=30),
            xaxis=dict(title=prob_label, range=[0, 1], tickformat=".0%"),
            yaxis=dict(automargin=True),
            showlegend=False,
        ),
    )
