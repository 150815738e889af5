"""The Applications page (AppTest, both languages): real int8 models on LiteRT, the opacity slider never re-runs
them, an upload, a bad upload, and the page alone reporting a missing LiteRT."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from explainer.errors import AssetError
from explainer.i18n import t
from explainer.litert import TFLiteModel
from explainer.segment.labels import VOC_CLASSES
from tests.conftest import navigation, run_page
from tests.test_pages_basic import assert_no_raw_keys

PAGE = "pages/segment.py"


@pytest.fixture
def invokes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every LiteRT invoke on a photo (the page's warm-up runs on a blank input are not counted), from empty caches."""
    import streamlit as st

    st.cache_data.clear()
    calls: list[str] = []
    real = TFLiteModel.run

    def counting(self, array):
        if int(array.min()) != int(array.max()):  # not the blank warm-up input
            calls.append(self.key)
        return real(self, array)

    monkeypatch.setattr(TFLiteModel, "run", counting)
    yield calls
    st.cache_data.clear()


def _charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sample_cat_both_models_and_opacity(lang: str, with_weights, invokes) -> None:
    at = run_page(PAGE, lang, timeout=180)
    assert not at.exception, at.exception
    assert at.title[0].value == t("segment.title", lang)
    assert not at.error and not at.warning, ([e.value for e in at.error], [w.value for w in at.warning])
    assert sorted(invokes) == ["deeplabv3_mnv2_dm05_pascal_quant", "deeplabv3_mnv2_pascal_quant"]
    metrics = {m.label: m.value for m in at.metric}
    sizes = [m.value for m in at.metric if m.label == t("segment.size_on_disk", lang)]
    assert sizes == ["2.19 MB", "0.76 MB", "4.18 MB"]  # the two segmenters, then the detector
    assert t("segment.agreement", lang) in metrics
    cat = VOC_CLASSES[8].name(lang)
    shares = [c for c in _charts(at) if c["data"][0].get("orientation") == "h" and len(c["data"]) == 1]
    assert len(shares) == 2
    for chart in shares:  # largest share on top = last bar; the cat photo (Chelsea) is mostly cat
        assert cat in chart["data"][0]["y"]
    # Opacity: only the fragment reruns, from the cached masks — no invoke.
    images_before = len(at.image)
    at.slider(key="opacity").set_value(25).run()
    assert not at.exception and len(at.image) == images_before
    assert len(invokes) == 2
    # The backbone table and the stride table are there, in the page's language (and the detection part's two).
    assert len(at.dataframe) == 4
    assert t("segment.stride_header", lang) in [h.value for h in at.header]
    assert_no_raw_keys(at)


def test_listed_in_the_try_section() -> None:
    """app.py's navigation has the page right after Classify, under "Try"."""
    slugs = navigation("en")[t("nav.sec_try", "en")]
    assert slugs[slugs.index("classify") + 1] == "segment"
    assert t("nav.segment", "en") == "Applications" and t("nav.segment", "zh") == "应用"


def test_upload_and_bad_upload(with_weights, invokes, shared_images) -> None:
    bird = Path(next(p for p in shared_images if p.endswith("bird.jpg")))
    at = run_page(PAGE, "en", timeout=180)
    at.radio(key="segment_source").set_value("upload").run()
    at.file_uploader(key="segment_upload").set_value(("bird.jpg", bird.read_bytes(), "image/jpeg")).run()
    assert not at.exception and not at.error
    shares = [c for c in _charts(at) if len(c["data"]) == 1 and c["data"][0].get("orientation") == "h"]
    assert all("bird" in chart["data"][0]["y"] for chart in shares) and len(shares) == 2
    at.file_uploader(key="segment_upload").set_value(("notes.jpg", b"this is not a photo", "image/jpeg")).run()
    assert not at.exception and len(at.error) == 1 and "notes.jpg" in at.error[0].value
    assert len(at.dataframe) == 3  # the rest of the page still works (SSD's feature maps, backbone, stride)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_litert_only_this_page_says_so(lang: str, with_weights, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    at = run_page(PAGE, lang, timeout=180)
    assert not at.exception and not at.warning
    assert [i.value for i in at.info] == [t("setup.litert_missing", lang)]  # students: one line, no pip command
    assert not at.expander or all(t("setup.lecturer_title", lang) not in e.label for e in at.expander)
    assert len(at.dataframe) == 2  # counting needs no LiteRT
    lecturer = run_page(PAGE, lang, timeout=180, presenter=True)  # presenter mode: what to install
    (setup,) = [e for e in lecturer.expander if t("setup.lecturer_title", lang) in e.label]
    assert AssetError("assets.no_litert").markdown_message(lang) in [m.value for m in setup.markdown][0]
    other = run_page("pages/cost.py", lang)
    assert not other.exception and not other.warning


def test_offline_without_model_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invokes) -> None:
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EXPLAINER_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("EXPLAINER_OFFLINE", "1")
    at = run_page(PAGE, "en", timeout=180)
    assert not at.exception and not at.error and invokes == []
    # students: one full-width line per missing part, no file names or commands
    assert [i.value for i in at.info] == [t("setup.segment_missing", "en"), t("setup.detector_missing", "en")]
    assert len(at.dataframe) == 2
    lecturer = run_page(PAGE, "en", timeout=180, presenter=True)
    notes = " ".join(m.value for e in lecturer.expander if t("setup.lecturer_title", "en") in e.label
                     for m in e.markdown).replace("\\", "")  # shown as text: Markdown-escaped
    assert "deeplabv3_mnv2_pascal_quant.tflite" in notes
    assert "coco_labelmap.txt" in notes  # the detector's files (the label map is looked up first)
    assert "python -m explainer fetch" in notes
