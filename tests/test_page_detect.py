"""The detection part of the Applications page (AppTest, both languages): the real int8 detector on LiteRT, the
threshold slider never re-runs it, SSD's numbers read from the model file, three tasks timed, upload, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explainer.i18n import t
from explainer.litert import TFLiteModel
from tests.conftest import require_shared, run_page

PAGE = "pages/segment.py"
DETECTOR = "ssd_mobilenet_v1_coco_quant"


@pytest.fixture
def detect_weights(with_weights: Path) -> Path:
    require_shared(with_weights / f"{DETECTOR}.tflite", "the detector .tflite")
    return with_weights


@pytest.fixture
def invokes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every LiteRT invoke on a photo (blank warm-up inputs not counted), by model key, from empty caches."""
    import streamlit as st

    st.cache_data.clear()
    calls: list[str] = []
    real = TFLiteModel.run_all

    def counting(self, array):
        if int(array.min()) != int(array.max()):
            calls.append(self.key)
        return real(self, array)

    monkeypatch.setattr(TFLiteModel, "run_all", counting)
    yield calls
    st.cache_data.clear()


def _objects(at, lang: str) -> list[str]:
    table = next((df.value for df in at.dataframe if t("detect.col_object", lang) in df.value.columns), None)
    return [] if table is None else list(table[t("detect.col_object", lang)])


def _check_ssd_numbers(at) -> None:
    """How SSD works: the numbers come from the model file (English page)."""
    text = " ".join(m.value for m in at.markdown)
    assert "**6 of them**" in text and "19×19, 10×10, 5×5, 3×3, 2×2, 1×1" in text
    assert "**1,917 boxes**" in text and "172,530 scores" in text and "at most **10** boxes" in text
    assert "IoU 0.6" in text
    table = next(df.value for df in at.dataframe if t("detect.col_per_cell", "en") in df.value.columns)
    assert list(table[t("detect.col_boxes", "en")]) == [1083, 600, 150, 54, 24, 6]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    funnel = next(c for c in charts if c["layout"]["title"]["text"] == t("detect.funnel_title", "en"))
    assert funnel["data"][0]["y"] == [1083, 600, 150, 54, 24, 6, 1917, 10]
    maps = next(c for c in charts if c["layout"]["title"]["text"] == t("detect.maps_title", "en"))
    assert len(maps["data"]) == 6
    # The backbone table has the detector's row beside segmentation, and its note quotes the exact counts.
    backbone = next(df.value for df in at.dataframe if t("segment.col_share", "en") in df.value.columns)
    assert "SSD-MobileNetV1 ×0.75 (COCO)" in list(backbone[t("segment.col_net", "en")])
    assert "603.1 M of the 728.0 M MACs (82.8 %)" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sample_cat_threshold_never_reruns_the_model(lang: str, detect_weights, invokes) -> None:
    at = run_page(PAGE, lang, timeout=300)
    assert not at.exception, at.exception
    assert not at.error and not at.warning, ([e.value for e in at.error], [w.value for w in at.warning])
    headers = [h.value for h in at.header]
    assert t("detect.header", lang) in headers and t("detect.ssd_header", lang) in headers
    assert invokes.count(DETECTOR) == 1
    assert _objects(at, lang) == (["猫"] if lang == "zh" else ["cat"])  # the sample photo (Chelsea) at 0.5
    if lang == "en":
        _check_ssd_numbers(at)
    images = len(at.image)
    # Lower the threshold: more boxes, from the cached detections — no invoke.
    at.slider(key="score").set_value(0.25).run()
    assert not at.exception and len(at.image) == images
    assert len(_objects(at, lang)) > 1
    # Raise it past every score: no table, a plain sentence about what COCO cannot name.
    at.slider(key="score").set_value(0.95).run()
    assert not at.exception and _objects(at, lang) == []
    assert [i.value for i in at.info] == [t("detect.nothing", lang, threshold="0.95")]
    assert invokes.count(DETECTOR) == 1


@pytest.mark.slow
def test_three_tasks_on_one_photo(detect_weights, invokes) -> None:
    at = run_page(PAGE, "zh", timeout=300)
    before = len(invokes)
    at.button(key="detect_tasks").click().run(timeout=300)
    assert not at.exception and not at.error
    table = next(df.value for df in at.dataframe if t("detect.col_task", "zh") in df.value.columns)
    assert list(table[t("detect.col_task", "zh")]) == [t(f"detect.task_{k}", "zh") for k in ("classify", "detect", "segment")]
    assert list(table[t("detect.col_input", "zh")]) == ["224×224", "300×300", "513×513"]
    assert all(ms > 0 for ms in table[t("detect.col_total_ms", "zh")])
    answers = list(table[t("detect.col_answer", "zh")])
    assert "猫" in answers[1] and "猫" in answers[2]
    from pages.caches.detect import TASK_RUNS

    # one warm-up round, then TASK_RUNS timed rounds of the three tasks in turns
    assert sorted(invokes[before:]) == sorted(["mobilenet_v2_1.0_224_quant", DETECTOR, "deeplabv3_mnv2_pascal_quant"]
                                              * (TASK_RUNS + 1))


def test_upload_bird(detect_weights, invokes, shared_images) -> None:
    bird = Path(next(p for p in shared_images if p.endswith("bird.jpg")))
    at = run_page(PAGE, "en", timeout=300)
    at.radio(key="segment_source").set_value("upload").run()
    at.file_uploader(key="segment_upload").set_value(("bird.jpg", bird.read_bytes(), "image/jpeg")).run()
    assert not at.exception and not at.error
    assert _objects(at, "en") == ["bird"]
    table = next(df.value for df in at.dataframe if t("detect.col_object", "en") in df.value.columns)
    x0, y0, x1, y1 = (int(v) for v in table[t("detect.col_box", "en")][0].split(", "))
    assert x0 <= 80 and 50 <= y0 <= 120 and x1 >= 440 and 290 <= y1 <= 343  # in the photo's pixels (512×343)


def test_offline_without_the_detector_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invokes) -> None:
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EXPLAINER_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("EXPLAINER_OFFLINE", "1")
    at = run_page(PAGE, "zh", timeout=300)
    assert not at.exception and invokes == []
    assert t("setup.detector_missing", "zh") in [i.value for i in at.info]  # students: one line
    assert not any("coco_labelmap" in e.value for e in [*at.error, *at.info])
    lecturer = run_page(PAGE, "zh", timeout=300, presenter=True)
    notes = [m.value.replace("\\", "") for e in lecturer.expander if t("setup.lecturer_title", "zh") in e.label
             for m in e.markdown]
    assert any("coco_labelmap.txt" in n for n in notes)  # Markdown-escaped name
    assert t("detect.ssd_header", "zh") not in [h.value for h in at.header]  # needs the file; said once above
    assert t("segment.backbone_header", "zh") in [h.value for h in at.header]  # counting needs no file
