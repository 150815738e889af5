"""Figures of the "Inside a convolution" page: the output map to click on, the window × kernel = products
panels, the running sum, and the sliding-window animation (plotly frames, played in the browser).

They take a computed :class:`explainer.trace.ConvTrace` (and arrays) plus already-translated labels; no
Streamlit, no arithmetic beyond laying the numbers out.

They are written as plain plotly specs and wrapped without plotly's per-property validation
(:class:`SpecFigure`): a position change redraws all of them, and validating a 112×112 map with one
clickable marker per cell, or the animation's frames, took longer than the whole 100 ms budget.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64

from explainer.trace import ChannelContributions, ConvTrace, SlideBand, WindowStep

#: Cells with their number written inside when a panel has at most this many.
MAX_TEXT_CELLS = 81
#: 1×1 windows over M channels are laid out in rows of this many channels.
POINTWISE_ROW = 16
PAD_COLOUR = "rgba(150,150,150,0.55)"
MARK_COLOUR = "#e4572e"


def _layout_cells(values: np.ndarray, kernel_size: int) -> np.ndarray:
    """``[C_w, K, K]`` as one 2-D grid: K×K channels stacked with a blank row between, 1×1 windows wrapped
    into rows of :data:`POINTWISE_ROW` channels. Blank cells are NaN."""
    if kernel_size == 1:
        flat = values.reshape(-1)
        width = min(POINTWISE_ROW, flat.size)
        rows = -(-flat.size // width)
        grid = np.full(rows * width, np.nan)
        grid[:flat.size] = flat
        return grid.reshape(rows, width)
    blocks = []
    for i, channel in enumerate(values):
        if i:
            blocks.append(np.full((1, kernel_size), np.nan))
        blocks.append(channel)
    return np.vstack(blocks)


def _cell_text(grid: np.ndarray, pad: np.ndarray | None, pad_label: str) -> np.ndarray | None:
    if np.count_nonzero(~np.isnan(grid)) > MAX_TEXT_CELLS:
        return None
    text = np.where(np.isnan(grid), "", np.vectorize(lambda v: f"{v:.2f}")(np.nan_to_num(grid)))
    if pad is not None:
        text = np.where(pad, pad_label, text)
    return text


def _pad_grid(tr: ConvTrace) -> np.ndarray:
    mask = np.broadcast_to(tr.padding_mask, tr.window.shape).astype(float)
    grid = _layout_cells(mask, tr.kernel_size)
    return np.nan_to_num(grid) > 0.5


class SpecFigure(go.Figure):
    """A plotly figure handed over as a finished spec (``{"data", "layout", "frames"}``).

    ``st.plotly_chart`` turns a figure into JSON through ``figure.to_dict()``;
    plotly would validate every property first, and its frames are validated even
    with ``_validate=False`` (about 0.5 s for the 112 frames of the stem's row).
    These specs are written by this module and checked by the tests, so the figure
    keeps them as they are (numpy arrays as plotly's base64 typed arrays, as
    ``go.Figure.to_dict`` sends them). ``.data``/``.layout`` stay empty: read ``to_dict()``.
    """

    def __init__(self, spec: dict) -> None:
        super().__init__()
        convert_to_base64(spec)
        self._spec = spec

    def to_dict(self) -> dict:
        return self._spec

    def to_plotly_json(self) -> dict:
        return self._spec


def _figure(data: list[dict], layout: dict, frames: list[dict] | None = None) -> go.Figure:
    spec: dict = {"data": data, "layout": layout}
    if frames is not None:
        spec["frames"] = frames
    return SpecFigure(spec)


def _domains(count: int, gap: float) -> list[list[float]]:
    width = (1.0 - gap * (count - 1)) / count
    return [[i * (width + gap), i * (width + gap) + width] for i in range(count)]


def _axes(layout: dict, count: int, gap: float) -> None:
    """``count`` side-by-side panels with square cells, rows top to bottom."""
    for i, domain in enumerate(_domains(count, gap), start=1):
        suffix = "" if i == 1 else str(i)
        layout[f"xaxis{suffix}"] = {"domain": domain, "anchor": f"y{suffix}", "showgrid": False, "zeroline": False,
                                    "constrain": "domain"}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "autorange": "reversed", "showgrid": False,
                                    "zeroline": False, "scaleanchor": f"x{suffix}", "constrain": "domain"}


def _titles(titles: Sequence[str], gap: float) -> list[dict]:
    return [{"text": title, "x": (a + b) / 2, "y": 1.0, "xref": "paper", "yref": "paper", "xanchor": "center",
             "yanchor": "bottom", "showarrow": False, "font": {"size": 13}}
            for title, (a, b) in zip(titles, _domains(len(titles), gap))]


def _f32(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def _list(values: np.ndarray) -> list:
    """Nested lists (4 decimals): plotly.js drops heatmaps given as base64 typed arrays when it animates."""
    return np.round(values.astype(np.float64), 4).tolist()


def step_panels(tr: ConvTrace, titles: Sequence[str], pad_label: str, hover: Sequence[str]) -> go.Figure:
    """Window | kernel | products side by side (same layout); padding cells grey and labelled."""
    gap = 0.06
    pad = _pad_grid(tr) if tr.padded_positions else None
    data: list[dict] = []
    for col, values in enumerate((tr.window, tr.kernel, tr.products), start=1):
        axis = "" if col == 1 else str(col)
        grid = _layout_cells(values, tr.kernel_size)
        limit = float(np.nanmax(np.abs(grid))) if np.any(~np.isnan(grid)) else 1.0
        limit = limit or 1.0
        text = _cell_text(grid, pad if col != 2 else None, pad_label)
        heat = {"type": "heatmap", "z": _f32(grid), "zmin": -limit, "zmax": limit, "colorscale": "RdBu",
                "reversescale": True, "showscale": False, "xgap": 2, "ygap": 2, "xaxis": f"x{axis}",
                "yaxis": f"y{axis}", "hovertemplate": hover[col - 1] + "<extra></extra>"}
        if text is not None:
            heat.update(text=text.tolist(), texttemplate="%{text}", textfont={"size": 12})
        data.append(heat)
        if pad is not None and col != 2:
            rows, cols = np.nonzero(pad)
            data.append({"type": "scatter", "x": cols.tolist(), "y": rows.tolist(), "mode": "markers",
                         "hoverinfo": "skip", "showlegend": False, "xaxis": f"x{axis}", "yaxis": f"y{axis}",
                         "marker": {"symbol": "square", "size": 26, "color": PAD_COLOUR}})
    layout: dict = {"height": 150 + 34 * min(_layout_cells(tr.window, tr.kernel_size).shape[0], 20),
                    "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "annotations": _titles(titles, gap)}
    _axes(layout, 3, gap)
    for i in range(1, 4):
        layout[f"xaxis{'' if i == 1 else i}"]["showticklabels"] = False
        layout[f"yaxis{'' if i == 1 else i}"]["showticklabels"] = False
    return _figure(data, layout)


#: Height of one row of the 1×1 channel view in px (room for presenter-sized labels).
CHANNEL_ROW_PX = 30
POSITIVE_COLOUR = "#b2182b"
NEGATIVE_COLOUR = "#2166ac"
REST_COLOUR = "rgba(120,120,120,0.75)"
TOTAL_COLOUR = "#333333"


def _signed(value: float, digits: int) -> str:
    """``+0.123`` / ``−0.123`` (a real minus sign, easier to read on a projector)."""
    return f"{value:+.{digits}f}".replace("-", "−")


def channel_bars(contrib: ChannelContributions, in_channels: int, labels: dict[str, str],
                 digits: int = 3) -> go.Figure:
    """A 1×1 convolution as the dot product it is: one row per listed input channel (``input × weight``
    written on the left, the product as a bar, its value on the right), then one row for the other
    channels together and one for the sum of all ``in_channels`` products.

    Every text sits in its own row and column (tick labels left, values in the right margin), so nothing can
    overlap at any channel count: 16 channels show all 16, 960 show the top ones and one summary row.
    ``labels``: ``channel`` (with ``{channel}``), ``rest`` (``{n}``), ``total`` (``{m}``), ``x``, ``hover``.
    """
    names, values, colours, notes, hovers = [], [], [], [], []
    for channel, inp, weight, product in zip(contrib.channels, contrib.inputs, contrib.weights, contrib.products):
        names.append(f"{labels['channel'].format(channel=channel)}: {inp:.{digits}f} × {_signed(weight, digits)}")
        values.append(product)
        colours.append(POSITIVE_COLOUR if product >= 0 else NEGATIVE_COLOUR)
        notes.append(_signed(product, digits))
        hovers.append(f"{inp:.6f} × {weight:.6f} = {product:.6f}")
    if contrib.rest_count:
        names.append(labels["rest"].format(n=contrib.rest_count))
        values.append(contrib.rest_sum)
        colours.append(REST_COLOUR)
        notes.append(_signed(contrib.rest_sum, digits))
        hovers.append(f"Σ+ {contrib.rest_positive:.6f}, Σ− {contrib.rest_negative:.6f}")
    names.append(labels["total"].format(m=in_channels))
    values.append(contrib.total)
    colours.append(TOTAL_COLOUR)
    notes.append(_signed(contrib.total, digits))
    hovers.append(f"{contrib.total:.6f}")
    rows = len(names)
    data = [{"type": "bar", "orientation": "h", "x": values, "y": list(range(rows)), "marker": {"color": colours},
             "customdata": hovers, "hovertemplate": "%{customdata}<extra></extra>", "showlegend": False}]
    annotations = [{"text": note, "x": 1.0, "xref": "paper", "xanchor": "left", "xshift": 8, "y": row, "yref": "y",
                    "showarrow": False, "font": {"size": 13, "family": "monospace"}}
                   for row, note in enumerate(notes)]
    layout = {"height": 70 + CHANNEL_ROW_PX * rows, "margin": {"l": 10, "r": 80, "t": 10, "b": 50},
              "bargap": 0.25, "annotations": annotations,
              "yaxis": {"tickmode": "array", "tickvals": list(range(rows)), "ticktext": names, "autorange": "reversed",
                        "automargin": True, "tickfont": {"size": 13, "family": "monospace"}, "fixedrange": True},
              "xaxis": {"title": {"text": labels["x"]}, "zeroline": True, "zerolinecolor": "grey",
                        "fixedrange": True, "automargin": True},
              "shapes": [{"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": rows - 1.5,
                          "y1": rows - 1.5, "line": {"color": "grey", "width": 1, "dash": "dot"}}]}
    return _figure(data, layout)


def running_sum(tr: ConvTrace, labels: dict[str, str]) -> go.Figure:
    """The running sum of the products, then + bias, then the activation, and the forward pass's value."""
    sums = tr.running_sums
    end = sums.size
    data = [
        {"type": "scatter", "x": np.arange(1, end + 1, dtype=np.int32), "y": sums,
         "mode": "lines+markers" if end <= 64 else "lines", "name": labels["running"], "line": {"color": "#1f77b4"}},
        {"type": "scatter", "x": [end, end + 1], "y": [tr.sum_of_products, tr.pre_activation],
         "mode": "lines+markers", "name": labels["bias"], "line": {"color": "#2ca02c", "dash": "dot"}},
        {"type": "scatter", "x": [end + 1, end + 2], "y": [tr.pre_activation, tr.output], "mode": "lines+markers",
         "name": labels["activation"], "line": {"color": MARK_COLOUR}},
        {"type": "scatter", "x": [end + 2], "y": [tr.reference_output], "mode": "markers",
         "name": labels["reference"],
         "marker": {"symbol": "circle-open", "size": 16, "color": "black", "line": {"width": 2}}},
    ]
    layout = {"height": 300, "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
              "xaxis": {"title": {"text": labels["x"]}}, "legend": {"orientation": "h", "y": -0.3},
              "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0, "y1": 0,
                          "line": {"color": "grey", "width": 1}}]}
    return _figure(data, layout)


#: Size of the output map's invisible click markers (see :func:`output_map`).
CLICK_MARKER_PX = 6


def output_map(plane: np.ndarray, y: int, x: int, title: str, hover: str) -> go.Figure:
    """One output channel as a heatmap, a near-transparent marker per cell (so a click returns the cell)
    and a square around the chosen position.

    A click (or tap) picks the marker plotly finds closest to the pointer. Plotly counts every marker whose
    centre lies within its radius (less 1 px) as equally close and then takes the last one: markers larger than
    a cell (they were 18 px, a cell of a 28×28 map is 8 px wide on a phone) made a click select the cell below
    or to the right. The markers are 6 px (radius 3: plotly's minimum, where no two cells tie) and the
    hover distance is unlimited, so the closest centre always wins: a click selects exactly the cell under it."""
    h, w = plane.shape
    limit = float(np.abs(plane).max()) or 1.0
    linear = bool((plane < 0).any())
    ys, xs = np.mgrid[0:h, 0:w]
    size = CLICK_MARKER_PX
    data = [
        {"type": "heatmap", "z": _f32(plane), "zmin": -limit if linear else 0.0, "zmax": limit,
         "colorscale": "RdBu" if linear else "Viridis", "reversescale": linear, "hoverinfo": "skip",
         "colorbar": {"thickness": 12}},
        {"type": "scatter", "x": xs.ravel().astype(np.int16), "y": ys.ravel().astype(np.int16), "mode": "markers",
         "opacity": 0.01, "showlegend": False, "customdata": _f32(plane.ravel()),
         "hovertemplate": hover + "<extra></extra>",
         "marker": {"symbol": "square", "size": size, "color": "white"}},
    ]
    layout = {"title": {"text": title, "font": {"size": 14}}, "height": 460, "dragmode": False,
              "clickmode": "event+select", "hovermode": "closest", "hoverdistance": -1, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
              "xaxis": {"constrain": "domain", "showgrid": False, "zeroline": False},
              "yaxis": {"autorange": "reversed", "scaleanchor": "x", "constrain": "domain", "showgrid": False,
                        "zeroline": False},
              "shapes": [{"type": "rect", "x0": x - 0.5, "x1": x + 0.5, "y0": y - 0.5, "y1": y + 0.5,
                          "line": {"color": MARK_COLOUR, "width": 3}}]}
    return _figure(data, layout)


def _rect(top: int, left: int, k: int) -> tuple[list[float], list[float]]:
    x0, x1, y0, y1 = left - 0.5, left + k - 0.5, top - 0.5, top + k - 0.5
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def slide_animation(band: SlideBand, kernel_size: int, start: int, input_size: tuple[int, int],
                    labels: dict[str, str]) -> go.Figure:
    """The K×K window sliding along one output row: left the input channel (a band of rows, zero padding
    included) with the window, right the output channel with the cell it produces. One plotly frame per
    position, a Play/Pause button and a step slider: it runs in the browser, no server round trip per frame.
    Axes are in real coordinates (the padding at -p … -1 and H … H+p-1)."""
    gap = 0.08
    in_limit = float(np.abs(band.input_band).max()) or 1.0
    out_limit = float(np.abs(band.output_band).max()) or 1.0
    linear = bool((band.output_band < 0).any())
    signed = bool((band.input_band < 0).any())
    data: list[dict] = [
        {"type": "heatmap", "z": _list(band.input_band), "x0": band.input_left, "dx": 1, "y0": band.input_top,
         "dy": 1, "zmin": -in_limit if signed else 0.0, "zmax": in_limit, "colorscale": "RdBu" if signed else "Viridis",
         "reversescale": signed, "showscale": False, "hoverinfo": "skip", "xaxis": "x", "yaxis": "y"},
        {"type": "heatmap", "z": _list(band.output_band), "x0": 0, "dx": 1, "y0": band.output_top, "dy": 1,
         "zmin": -out_limit if linear else 0.0, "zmax": out_limit, "colorscale": "RdBu" if linear else "Viridis",
         "reversescale": linear, "showscale": False, "hoverinfo": "skip", "xaxis": "x2", "yaxis": "y2"},
    ]
    h_in, w_in = input_size
    shapes = [{"type": "rect", "xref": "x", "yref": "y", "x0": -0.5, "x1": w_in - 0.5, "y0": -0.5,
               "y1": h_in - 0.5, "line": {"color": "grey", "width": 1, "dash": "dot"}}] if band.input_left < 0 else []

    def moving(step: WindowStep) -> list[dict]:
        xs, ys = _rect(step.top, step.left, kernel_size)
        cell_x, cell_y = _rect(step.y, step.x, 1)
        style = {"type": "scatter", "mode": "lines", "line": {"color": MARK_COLOUR, "width": 3},
                 "hoverinfo": "skip", "showlegend": False}
        return [{"x": xs, "y": ys, "xaxis": "x", "yaxis": "y", **style},
                {"x": cell_x, "y": cell_y, "xaxis": "x2", "yaxis": "y2", **style}]

    data += moving(band.steps[start])
    frames = [{"data": moving(step), "traces": [2, 3], "name": str(step.x)} for step in band.steps]
    # redraw: plotly.js drops the heatmaps of the other traces when frames are animated without a redraw
    still = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    play = {"frame": {"duration": 180, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0},
            "mode": "immediate"}
    layout: dict = {
        "height": 400, "margin": {"l": 10, "r": 10, "t": 40, "b": 70}, "shapes": shapes,
        "annotations": _titles([labels["input"], labels["output"]], gap),
        "updatemenus": [{"type": "buttons", "direction": "left", "x": 0.0, "y": -0.12, "xanchor": "left",
                         "yanchor": "top", "showactive": False, "pad": {"r": 10, "t": 0},
                         "buttons": [{"label": labels["play"], "method": "animate", "args": [None, play]},
                                     {"label": labels["pause"], "method": "animate", "args": [[None], still]}]}],
        "sliders": [{"active": start, "x": 0.2, "len": 0.8, "y": -0.1, "yanchor": "top",
                     "currentvalue": {"prefix": labels["step"] + " "}, "pad": {"t": 0},
                     "steps": [{"label": str(step.x), "method": "animate", "args": [[str(step.x)], still]}
                               for step in band.steps]}],
    }
    _axes(layout, 2, gap)
    return _figure(data, layout, frames)
