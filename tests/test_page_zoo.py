"""The lightweight-family page (AppTest, both languages): the numbers shown are the core's, the block shape
reruns only its fragment, the zoo table is computed once per process."""

from __future__ import annotations

import pytest

from explainer import costs
from explainer.i18n import t
from explainer import registry
from explainer.zoo import blocks
from explainer.zoo.latency import ZooRow
from pages.ui import fmt_int
from tests.conftest import run_page

PAGE = "pages/zoo.py"


@pytest.fixture(autouse=True)
def no_background_timing(monkeypatch):
    """Keep the test process quiet: the latency thread is tested in test_zoo_latency.py."""
    monkeypatch.setenv("EXPLAINER_ZOO_LATENCY", "off")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_renders_with_core_numbers(lang):
    at = run_page(PAGE, lang, timeout=300)
    assert not at.exception
    assert at.title[0].value == t("zoo.title", lang)
    table = at.dataframe[0].value
    assert len(table) == len(registry.MODEL_NAMES)
    macs = dict(zip(table[t("zoo.col_model", lang)], table[t("zoo.col_macs", lang)]))
    assert macs["ShuffleNet V2 0.5×"] == 40.5 and macs["VGG-16"] == 15470.3
    top1 = dict(zip(table[t("zoo.col_model", lang)], table[t("zoo.col_top1", lang)]))
    assert top1["EfficientNet-B0"] == 77.692 and top1["MobileNetV1"] == 70.6
    assert len(at.get("graphviz_chart")) == 4
    assert len(at.get("plotly_chart")) == 2  # accuracy vs MACs, roofline (latency plot waits for timings)
    assert t("setup.latency_off", lang) in [info.value for info in at.info]  # students: no switch named
    assert not any("EXPLAINER_ZOO_LATENCY" in info.value.replace("\\", "") for info in at.info)


def test_block_shape_changes_the_costs():
    at = run_page(PAGE, "en", timeout=300)
    at.number_input(key="m").set_value(64).run(timeout=120)
    at.number_input(key="n").set_value(128).run(timeout=120)
    at.selectbox(key="s").set_value(2).run(timeout=120)
    assert not at.exception
    inputs = costs.CostInputs.checked(3, 64, 128, 28, 6, 2)
    expected = blocks.key_blocks(inputs)
    macs = [m.value for m in at.metric if m.label == t("common.macs", "en")]
    assert sorted(macs) == sorted(fmt_int(expected[key].macs) for key in blocks.BLOCKS)  # two columns of two


def test_zoo_table_is_computed_once_per_process(monkeypatch):
    import explainer.zoo.latency as latency

    calls = []
    real = latency.static_row

    def counting(name: str) -> ZooRow:
        calls.append(name)
        return real(name)

    monkeypatch.setattr(latency, "static_row", counting)
    from streamlit import cache_resource

    cache_resource.clear()
    at = run_page(PAGE, "en", timeout=300)
    first = len(calls)
    at.selectbox(key="pick").set_value("vgg16").run(timeout=120)
    at.run(timeout=120)
    assert not at.exception and first == len(registry.MODEL_NAMES) and len(calls) == first


def test_roofline_button_measures_layers():
    at = run_page(PAGE, "en", timeout=300)
    at.selectbox(key="roof").set_value("shufflenet_v2_x0_5").run(timeout=120)
    at.button(key="roof_time").click().run(timeout=300)
    assert not at.exception
    summary = at.dataframe[-1].value
    rates = summary[t("zoo.col_rate", "en")].tolist()
    assert len(rates) == 4 and all(rate is not None and rate == rate and rate >= 0 for rate in rates)  # no NaN
    assert max(rates) > 0
