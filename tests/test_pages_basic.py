"""Home and cost pages run in both languages; the cost page shows exactly the engine's numbers."""

from __future__ import annotations

import pytest

from explainer import costs
from explainer.i18n import catalog
from tests.conftest import run_page

LANGS = ["en", "zh"]


def all_text(at) -> list[str]:
    """Every visible string of a finished AppTest run (markdown, captions, labels, metrics…)."""
    texts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "error", "warning", "success",
                 "latex", "metric", "button", "toggle", "radio", "selectbox", "slider", "select_slider",
                 "number_input"):
        for element in getattr(at, kind, []):
            for attr in ("value", "label", "body"):
                value = getattr(element, attr, None)
                if isinstance(value, str):
                    texts.append(value)
    return texts


def assert_no_raw_keys(at) -> None:
    keys = set(catalog("en"))
    shown = [text for text in all_text(at) if text.strip() in keys]
    assert shown == [], f"raw locale keys on the page: {shown}"


@pytest.mark.parametrize("lang", LANGS)
def test_home_runs(lang: str) -> None:
    at = run_page("app.py", lang)
    assert not at.exception
    assert at.title[0].value == catalog(lang)["app.title"]
    assert len(at.get("graphviz_chart")) == 3
    assert_no_raw_keys(at)


@pytest.mark.parametrize("lang", LANGS)
def test_cost_page_runs(lang: str) -> None:
    at = run_page("pages/cost.py", lang)
    assert not at.exception
    assert at.title[0].value == catalog(lang)["cost.title"]
    assert len(at.get("plotly_chart")) == 3
    assert_no_raw_keys(at)


def metric_values(at) -> list[int]:
    return [int(m.value.replace(",", "")) for m in at.metric[:3]]


def expected(**overrides) -> list[int]:
    values = {**costs.DEFAULT_INPUTS, **overrides}
    result = costs.compare(costs.CostInputs.checked(**values))
    return [result.standard.macs, result.separable.macs, result.inverted.macs]


@pytest.mark.parametrize("lang", LANGS)
def test_changing_inputs_changes_macs_to_engine_values(lang: str) -> None:
    at = run_page("pages/cost.py", lang)
    assert metric_values(at) == expected()
    at.slider(key="df").set_value(56).run()
    assert metric_values(at) == expected(d_f=56)
    at.select_slider(key="dk").set_value(5).run()
    at.number_input(key="n").set_value(32).run()
    at.radio(key="s").set_value(2).run()
    assert metric_values(at) == expected(d_f=56, d_k=5, n=32, stride=2)
    at.slider(key="t").set_value(1).run()
    at.number_input(key="alpha").set_value(0.5).run()
    assert not at.exception
    assert metric_values(at) == expected(d_f=56, d_k=5, n=32, stride=2, t=1, alpha=0.5)


def test_preset_reproduces_v1_table3() -> None:
    at = run_page("pages/cost.py")
    at.button(key="preset_v1_table3").click().run()
    assert metric_values(at)[:2] == [462_422_016, 52_283_392]
    at.button(key="preset_v1_table3_alpha_rho").click().run()
    assert metric_values(at)[1] == 15_091_200


def test_timing_panel_reports_measurement() -> None:
    at = run_page("pages/cost.py", m=16, n=16)
    at.slider(key="df").set_value(28).run()
    at.button(key="cost_time").click().run()
    assert not at.exception and not at.error
    assert len(at.metric) == 6
    assert at.metric[3].value.endswith(" ms") and at.metric[5].value.endswith("×")


def test_timing_panel_refuses_huge_shapes_in_user_language() -> None:
    at = run_page("pages/cost.py", "zh", m=2048, n=2048, df=512)
    at.button(key="cost_time").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "上限" in at.error[0].value
