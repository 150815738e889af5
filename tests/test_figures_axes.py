"""One axis style for every figure: log axes label decades only; scatter labels placed apart and inside."""

from __future__ import annotations

from explainer.architectures import build_network
from explainer.figures import architecture
from explainer.figures.axes import LOG_AXIS, label_positions


def _log_axes(fig) -> list[dict]:
    layout = fig.to_dict()["layout"]
    return [axis for key, axis in layout.items() if key.startswith(("xaxis", "yaxis")) and axis.get("type") == "log"]


def test_log_axes_label_decades_only() -> None:
    network = build_network("mobilenet_v2")
    figures = [architecture.twin_per_block(network, build_network("mobilenet_v2"),
                                           {"original": "o", "twin": "t", "macs": "m", "block": "b"})]
    for fig in figures:
        axes = _log_axes(fig)
        assert axes and all(axis.get("dtick") == 1 for axis in axes)


def test_scatter_labels_alternate_and_stay_inside() -> None:
    xs = [10.0, 11.0, 12.0, 300.0, 5000.0]
    ys = [60.0, 60.5, 61.0, 72.0, 80.0]
    where = label_positions(xs, ys)
    assert where[0] == "top right" and where[-1].endswith("left")  # no label cut at the plot's edges
    assert where[1].startswith("bottom") and where[2].startswith("top")  # close neighbours on opposite sides
    assert where[3] == "top center"
    assert LOG_AXIS["type"] == "log"
