"""The Feature-maps page (AppTest, both languages): real weights, the numbers of the core, one forward
pass however the sliders move, the untrained banner, one-line errors for bad uploads, the navigation."""

from __future__ import annotations

import json

import pytest

from explainer import features as fm
from explainer.i18n import t
from tests.conftest import ROOT, run_page

PAGE = "pages/feature_maps.py"
LANGS = ["en", "zh"]




@pytest.fixture
def forward_passes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every network run the page triggers (``capture_image`` is the page's only forward pass), from an
    empty cache."""
    import streamlit as st

    from pages.caches.feature_maps import _capture

    st.cache_data.clear()
    _capture.clear()  # shared by sessions (st.cache_resource): emptied alone, the models stay loaded
    calls: list[str] = []
    real = fm.capture_image

    def counting(image, loaded):
        calls.append(loaded.name)
        return real(image, loaded)

    monkeypatch.setattr(fm, "capture_image", counting)
    yield calls
    st.cache_data.clear()
    _capture.clear()


def _texts(at, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


def _charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


@pytest.mark.parametrize("lang", LANGS)
def test_real_weights_block_3(lang: str, with_weights, forward_passes) -> None:
    at = run_page(PAGE, lang)
    assert not at.exception, at.exception
    assert at.title[0].value == t("features.title", lang)
    assert not at.warning and not at.error, (_texts(at, "warning"), _texts(at, "error"))
    assert forward_passes == ["mobilenet_v2"]
    assert at.select_slider(key="features_block_mobilenet_v2").value == 3
    markdown = " ".join(_texts(at, "markdown"))
    assert t("features.counts", lang, m=24, tm=144, n=24, t="6") in markdown  # M → tM → N of block 3
    captions = " ".join(_texts(at, "caption"))
    hw, m, tm = 56 * 56, 24, 144  # 1×1 expand, 3×3 depthwise, 1×1 project at 56×56, no biases (BN excluded)
    macs, params = hw * (m * tm + 9 * tm + tm * m), m * tm + 9 * tm + tm * m
    assert (macs, params) == (25_740_288, 8_208)
    assert t("features.block_cost", lang, macs=f"{macs:,}", params=f"{params:,}") in captions
    assert "62" in captions  # stage outputs recorded
    charts = _charts(at)
    assert len(charts) == 4  # path strip, grid, enlarged channel, journey
    path, grid, _, journey = charts
    assert [d["type"] for d in path["data"]] == ["heatmap"] * 4  # expand, depthwise, project, residual
    assert path["data"][2]["zmin"] == -path["data"][2]["zmax"]  # projection: diverging, centred on 0
    assert len(grid["layout"]["annotations"]) == 16  # k = 16 by default
    assert grid["data"][0]["source"].startswith("data:image/png;base64,")
    labels = [a["text"] for a in journey["layout"]["annotations"]]
    assert labels[0].endswith("224×224×3") and labels[-1].endswith("7×7×1280")
    # the statistics table shows the core's numbers for the photo on screen
    table = at.dataframe[0].value
    assert list(table.iloc[:, 1]) == ["56×56×144", "56×56×144", "56×56×24", "56×56×24"]
    zeros = list(table.iloc[:, 3])
    assert zeros[2] == zeros[3] == 0.0 and zeros[0] > 5 and zeros[1] > 5  # ReLU6 zeros; linear stages none


@pytest.mark.parametrize("lang", LANGS)
def test_sliders_never_rerun_the_network(lang: str, with_all_models, forward_passes) -> None:
    at = run_page(PAGE, lang)
    assert forward_passes == ["mobilenet_v2"]
    for block in (0, 1, 7, 17, 18, 2):
        at.select_slider(key="features_block_mobilenet_v2").set_value(block).run()
        assert not at.exception, (block, at.exception)
    at.slider(key="features_k").set_value(64).run()
    assert len(_charts(at)[1]["layout"]["annotations"]) == 64  # block 2's depthwise stage has 96 channels
    at.radio(key="features_norm").set_value("shared").run()
    at.radio(key="features_stage_mobilenet_v2_2").set_value("project").run()
    assert len(_charts(at)[1]["layout"]["annotations"]) == 24  # k capped at the 24 channels of the projection
    channel_box = at.selectbox(key="features_channel_mobilenet_v2_2_project")
    before = _charts(at)[2]["layout"]["title"]["text"]
    channel_box.select_index(3).run()
    after = _charts(at)[2]["layout"]["title"]["text"]
    assert before.startswith("b2.project #") and after.startswith("b2.project #") and before != after
    at.toggle(key="features_overlay").set_value(False).run()
    assert not at.exception
    assert forward_passes == ["mobilenet_v2"]  # one forward pass for all of that
    at.selectbox(key="features_model").set_value("mobilenet_v3_small").run()
    assert forward_passes == ["mobilenet_v2", "mobilenet_v3_small"]
    at.selectbox(key="features_model").set_value("mobilenet_v2").run()
    at.selectbox(key="features_sample").set_value("coffee").run()
    assert forward_passes == ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v2"]  # only a new photo runs again


def test_capture_is_shared_read_only_not_copied(with_weights, forward_passes) -> None:
    """Every rerun and session gets the very same capture object (st.cache_resource: no 14 MB copy per slider
    move), and its arrays refuse writes, so no session can change what the others see."""
    import hashlib
    from types import SimpleNamespace

    from explainer.images import WORKING_MIN_SIDE, load_image
    from explainer.samples import sample_bytes
    from explainer.weights import load_pretrained
    from pages.caches.feature_maps import capture

    data, name = sample_bytes("chelsea")
    choice = SimpleNamespace(digest=hashlib.sha256(data).hexdigest(), image=load_image(data, name,
                                                                                     min_side=WORKING_MIN_SIDE))
    loaded = load_pretrained("mobilenet_v2", download=False)
    first, second = capture(choice, loaded), capture(choice, loaded)
    assert first is second and forward_passes == ["mobilenet_v2"]
    assert first.input_image is not None and not first.input_image.flags.writeable
    with pytest.raises(ValueError):
        first.input_image[0, 0, 0] = 0
    assert all(r.activity is not None and not r.activity.flags.writeable for r in first.records)
    assert fm.top_channels(first.record(3, "depthwise"), 4) == fm.top_channels(second.record(3, "depthwise"), 4)


def test_shared_figures_follow_each_sessions_view_and_language(with_weights, forward_passes) -> None:
    """Figures are drawn once per view and shared by sessions: another session on the same view gets the same
    figure, one in the other language or at another block its own."""
    en, zh, other = run_page(PAGE, "en"), run_page(PAGE, "zh"), run_page(PAGE, "en")
    assert not en.exception and not zh.exception and not other.exception
    assert forward_passes == ["mobilenet_v2"]
    assert _charts(en) == _charts(other)
    path_en, path_zh = _charts(en)[0], _charts(zh)[0]
    texts = lambda chart: " ".join(a["text"] for a in chart["layout"]["annotations"])  # noqa: E731
    assert t("features.stage_depthwise", "en") in texts(path_en)
    assert t("features.stage_depthwise", "zh") in texts(path_zh)
    assert t("features.stage_depthwise", "en") not in texts(path_zh)
    assert _charts(zh)[1]["layout"]["title"]["text"] != _charts(en)[1]["layout"]["title"]["text"]
    other.select_slider(key="features_block_mobilenet_v2").set_value(5).run()
    assert not other.exception
    assert _charts(other)[0] != path_en
    assert texts(_charts(other)[0]).count("28×28") >= 2  # block 5 works at 28×28
    assert forward_passes == ["mobilenet_v2"]


@pytest.mark.parametrize("lang", LANGS)
def test_offline_without_weights_only_v2_with_the_banner(lang: str, offline) -> None:
    """Nothing installed: MobileNetV2 with random weights under the banner; no other model, no set-up text."""
    at = run_page(PAGE, lang)
    assert not at.exception
    assert at.selectbox(key="features_model").options == ["MobileNetV2"]
    assert t("weights.untrained_banner", lang, model="MobileNetV2") in _texts(at, "warning")
    assert t("setup.none_trained", lang) in _texts(at, "caption")
    text = " ".join(_texts(at, "info") + _texts(at, "caption") + _texts(at, "warning")).replace("\\", "")
    assert "python -m explainer" not in text and "EXPLAINER_" not in text
    assert len(_charts(at)) == 4


@pytest.mark.parametrize("lang", LANGS)
def test_every_installed_model_is_offered(lang: str, with_all_models) -> None:
    at = run_page(PAGE, lang)
    assert at.selectbox(key="features_model").options == ["MobileNetV1", "MobileNetV2", "MobileNetV3-Large",
                                                          "MobileNetV3-Small"]
    at.selectbox(key="features_model").set_value("mobilenet_v1").run()
    assert not at.exception and not at.warning  # the released V1 0.75/192: pretrained
    # V1 at width 0.75: the paper's 128 → 128 of block 3 and 64 → 128 of block 2, times 0.75
    assert t("features.counts_v1", lang, m=96, n=96) in " ".join(_texts(at, "markdown"))
    at.select_slider(key="features_block_mobilenet_v1").set_value(2).run()
    assert t("features.counts_v1", lang, m=48, n=96) in " ".join(_texts(at, "markdown"))
    at.selectbox(key="features_model").set_value("mobilenet_v3_large").run()
    assert not at.exception and len(_charts(at)) == 4


@pytest.mark.parametrize("lang", LANGS)
def test_bad_upload_is_one_line(lang: str, offline) -> None:
    at = run_page(PAGE, lang)
    at.radio(key="features_source").set_value("upload").run()
    at.file_uploader(key="features_upload").set_value(("notes.jpg", b"this is not a photo", "image/jpeg")).run()
    assert not at.exception
    errors = _texts(at, "error")
    assert len(errors) == 1 and "notes.jpg" in errors[0] and "\n" not in errors[0]
    assert errors[0] == t("errors.image.not_an_image", lang, name="notes.jpg")
    assert not at.get("plotly_chart")


@pytest.mark.parametrize("lang", LANGS)
def test_page_is_in_the_navigation(lang: str, offline) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/feature_maps.py").run()
    assert not at.exception
    assert at.title[0].value == t("features.title", lang)
