"""Per-layer axes (a few upright block labels, never one rotated name per layer) and tables that show
"measuring…"/"—" instead of None while timings are measured (issue 25)."""

from __future__ import annotations

import json

import pytest

from explainer import architectures as arch
from explainer.figures import architecture as figs
from explainer.figures.axes import LAYER_LABELS, layer_axis
from explainer.i18n import t
from pages.tables import placeholder_table


@pytest.mark.parametrize("model", arch.MODEL_NAMES)
def test_a_per_layer_axis_labels_at_most_eight_blocks_upright(model: str) -> None:
    network = arch.build_network(model, 1.0, 224)
    names = [layer.name for layer in network.layers]
    axis = layer_axis(names, [layer.block for layer in network.layers])
    assert axis["tickangle"] == 0 and axis["categoryarray"] == names
    assert 2 <= len(axis["tickvals"]) <= LAYER_LABELS
    assert axis["tickvals"][0] == "stem" and axis["ticktext"][0] == "stem"
    for value, text in zip(axis["tickvals"], axis["ticktext"]):
        layer = network.layer(value)
        assert names.index(value) == 0 or network.layers[names.index(value) - 1].block != layer.block  # a block's first
        assert text == value.split(".")[0]


def test_the_v2_axis_is_every_third_block() -> None:
    network = arch.build_network("mobilenet_v2", 1.0, 224)  # 53 layers in blocks 0 … 18
    axis = layer_axis([layer.name for layer in network.layers], [layer.block for layer in network.layers])
    assert axis["ticktext"] == ["stem", "b3", "b6", "b9", "b12", "b15", "head"]


def test_the_architecture_figures_use_it() -> None:
    network = arch.build_network("mobilenet_v2", 1.0, 224)
    labels = {"macs": "MACs", "params": "params", "cumulative": "cumulative", "size": "size", "channels": "ch",
              **{kind: kind for kind in arch.LAYER_TYPES}}
    for figure in (figs.layer_costs(network, labels, "b2.dw"), figs.shape_strip(network, labels)):
        layout = json.loads(figure.to_json())["layout"]
        axes = [value for key, value in layout.items() if key.startswith("xaxis")]
        assert axes and all(a.get("tickangle") == 0 and len(a.get("tickvals", [])) == 7 for a in axes)
        # every bar still carries its full layer name (shown on hover)
        assert {x for trace in figure.data for x in (trace.x or [])} == {layer.name for layer in network.layers}


def test_a_layer_axis_needs_one_block_per_name() -> None:
    with pytest.raises(ValueError):
        layer_axis(["a", "b"], [0])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_missing_timings_read_measuring_not_none(lang: str) -> None:
    rows = [{"model": "A", "ms": None, "rate": float("nan"), "note": None}, {"model": "B", "ms": 12.345, "rate": 7.0,
                                                                            "note": "x"}]
    html = placeholder_table(rows, {"ms": "{:.1f}", "rate": "{:.0f}"}, t("tables.measuring", lang)).to_html()
    assert "None" not in html and "nan" not in html
    assert html.count(t("tables.measuring", lang)) == 3 and "12.3" in html
    assert t("tables.measuring", "zh") != t("tables.measuring", "en") and t("tables.missing", "zh") == "—"
