"""One axis style shared by every figure of the app.

A plotly log axis labels its minor ticks by default ("2, 5, 2, 5, 0.1…"): on a projector or a phone those
read as a jumble of bare digits. :data:`LOG_AXIS` labels decades only (1, 10, 100, 1k, … or 0.01, 0.1, 1),
with a light grid at 2–9 so the scale stays readable. Use it for every log axis
(``fig.update_yaxes(**LOG_AXIS)``); an axis with its own meaningful tick values (the shape strip's sizes)
keeps them.
"""

from __future__ import annotations

#: A log axis labelled at powers of ten only (``dtick=1`` on a log axis means one label per decade).
LOG_AXIS: dict = {"type": "log", "dtick": 1, "minor": {"showgrid": True, "gridcolor": "rgba(0,0,0,0.04)"}}


def label_positions(xs: "list[float]", ys: "list[float]", log_x: bool = True, near: float = 0.25) -> list[str]:
    """A ``textposition`` for each labelled point of a scatter so neighbouring labels do not run into each
    other and no label leaves the plot: points are taken left to right; a point whose x lies within ``near``
    (decades on a log axis, else a share of the x range) of the previous labelled point, and whose y is close,
    puts its label on the other side (above / below); the leftmost label reads to the right of its point and
    the rightmost to the left (a centred label there was cut at the plot's edge: "uffleNet V2 0.5×")."""
    import math

    if not xs:
        return []
    key = [math.log10(x) if log_x and x > 0 else float(x) for x in xs]
    span_x = (max(key) - min(key)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    gap = near if log_x else near * span_x
    order = sorted(range(len(xs)), key=lambda i: (key[i], ys[i]))
    vertical = {}
    previous = None
    for i in order:
        side = "top"
        if previous is not None and key[i] - key[previous] < gap and abs(ys[i] - ys[previous]) < 0.12 * span_y:
            side = "bottom" if vertical[previous] == "top" else "top"
        vertical[i] = side
        previous = i
    positions = []
    for i in range(len(xs)):
        horizontal = "center"
        if key[i] - min(key) < 0.08 * span_x:
            horizontal = "right"
        elif max(key) - key[i] < 0.08 * span_x:
            horizontal = "left"
        positions.append(f"{vertical[i]} {horizontal}")
    return positions


#: At most this many labels on an axis with one bar per layer: upright short labels that fit side by side on a
#: phone's plot (about 300 px) as on a projector. (53 names rotated by 60° were unreadable on both.)
LAYER_LABELS = 8


def layer_axis(names: "list[str]", blocks: "list[object]", texts: "list[str] | None" = None,
               most: int = LAYER_LABELS) -> dict:
    """Settings for a category axis with one category per layer (``names``, in order; ``blocks[i]`` is the
    block of layer ``i``): upright labels at the first layer of every k-th block, at most ``most`` of them;
    ``texts[i]`` is the label shown for layer ``i`` (default: the block part of its name, ``"b4.dw"`` →
    ``"b4"``). Every bar still names its full layer in its hover (``%{x}``)."""
    if len(names) != len(blocks):
        raise ValueError("one block per layer name")
    firsts = [i for i, block in enumerate(blocks) if i == 0 or blocks[i - 1] != block]
    step = max(1, -(-len(firsts) // max(1, most)))
    chosen = firsts[::step]
    shown = [(texts[i] if texts is not None else names[i].split(".")[0]) for i in chosen]
    return {"type": "category", "categoryorder": "array", "categoryarray": list(names), "tickmode": "array",
            "tickvals": [names[i] for i in chosen], "ticktext": shown, "tickangle": 0, "tickfont": {"size": 11},
            "automargin": True}
