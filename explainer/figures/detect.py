"""Figures of the detection part: boxes on the photo, SSD's feature maps with their default boxes, the box funnel."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont

#: One colour per class id (COCO ids 0…89), cycled from a qualitative palette that reads on photos.
PALETTE = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255))
#: Fonts with Chinese glyphs, tried in order for the box labels (Debian's WenQuanYi, Noto CJK, macOS, Windows).
CJK_FONTS = ("wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "NotoSansCJK-Regular.ttc",
             "PingFang.ttc", "msyh.ttc")


def class_color(index: int) -> tuple[int, int, int]:
    return PALETTE[int(index) % len(PALETTE)]


@lru_cache(maxsize=8)
def _font(size: int, cjk: bool):
    if cjk:
        for name in CJK_FONTS:
            try:
                return ImageFont.truetype(name, size)
            except OSError:
                continue
        return None
    return ImageFont.load_default(size)


def label_font(size: int, text: str):
    """A font that can draw ``text`` (a CJK font for Chinese, when the machine has one), or ``None``."""
    if any(ord(ch) > 0x2E80 for ch in text):
        return _font(size, True)
    return _font(size, False)


def draw_boxes(image: Image.Image, boxes: Sequence[tuple[float, float, float, float]], labels: Sequence[str],
               class_ids: Sequence[int], fallback_labels: Sequence[str] | None = None) -> Image.Image:
    """A copy of ``image`` with each box (x0, y0, x1, y1 in its pixels) outlined and labelled in its class colour.

    A label that needs a font the machine lacks (Chinese without a CJK font) is drawn from ``fallback_labels``.
    """
    out = image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    side = max(out.size)
    width = max(2, round(side / 300))
    size = max(12, round(side / 40))
    for i, (box, text, class_id) in enumerate(zip(boxes, labels, class_ids)):
        color = class_color(class_id)
        x0, y0, x1, y1 = box
        draw.rectangle((x0, y0, x1, y1), outline=color, width=width)
        font = label_font(size, text)
        if font is None:
            text = fallback_labels[i] if fallback_labels is not None else text
            font = _font(size, False)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tw, th = right - left, bottom - top
        ty = y0 - th - 2 * width if y0 - th - 2 * width >= 0 else y0  # above the box, or inside it at the top
        tx = min(max(0.0, x0), max(0.0, out.width - tw - 2 * width))
        draw.rectangle((tx, ty, tx + tw + 2 * width, ty + th + 2 * width), fill=color)
        ink = (0, 0, 0) if sum(color) > 380 else (255, 255, 255)
        draw.text((tx + width - left, ty + width - top), text, fill=ink, font=font)
    return out


def feature_maps_figure(maps: Sequence[tuple[int, int, int]], anchors: Sequence[np.ndarray], side: int,
                        labels: Sequence[str], *, title: str, height: int = 330) -> go.Figure:
    """One square per feature map (H, W, k): the cell grid over the input and the middle cell's default boxes.

    ``anchors[i]`` is ``[k, 4]`` (y centre, x centre, h, w as fractions of the input) of map ``i``'s middle cell.
    """
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=len(maps), subplot_titles=list(labels), horizontal_spacing=0.02)
    for col, ((h, w, _k), boxes) in enumerate(zip(maps, anchors), start=1):
        xref, yref = ("x", "y") if col == 1 else (f"x{col}", f"y{col}")
        for i in range(1, w):
            figure.add_shape(type="line", x0=side * i / w, x1=side * i / w, y0=0, y1=side, xref=xref, yref=yref,
                             line=dict(color="#bbb", width=1))
        for i in range(1, h):
            figure.add_shape(type="line", y0=side * i / h, y1=side * i / h, x0=0, x1=side, xref=xref, yref=yref,
                             line=dict(color="#bbb", width=1))
        cy, cx = (h // 2 + 0.5) / h * side, (w // 2 + 0.5) / w * side
        figure.add_shape(type="rect", x0=cx - side / w / 2, x1=cx + side / w / 2, y0=cy - side / h / 2,
                         y1=cy + side / h / 2, xref=xref, yref=yref, fillcolor="rgba(31,119,180,0.35)",
                         line=dict(width=0))
        for j, (_yc, _xc, bh, bw) in enumerate(np.asarray(boxes, dtype=float)):
            color = _rgb(class_color(j))
            figure.add_shape(type="rect", x0=cx - bw * side / 2, x1=cx + bw * side / 2, y0=cy - bh * side / 2,
                             y1=cy + bh * side / 2, xref=xref, yref=yref, line=dict(color=color, width=2))
        figure.add_trace(go.Scatter(x=[cx], y=[cy], mode="markers", marker=dict(size=4, color="#1f77b4"),
                                    hoverinfo="skip", showlegend=False), row=1, col=col)
        figure.update_xaxes(range=[-side * 0.35, side * 1.35], visible=False, row=1, col=col)
        figure.update_yaxes(range=[side * 1.35, -side * 0.35], visible=False, scaleanchor=xref, row=1, col=col)
        figure.add_shape(type="rect", x0=0, x1=side, y0=0, y1=side, xref=xref, yref=yref,
                         line=dict(color="#444", width=1))
    figure.update_layout(title=title, height=height, margin=dict(l=5, r=5, t=70, b=5), showlegend=False)
    return figure


def funnel_figure(stages: Sequence[str], counts: Sequence[int], *, title: str, axis_label: str,
                  height: int = 320) -> go.Figure:
    """Vertical bars on a log scale: default boxes per map, all boxes scored, boxes kept after NMS."""
    colors = ["#9ecae1"] * (len(counts) - 2) + ["#1f77b4", "#d62728"]
    figure = go.Figure(go.Bar(x=list(stages), y=list(counts), marker_color=colors, text=[f"{c:,}" for c in counts],
                              textposition="outside", cliponaxis=False,
                              hovertemplate="%{x}: %{y:,}<extra></extra>"))
    figure.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=10),
                         yaxis=dict(title=axis_label, type="log", dtick=1), xaxis=dict(automargin=True, tickangle=0), showlegend=False)
    return figure


def _rgb(color: tuple[int, int, int]) -> str:
    return f"rgb({color[0]},{color[1]},{color[2]})"
