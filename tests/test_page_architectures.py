"""The Architectures page (AppTest, both languages): the numbers shown are the core's, the paper
comparisons appear where they apply, choosing a layer shows its formula, no traceback anywhere."""

from __future__ import annotations

import pytest

from explainer import architectures as arch
from explainer import formulas, published
from explainer.i18n import t
from pages.ui import fmt_int, fmt_millions
from tests.conftest import run_page

PAGE = "pages/architectures.py"
LANGS = ["en", "zh"]


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    parts += [x.value for x in at.latex]
    return "\n".join(parts)


def metric(at, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric {label!r}: {[m.label for m in at.metric]}")


@pytest.mark.parametrize("lang", LANGS)
def test_default_view_shows_core_numbers(lang):
    at = run_page(PAGE, lang)
    assert not at.exception
    assert at.title[0].value == t("arch.title", lang)
    v2 = arch.build_network("mobilenet_v2")
    assert metric(at, t("common.macs", lang)) == fmt_millions(v2.macs) == "300.8 M"
    assert metric(at, t("common.params", lang)) == fmt_millions(v2.params, 2)
    assert metric(at, t("arch.bn_params", lang)) == fmt_int(v2.bn_params)
    table = at.dataframe[0].value
    assert len(table) == len(v2.layers)
    assert list(table[t("arch.col_macs", lang)]) == [layer.macs for layer in v2.layers]
    assert len(at.get("plotly_chart")) == 6
    body = texts(at)
    info = at.info[0].value
    assert "**300 M**" in info and "**3.4 M**" in info and published.V2_PAPER in info and "72%" in info
    assert "3,504,872" in body  # torchvision's total, with batch norm


@pytest.mark.parametrize("lang", LANGS)
def test_v3_small_explains_the_gap(lang):
    at = run_page(PAGE, lang, model="mobilenet_v3_small")
    assert not at.exception
    body = texts(at)
    assert t("arch.note_mobilenet_v3_small", lang) in body
    assert "66" in body and "56.5" in body
    assert metric(at, t("common.macs", lang)) == "56.5 M"


@pytest.mark.parametrize("lang", LANGS)
def test_v1_paper_tables(lang):
    at = run_page(PAGE, lang, model="mobilenet_v1", w=1.0, res=224)
    assert not at.exception
    assert metric(at, t("common.macs", lang)) == "568.7 M"
    body = texts(at)
    assert t("arch.table2_note", lang) in body
    assert "4,867,293,184" in body and "4,866,269,184" in body  # the twin beside the paper's 4866M
    table2 = at.dataframe[1].value
    assert list(table2[t("arch.printed_macs_pct", lang)]) == [94.86, 3.06, 1.19, 0.18]
    assert list(table2[t("arch.exact_macs_pct", lang)]) == [94.86, 3.06, 1.91, 0.18]
    assert list(table2[t("arch.exact_params_pct", lang)]) == [74.59, 1.06, 0.02, 24.33]


@pytest.mark.parametrize("lang", LANGS)
def test_widgets_change_the_numbers(lang):
    at = run_page(PAGE, lang)
    at.selectbox(key="model").set_value("mobilenet_v1").run()
    at.select_slider(key="w").set_value(0.5).run()
    at.select_slider(key="res").set_value(160).run()
    assert not at.exception
    n = arch.build_network("mobilenet_v1", 0.5, 160)
    assert metric(at, t("common.macs", lang)) == fmt_millions(n.macs)
    assert t("arch.no_paper_row", lang) in texts(at)
    assert len(at.dataframe[0].value) == len(n.layers)


@pytest.mark.parametrize("lang", LANGS)
def test_choosing_a_layer_shows_its_formula(lang):
    at = run_page(PAGE, lang, model="mobilenet_v2")
    at.selectbox(key="layer").set_value("b3.expand").run()
    assert not at.exception
    layer = arch.build_network("mobilenet_v2").layer("b3.expand")
    expected = formulas.pointwise(layer.input[2], layer.output[2], layer.input[0])
    latex = [x.value for x in at.latex]
    assert any(expected.macs_numbers in value for value in latex)
    assert any(formulas.number(layer.macs) in value for value in latex)
    # the whole block through the cost page's inverted residual formula
    block = formulas.inverted_residual(3, 24, 24, 56, 6, 1)
    assert any(block.macs_numbers in value for value in latex)
    at.selectbox(key="model").set_value("mobilenet_v3_large").run()
    at.selectbox(key="layer").set_value("b4.se").run()
    se = arch.build_network("mobilenet_v3_large").layer("b4.se")
    latex = [x.value for x in at.latex]
    assert any(formulas.pointwise(72, se.squeeze, 1, bias=True).params_numbers in value for value in latex)
    assert t("arch.part_se_reduce", lang) in texts(at)


@pytest.mark.parametrize("lang", LANGS)
def test_memory_streaming_toggle(lang):
    at = run_page(PAGE, lang)
    labels = {name: t("arch.peak_metric", lang, name=arch.DISPLAY_NAMES[name]) for name in ("mobilenet_v1", "mobilenet_v2")}
    naive = {name: metric(at, label) for name, label in labels.items()}
    at.toggle(key="arch_streamed").set_value(True).run()
    at.radio(key="arch_dtype").set_value("int8").run()
    assert not at.exception
    for name, label in labels.items():
        steps = arch.memory_profile(arch.build_network(name), streamed=True)
        expected = steps[arch.peak(steps)].bytes("int8") / 1024
        assert metric(at, label) == f"{expected:,.0f} KiB"
    assert naive["mobilenet_v1"] == f"{4 * 96 * 112 * 112 / 1024:,.0f} KiB"
    v1 = float(metric(at, labels["mobilenet_v1"]).split()[0].replace(",", ""))
    v2 = float(metric(at, labels["mobilenet_v2"]).split()[0].replace(",", ""))
    assert v2 < v1  # the V2 paper's point, once expanded tensors are streamed


@pytest.mark.parametrize("lang", LANGS)
def test_stale_session_values_fall_back_to_the_defaults(lang):
    """A value no widget offers (e.g. from an older version of the page) is replaced by the page's default:
    the page shows exactly what a fresh visit shows (V2, α = 1, 224, its first depthwise layer), no error."""
    fresh = run_page(PAGE, lang)
    default = arch.build_network("mobilenet_v2", 1.0, 224)
    first_dw = next(layer.name for layer in default.layers if layer.type == "depthwise")
    for stale in ({"res": 4, "w": 7.0, "layer": "no-such-layer"},
                  {"model": "mobilenet_v9", "w": "1.0", "res": 224.5}):
        at = run_page(PAGE, lang, **stale)
        assert not at.exception and not at.error
        state = {key: at.session_state[key] for key in ("model", "w", "res", "layer")}
        assert state == {"model": "mobilenet_v2", "w": 1.0, "res": 224, "layer": first_dw}
        assert metric(at, t("common.macs", lang)) == fmt_millions(default.macs)
        assert [(m.label, m.value) for m in at.metric] == [(m.label, m.value) for m in fresh.metric]
    # a value the widgets do offer is kept
    kept = run_page(PAGE, lang, model="mobilenet_v1", w=0.5, res=160)
    assert metric(kept, t("common.macs", lang)) == fmt_millions(arch.build_network("mobilenet_v1", 0.5, 160).macs)
