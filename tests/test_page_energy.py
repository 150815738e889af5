"""The Energy page (AppTest, both languages): the numbers shown are the core's estimate, the switches change them,
sources are on the page."""

from __future__ import annotations

import pytest

from explainer import energy
from explainer.i18n import t
from tests.conftest import run_page

PAGE = "pages/energy.py"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_renders_the_core_estimate(lang):
    at = run_page(PAGE, lang, timeout=120)
    assert not at.exception
    assert at.title[0].value == t("energy.title", lang)
    expected = energy.estimate("mobilenet_v2")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("energy.total", lang)] == f"{expected.total_mj:.3f} mJ"
    assert metrics[t("energy.compute", lang)] == f"{expected.compute_mj:.3f} mJ"
    assert metrics[t("energy.memory", lang)] == f"{expected.memory_mj:.3f} mJ"
    assert len(at.get("plotly_chart")) == 3  # the table, the ladder, the split
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "Horowitz" in text and "Eyeriss" in text and "DeepEn2023" in text
    reality = at.dataframe[0].value
    assert any("30.9" in str(v) for v in reality["mJ"])


def test_switches_change_the_estimate():
    at = run_page(PAGE, "en", timeout=120)
    at.selectbox(key="emodel").set_value("mobilenet_v3_small")
    at.slider(key="ewidth").set_value(0.5)
    at.radio(key="edtype").set_value("int8")
    at.toggle(key="ewchip").set_value(True)
    at.run()
    assert not at.exception
    expected = energy.estimate("mobilenet_v3_small", 0.5, 224, "int8", weights_on_chip=True)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("energy.total", "en")] == f"{expected.total_mj:.3f} mJ"
    at.selectbox(key="emodel").set_value("resnet50")  # no width multiplier: the slider is ignored
    at.run()
    assert not at.exception
    expected = energy.estimate("resnet50", None, 224, "int8", weights_on_chip=True)
    assert {m.label: m.value for m in at.metric}[t("energy.total", "en")] == f"{expected.total_mj:.3f} mJ"
