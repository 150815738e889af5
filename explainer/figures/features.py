"""Figures of the Feature-maps page (plotly) and the PNG grids of ``python -m explainer features --save-dir``.

Colour maps: a stage whose values are all ≥ 0 (after ReLU6, ReLU) is drawn
with the sequential *viridis*; a stage with negative values (the linear
projection, the residual sum, h-swish) with the diverging *RdBu_r*, centred
on zero (blue negative, white zero, red positive), so the values a ReLU would
have destroyed stay visible. The PNG mosaics and the plotly heatmaps use the
same 256-colour tables.

The channel grid is one PNG mosaic (numpy + PIL) inside a plotly figure:
64 heatmaps as 64 plotly traces would take seconds to build and draw; the
mosaic takes milliseconds (see ``bench/features.py``).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

from explainer import images
from explainer.features import FeatureMaps, StageRecord, top_channels
from explainer.i18n import t

SEQUENTIAL = "viridis"
DIVERGING = "RdBu_r"
NORMALISATIONS: tuple[str, ...] = ("channel", "shared")
#: Tiles smaller than this many pixels are enlarged by whole factors (nearest neighbour: pixels stay sharp).
MIN_TILE = 56
#: Largest grid picture, in pixels: beyond it tiles are averaged down by whole factors (2×2, 3×3…), which keeps
#: a 64-channel grid of 112×112 maps near 0.5 MB on the wire. The enlarged channel is always full resolution.
MAX_GRID_PIXELS = 300_000
GAP = 2  # pixels between tiles
GAP_COLOUR = (255, 255, 255)


@lru_cache(maxsize=4)
def lut(name: str) -> np.ndarray:
    """The 256×3 ``uint8`` colour table of a matplotlib colour map."""
    import matplotlib

    colours = matplotlib.colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3]
    return np.round(colours * 255.0).astype(np.uint8)


@lru_cache(maxsize=4)
def plotly_scale(name: str, stops: int = 17) -> tuple[tuple[float, str], ...]:
    """The same colour map as a plotly colour scale."""
    table = lut(name)
    positions = np.linspace(0.0, 1.0, stops)
    return tuple(
        (float(p), "rgb({},{},{})".format(*table[int(round(p * 255))])) for p in positions
    )


def is_signed(record: StageRecord) -> bool:
    """Whether the stage has negative values (then it is drawn with the diverging map)."""
    return record.summary().min < 0


def colormap_of(record: StageRecord) -> str:
    return DIVERGING if is_signed(record) else SEQUENTIAL


def value_range(values: np.ndarray, signed: bool) -> tuple[float, float]:
    """Colour range: ``[-m, m]`` with ``m = max |v|`` for signed data, else ``[min, max]``."""
    if signed:
        m = float(np.max(np.abs(values))) if values.size else 0.0
        return -m, m
    return (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)


def colorize(values: np.ndarray, low: float, high: float, cmap: str) -> np.ndarray:
    """``H×W`` values → ``H×W×3`` uint8 through ``cmap``; a flat range maps to the colour of ``low``
    (or the centre, white, of a diverging map)."""
    table = lut(cmap)
    if high > low:
        index = np.clip((values - low) * (255.0 / (high - low)) + 0.5, 0, 255).astype(np.uint8)
    else:
        index = np.full(values.shape, 128 if cmap == DIVERGING else 0, dtype=np.uint8)
    return table[index]


def _downscale(values: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor``×``factor`` blocks (a trailing partial block is dropped)."""
    if factor == 1:
        return values
    h, w = values.shape[-2] // factor, values.shape[-1] // factor
    cropped = values[..., : h * factor, : w * factor]
    return cropped.reshape(*values.shape[:-2], h, factor, w, factor).mean(axis=(-3, -1))


def _upscale(tile: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return tile
    return np.repeat(np.repeat(tile, factor, axis=0), factor, axis=1)


@dataclass(frozen=True)
class Mosaic:
    """A grid of channels as one RGB picture, and where each tile sits."""

    pixels: np.ndarray  # uint8 H×W×3
    channels: tuple[int, ...]
    columns: int
    tile: int  # tile side in pixels (after enlarging)
    factor: int  # each feature-map pixel is factor×factor picture pixels
    reduce: int  # or: factor×factor feature-map pixels were averaged into one picture pixel
    low: float  # the shared colour range (shared normalisation), else the range over all tiles
    high: float
    cmap: str

    def origin(self, i: int) -> tuple[int, int]:
        """Top-left pixel (x, y) of tile ``i``."""
        row, col = divmod(i, self.columns)
        return col * (self.tile + GAP), row * (self.tile + GAP)


def mosaic(record: StageRecord, channels: Sequence[int], *, normalise: str = "channel", columns: int = 8,
           min_tile: int = MIN_TILE, max_pixels: int = MAX_GRID_PIXELS) -> Mosaic:
    """The ``channels`` of ``record`` as tiles in rows of ``columns``, one colour map.

    ``normalise="channel"``: each tile uses its own range (its pattern is visible
    even when weak); ``"shared"``: one range for all tiles (their strengths compare).
    Ranges are taken on the full-resolution maps, also when tiles are averaged down.
    """
    if normalise not in NORMALISATIONS:
        raise ValueError(normalise)
    channels = tuple(int(c) for c in channels)
    cmap = colormap_of(record)
    signed = cmap == DIVERGING
    n = len(channels)
    _, h0, w0 = record.shape
    reduce = 1
    while n * (max(h0, w0) // reduce) ** 2 > max_pixels and max(h0, w0) // (reduce + 1) >= min_tile:
        reduce += 1
    h, w = h0 // reduce, w0 // reduce
    factor = max(1, math.ceil(min_tile / max(h, w)))
    tile = max(h, w) * factor
    columns = max(1, min(columns, n))
    rows = max(1, math.ceil(n / columns))
    height = rows * tile + (rows - 1) * GAP
    width = columns * tile + (columns - 1) * GAP
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[:] = GAP_COLOUR
    data = record.tensor[list(channels)].float().numpy() if n else np.zeros((0, h, w), np.float32)
    shared = value_range(data, signed)
    for i, values in enumerate(data):
        low, high = shared if normalise == "shared" else value_range(values, signed)
        row, col = divmod(i, columns)
        y, x = row * (tile + GAP), col * (tile + GAP)
        shown = _downscale(values, reduce)
        pixels[y:y + h * factor, x:x + w * factor] = _upscale(colorize(shown, low, high, cmap), factor)
    return Mosaic(pixels, channels, columns, tile, factor, reduce, shared[0], shared[1], cmap)


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def data_uri(pixels: np.ndarray) -> str:
    return images.data_uri(png_bytes(pixels), "image/png")


def stage_label(record: StageRecord, lang: str = "en") -> str:
    return t(f"features.stage_{record.stage}", lang)


def shape_label(shape: tuple[int, int, int]) -> str:
    """``(C, H, W)`` → ``"H×W×C"`` (the papers' order)."""
    c, h, w = shape
    return f"{h}×{w}×{c}"


def _colorbar_trace(low: float, high: float, cmap: str, xaxis: str = "x", yaxis: str = "y") -> go.Heatmap:
    """An invisible one-cell heatmap that only draws a colour bar for ``[low, high]``."""
    return go.Heatmap(
        z=[[low, high]], x=[0, 0], y=[0, 0], colorscale=plotly_scale(cmap), zmin=low, zmax=high, opacity=0,
        hoverinfo="skip", showscale=True, xaxis=xaxis, yaxis=yaxis, colorbar=dict(thickness=12, len=0.9),
    )


def channel_grid(record: StageRecord, channels: Sequence[int], *, normalise: str = "channel", lang: str = "en",
                 title: str = "", columns: int = 8) -> go.Figure:
    """The grid of ``channels`` (e.g. the k clearest) as one picture, each tile labelled ``#c``.

    With shared normalisation a colour bar gives the common scale.
    """
    grid = mosaic(record, channels, normalise=normalise, columns=columns)
    height_px, width_px = grid.pixels.shape[:2]
    traces: list[go.BaseTraceType] = [go.Image(source=data_uri(grid.pixels), hoverinfo="skip")]
    if normalise == "shared" and grid.high > grid.low:
        traces.append(_colorbar_trace(grid.low, grid.high, grid.cmap))
    annotations = []
    for i, c in enumerate(grid.channels):
        x, y = grid.origin(i)
        annotations.append(dict(x=x + 2, y=y + 2, xanchor="left", yanchor="top", text=f"#{c}", showarrow=False,
                                font=dict(size=10, color="white"), bgcolor="rgba(0,0,0,0.45)", borderpad=1))
    figure = go.Figure(traces)
    rows = math.ceil(len(grid.channels) / grid.columns) if grid.channels else 1
    figure.update_layout(
        title=title or None,
        height=int(min(900, max(220, 120 * rows + 60))),
        margin=dict(l=5, r=5, t=40 if title else 10, b=5),
        xaxis=dict(visible=False, range=[-0.5, width_px - 0.5]),
        yaxis=dict(visible=False, range=[height_px - 0.5, -0.5], scaleanchor="x"),
        annotations=annotations,
        plot_bgcolor="white",
    )
    return figure


def grid_png(record: StageRecord, k: int = 16, *, normalise: str = "channel", columns: int = 8) -> Image.Image:
    """The ``k`` clearest channels of one stage as a PNG-ready picture."""
    return Image.fromarray(mosaic(record, top_channels(record, k), normalise=normalise, columns=columns).pixels)


def block_png(records: Sequence[StageRecord], k: int = 16, *, columns: int = 8, lang: str = "en") -> Image.Image:
    """One picture per block for ``--save-dir``: for every stage a title line
    (``b3.dw  depthwise  56×56×144``) over the mosaic of its ``k`` clearest channels."""
    parts: list[Image.Image] = []
    for record in records:
        tiles = grid_png(record, k, columns=columns)
        label = f"{record.name}  {record.stage}  {shape_label(record.shape).replace('×', 'x')}  [{colormap_of(record)}]"
        header = Image.new("RGB", (max(tiles.width, 8 * len(label)), 16), GAP_COLOUR)
        ImageDraw.Draw(header).text((2, 2), label, fill=(0, 0, 0))
        parts += [header, tiles]
    width = max(p.width for p in parts)
    height = sum(p.height for p in parts) + GAP * len(parts)
    sheet = Image.new("RGB", (width, height), GAP_COLOUR)
    y = 0
    for part in parts:
        sheet.paste(part, (0, y))
        y += part.height + GAP
    return sheet


def _heatmap(values: np.ndarray, cmap: str, *, xaxis: str, yaxis: str, name: str, showscale: bool = False,
             colorbar_x: float | None = None, zrange: tuple[float, float] | None = None,
             extent: int | None = None, opacity: float = 1.0) -> go.Heatmap:
    low, high = zrange if zrange is not None else value_range(values, cmap == DIVERGING)
    h, w = values.shape
    step = (extent / w) if extent else 1.0
    start = (step - 1.0) / 2.0 if extent else 0.0  # cells cover the same pixels as an image of side `extent`
    colorbar = dict(thickness=10, len=0.9) if colorbar_x is None else dict(thickness=8, len=1.0, x=colorbar_x,
                                                                            xanchor="left", xpad=2)
    return go.Heatmap(
        z=np.round(values.astype(np.float64), 4), x0=start, dx=step, y0=start, dy=step,
        colorscale=plotly_scale(cmap), zmin=low, zmax=high, showscale=showscale, colorbar=colorbar,
        xaxis=xaxis, yaxis=yaxis, name=name, opacity=opacity,
        hovertemplate="x=%{x:.0f} y=%{y:.0f}: %{z}<extra>" + name + "</extra>",
    )


def _panel_layout(n: int, gap: float = 0.02) -> dict:
    width = (1.0 - gap * (n - 1)) / n
    layout: dict = {}
    for i in range(n):
        suffix = "" if i == 0 else str(i + 1)
        start = max(0.0, i * (width + gap))
        layout[f"xaxis{suffix}"] = dict(domain=[start, min(1.0, start + width)], visible=False, constrain="domain",
                                         constraintoward="center")
        layout[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", visible=False, autorange="reversed",
                                         scaleanchor=f"x{suffix}", constrain="domain",
                                         constraintoward="top")
    return layout


def _axis(i: int) -> tuple[str, str]:
    suffix = "" if i == 0 else str(i + 1)
    return f"x{suffix}", f"y{suffix}"


@dataclass(frozen=True)
class PathPanel:
    """One panel of the bottleneck strip: a stage and the channel it shows."""

    record: StageRecord
    channel: int


def path_panels(records: Sequence[StageRecord]) -> list[PathPanel]:
    """Which channel each stage of a block shows.

    The depthwise filter works on one channel at a time, so the expansion (and
    the SE scale) show the *same* channel as the depthwise stage's clearest
    one; the projection mixes all channels, so it (and the residual sum) show
    the projection's clearest channel.
    """
    by_stage = {r.stage: r for r in records}
    panels = []
    dw = by_stage.get("depthwise")
    dw_channel = top_channels(dw, 1)[0] if dw is not None else None
    mixed = by_stage.get("project") or by_stage.get("pointwise")
    mixed_channel = top_channels(mixed, 1)[0] if mixed is not None else None
    for record in records:
        if record.stage in ("expand", "depthwise", "se") and dw_channel is not None:
            channel = dw_channel
        elif record.stage in ("project", "pointwise", "residual") and mixed_channel is not None:
            channel = mixed_channel
        else:
            channel = top_channels(record, 1)[0]
        panels.append(PathPanel(record, channel))
    return panels


def channel_counts(records: Sequence[StageRecord]) -> tuple[int, int, int] | None:
    """``(M, tM, N)`` of a block: input channels, channels of the depthwise stage, output channels."""
    by_stage = {r.stage: r for r in records}
    dw = by_stage.get("depthwise")
    if dw is None:
        return None
    return records[0].input_shape[0], dw.shape[0], records[-1].shape[0]


def path_strip(records: Sequence[StageRecord], *, lang: str = "en", title: str = "") -> go.Figure:
    """A block's stages side by side (expand → depthwise → [SE] → project → [residual]), each showing
    one channel (see :func:`path_panels`), titled with stage, shape and channel; linear stages use the
    diverging colour map with a colour bar, so negative values show."""
    panels = path_panels(records)
    n = len(panels)
    layout = _panel_layout(n, gap=0.08 if n > 1 else 0.0)
    # Panels are square and limited by the height: titles sit right on them, colour bars in the gaps.
    plot_height = int(min(260, max(150, 600 / n)))
    traces = []
    annotations = []
    for i, panel in enumerate(panels):
        record = panel.record
        x, y = _axis(i)
        cmap = colormap_of(record)
        domain = layout[f"xaxis{'' if i == 0 else i + 1}"]["domain"]
        traces.append(_heatmap(record.channel(panel.channel), cmap, xaxis=x, yaxis=y,
                               name=f"{record.name} #{panel.channel}", showscale=cmap == DIVERGING,
                               colorbar_x=min(1.0, domain[1] + 0.004)))
        arrow = "→ " if i else ""
        annotations.append(dict(
            x=0.5, y=1.0, xref=f"{x} domain", yref=f"{y} domain", yanchor="bottom", showarrow=False,
            text=f"<b>{arrow}{stage_label(record, lang)}</b><br>{shape_label(record.shape)} · #{panel.channel}",
            font=dict(size=12),
        ))
    figure = go.Figure(traces)
    top = 80 if title else 48
    figure.update_layout(**layout, annotations=annotations, height=plot_height + top + 8, title=title or None,
                         margin=dict(l=5, r=45, t=top, b=8))
    return figure


def panel_pixels(record: StageRecord, channel: int, min_side: int = 112) -> np.ndarray:
    """One channel as RGB in its own colour range, enlarged by a whole factor to at least ``min_side``
    pixels (nearest neighbour: a 7×7 map stays 49 sharp squares instead of a browser-smoothed blur)."""
    values = record.channel(channel)
    cmap = colormap_of(record)
    low, high = value_range(values, cmap == DIVERGING)
    factor = max(1, math.ceil(min_side / max(values.shape)))
    return _upscale(colorize(values, low, high, cmap), factor)


def journey_strip(maps: FeatureMaps, *, lang: str = "en", title: str = "", panels_per_row: int = 10) -> go.Figure:
    """The input photo, then one channel per block (its output's clearest one) up to the last
    convolution, each labelled with H×W×C: the resolution falls from 224 to 7 while channels grow.
    Every panel has the same size on screen, so coarser pixels show the shrinking resolution."""
    from explainer.features import journey

    steps = journey(maps)
    n = len(steps) + (1 if maps.input_image is not None else 0)
    per_row = max(1, min(panels_per_row, n))
    rows = math.ceil(n / per_row)
    # Square panels limited by their height (PANEL px), so the labels sit right under them.
    panel_px, label_px = 72, 34
    plot_px = rows * panel_px + (rows - 1) * label_px
    gap_x, gap_y = 0.012, label_px / plot_px
    width = (1.0 - gap_x * (per_row - 1)) / per_row
    height = panel_px / plot_px
    layout: dict = {}
    traces: list[go.BaseTraceType] = []
    annotations = []
    index = 0

    def place(i: int) -> tuple[str, str, list[float], list[float]]:
        row, col = divmod(i, per_row)
        xd = [max(0.0, col * (width + gap_x)), min(1.0, col * (width + gap_x) + width)]
        top = min(1.0, 1.0 - row * (height + gap_y))
        yd = [max(0.0, top - height), top]
        suffix = "" if i == 0 else str(i + 1)
        layout[f"xaxis{suffix}"] = dict(domain=xd, visible=False, constrain="domain",
                                         constraintoward="center")
        layout[f"yaxis{suffix}"] = dict(domain=yd, anchor=f"x{suffix}", visible=False, autorange="reversed",
                                         scaleanchor=f"x{suffix}", constrain="domain",
                                         constraintoward="top")
        return f"x{suffix}", f"y{suffix}", xd, yd

    def label(x: str, y: str, text: str) -> None:  # under the panel as drawn (after the square constraint)
        annotations.append(dict(x=0.5, y=0, xref=f"{x} domain", yref=f"{y} domain", yanchor="top",
                                showarrow=False, text=text, font=dict(size=10)))

    if maps.input_image is not None:
        x, y, xd, yd = place(index)
        traces.append(go.Image(source=data_uri(maps.input_image), xaxis=x, yaxis=y, hoverinfo="skip"))
        h, w = maps.input_image.shape[:2]
        label(x, y, f"{t('features.input', lang)}<br>{h}×{w}×3")
        index += 1
    for record, channel in steps:
        x, y, xd, yd = place(index)
        traces.append(go.Image(source=data_uri(panel_pixels(record, channel)), xaxis=x, yaxis=y, hoverinfo="skip"))
        block = record.block
        head = t("features.block_stem", lang) if block == 0 else (
            t("features.block_head", lang) if record.stage == "head" else f"{block}")
        label(x, y, f"{head}<br>{shape_label(record.shape)}")
        index += 1
    figure = go.Figure(traces)
    top = 40 if title else 5
    figure.update_layout(**layout, annotations=annotations, height=plot_px + top + label_px, title=title or None,
                         margin=dict(l=5, r=5, t=top, b=label_px))
    return figure


def channel_figure(record: StageRecord, channel: int, *, photo: np.ndarray | None = None, opacity: float = 0.55,
                   title: str = "") -> go.Figure:
    """One channel enlarged, with hover values and a colour bar; over ``photo`` (uint8 S×S×3, the crop fed
    to the network) when given, the map stretched to the photo's size and drawn half transparent."""
    values = record.channel(channel)
    cmap = colormap_of(record)
    traces: list[go.BaseTraceType] = []
    extent = None
    if photo is not None:
        traces.append(go.Image(source=data_uri(photo), hoverinfo="skip"))
        extent = photo.shape[1]
    traces.append(_heatmap(values, cmap, xaxis="x", yaxis="y", name=f"{record.name} #{channel}", showscale=True,
                           extent=extent, opacity=opacity if photo is not None else 1.0))
    figure = go.Figure(traces)
    size = extent or values.shape[1]
    figure.update_layout(
        title=title or None, height=460, margin=dict(l=5, r=5, t=40 if title else 10, b=5),
        xaxis=dict(visible=False, range=[-0.5, size - 0.5], constrain="domain"),
        yaxis=dict(visible=False, range=[size - 0.5, -0.5], scaleanchor="x", constrain="domain"),
    )
    return figure
