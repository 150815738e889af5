"""The "Inside a convolution" page (AppTest, both languages): real weights, the shown result equals the
feature-map value, the count equals the cost engine's, one forward pass however the position, channel and layer
move, V1 offered only with its real weights, the untrained banner, the navigation."""

from __future__ import annotations

import json

import pytest

from explainer import features as fm
from explainer.architectures import build_network
from explainer.i18n import t
from tests.conftest import ROOT, navigation, run_page

PAGE = "pages/conv_trace.py"
pytestmark = pytest.mark.slow  # each test loads the page with a real model (about 5–10 s on an idle machine)
LANGS = ["en", "zh"]


@pytest.fixture
def forward_passes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every network run the page triggers (``capture_image`` is the trace's only forward pass), from an empty
    cache."""
    import streamlit as st

    st.cache_resource.clear()
    calls: list[str] = []
    real = fm.capture_image

    def counting(image, loaded, **options):
        calls.append(loaded.name)
        return real(image, loaded, **options)

    monkeypatch.setattr(fm, "capture_image", counting)
    yield calls
    st.cache_resource.clear()


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _shown_result(at, lang: str) -> tuple[str, str]:
    metrics = _metrics(at)
    return metrics[t("conv_trace.m_output", lang)], metrics[t("conv_trace.m_reference", lang)]


@pytest.mark.parametrize("lang", LANGS)
def test_real_weights_default_view(lang: str, with_weights, forward_passes) -> None:
    at = run_page(PAGE, lang, timeout=120)
    assert not at.exception, at.exception
    assert at.title[0].value == t("conv_trace.title", lang)
    assert not at.warning and not at.error
    assert forward_passes == ["mobilenet_v2"]
    assert at.selectbox(key="stage").value == "b3.dw"
    result, reference = _shown_result(at, lang)
    assert result == reference
    markdown = " ".join(m.value for m in at.markdown)
    layer = build_network("mobilenet_v2").layer("b3.dw")
    assert layer.macs == 9 * 144 * 56 * 56 == 4_064_256
    assert t("conv_trace.count", lang, k=9, formula="3·3", c=144, h=56, w=56, outputs="451,584",
             macs="4,064,256") in markdown
    assert "(cost?dk=3&m=144&n=144&df=56&s=1)" in markdown
    assert "1/24 + 1/9" in markdown and "**0.1528**" in markdown  # b3: depthwise on 144, project 144 → 24
    charts = _charts(at)
    assert len(charts) == 4  # output map, window|kernel|products, running sum, animation
    output_map, steps, running, animation = charts
    assert [d["type"] for d in output_map["data"]] == ["heatmap", "scatter"]
    assert output_map["data"][1]["opacity"] == 0.01  # one clickable marker per cell
    assert [d["type"] for d in steps["data"]][:1] == ["heatmap"]
    assert len(animation["frames"]) == 56 and animation["layout"]["updatemenus"][0]["buttons"][0]["method"] == "animate"
    assert len(animation["layout"]["sliders"][0]["steps"]) == 56


@pytest.mark.parametrize("lang", LANGS)
def test_position_channel_and_layer_never_rerun_the_network(lang: str, with_weights, forward_passes) -> None:
    at = run_page(PAGE, lang, timeout=120)
    assert forward_passes == ["mobilenet_v2"]
    for key, value in (("x", 0), ("y", 55), ("ch", 3), ("x", 55)):
        at.number_input(key=key).set_value(value).run()
        assert not at.exception, (key, at.exception)
        result, reference = _shown_result(at, lang)
        assert result == reference, (key, value)
    for stage in ("stem", "b2.expand", "b4.project", "b14.dw", "head"):
        at.selectbox(key="stage").set_value(stage).run()
        assert not at.exception, (stage, at.exception)
        result, reference = _shown_result(at, lang)
        assert abs(float(result) - float(reference)) <= 1e-4, stage
        layer = build_network("mobilenet_v2").layer(stage)
        h, w, c = layer.output
        assert at.number_input(key="y").value <= h - 1 and at.number_input(key="ch").value <= c - 1
    # the linear bottleneck's projection: "none" is said and shown
    at.selectbox(key="stage").set_value("b4.project").run()
    assert _metrics(at)[t("conv_trace.m_act", lang)] == t("conv_trace.act_none", lang)
    assert any(t("conv_trace.linear_note", lang, value="")[:12] in i.value for i in at.info)
    assert forward_passes == ["mobilenet_v2"]  # one forward pass for all of that
    at.selectbox(key="trace_sample").set_value("coffee").run()
    assert forward_passes == ["mobilenet_v2", "mobilenet_v2"]  # only a new photo runs again


def test_v1_is_offered_with_its_real_weights(with_weights, forward_passes) -> None:
    if not (with_weights / "mobilenet_v1_0.75_192_imagenet.npz").is_file():
        pytest.skip("V1 .npz not in the weights folder")
    at = run_page(PAGE, "en", timeout=120)
    assert at.selectbox(key="model").options == ["MobileNetV2", "MobileNetV1"]
    at.selectbox(key="model").set_value("mobilenet_v1").run()
    assert not at.exception
    assert at.selectbox(key="stage").value == "b3.dw"  # a stage both models have is kept
    result, reference = _shown_result(at, "en")
    assert result == reference
    at.selectbox(key="stage").set_value("b2.dw").run()
    markdown = " ".join(m.value for m in at.markdown)
    # V1 0.75 at 192: block 2's depthwise runs on 48 channels of 96×96 with stride 2 → 48×48
    layer = build_network("mobilenet_v1", 0.75, 192).layer("b2.dw")
    assert (layer.input, layer.output, layer.stride) == ((96, 96, 48), (48, 48, 48), 2)
    assert "(cost?dk=3&m=48&n=48&df=96&s=2)" in markdown
    assert any(t("conv_trace.fold_none", "en") == c.value for c in at.caption)
    assert forward_passes == ["mobilenet_v2", "mobilenet_v1"]


@pytest.mark.parametrize("lang", LANGS)
def test_untrained_shows_the_banner_and_only_v2(lang: str, offline) -> None:
    at = run_page(PAGE, lang, timeout=120)
    assert not at.exception
    assert t("weights.untrained_banner", lang, model="MobileNetV2") in [w.value for w in at.warning]
    assert at.selectbox(key="model").options == ["MobileNetV2"]
    result, reference = _shown_result(at, lang)
    assert result == reference


@pytest.mark.parametrize("lang", LANGS)
def test_page_is_in_the_learn_section_after_architectures(lang: str, offline) -> None:
    from streamlit.testing.v1 import AppTest

    learn = navigation(lang)[t("nav.sec_learn", lang)]
    assert learn.index("conv_trace") == learn.index("architectures") + 1
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/conv_trace.py").run()
    assert not at.exception
    assert at.title[0].value == t("conv_trace.title", lang)
