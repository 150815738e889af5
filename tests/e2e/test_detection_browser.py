"""The detection part of the Applications page in a real Chromium, both languages: upload a photo, see its boxes,
move the score threshold (the fragment redraws, the model is not run again)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from explainer.i18n import t
from tests.e2e.helpers import Tab, patience

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PAGE = "segment"


def _boxed_caption(tab: Tab, lang: str, threshold: str) -> str:
    """The caption under the boxed photo once it shows ``threshold``."""
    probe = t("detect.boxed_caption", lang, w=512, h=343, n="§", kept="§", threshold=threshold)
    head = probe.split("§")[0]
    tail = probe.split("§")[-1]
    locator = tab.page.locator('[data-testid="stImageCaption"], [data-testid="stCaptionContainer"]').filter(
        has_text=head).filter(has_text=tail)
    locator.first.wait_for(timeout=patience(180_000))
    return locator.first.inner_text().strip()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_upload_bird_boxes_and_threshold(tab: Tab, lang: str, real_weights: Path, photos_dir: Path) -> None:
    if not (real_weights / "ssd_mobilenet_v1_coco_quant.tflite").is_file():
        pytest.skip("the detector .tflite is not in ../shared/weights")
    tab.open(PAGE, lang)
    headers = tab.page.locator('[data-testid="stMainBlockContainer"] h2')
    headers.filter(has_text=t("detect.header", lang)).first.wait_for()
    tab.page.get_by_text(t("images.source_upload", lang), exact=True).first.click()
    upload = tab.page.locator('[data-testid="stFileUploader"] input[type="file"]').first
    upload.wait_for(state="attached")
    tab.wait_idle()
    upload.set_input_files(photos_dir / "bird.jpg")
    caption = _boxed_caption(tab, lang, "0.50")
    tab.wait_idle()
    # One bird at 0.50 (score 0.75); the model kept 10 boxes.
    assert caption == t("detect.boxed_caption", lang, w=512, h=343, n=1, kept=10, threshold="0.50"), caption
    # Two keyboard steps down (0.05 each): the second bird box (0.46) appears; only the fragment reruns.
    slider = tab.page.locator('[data-testid="stSlider"]').filter(has_text=t("detect.threshold", lang)).first
    slider.locator('input[type="range"]').first.focus()
    tab.page.keyboard.press("ArrowLeft")
    tab.page.keyboard.press("ArrowLeft")
    caption = _boxed_caption(tab, lang, "0.40")
    tab.wait_idle()
    # A lecturer's link keeps the threshold (the bound slider writes it into the URL).
    tab.page.wait_for_function("() => /[?&]score=0\\.(4|39)/.test(window.location.search)", timeout=patience(30_000))
    assert re.search(r"[?&]score=0\.(4|39)", tab.page.url), tab.page.url
    assert caption == t("detect.boxed_caption", lang, w=512, h=343, n=4, kept=10, threshold="0.40"), caption
    h2 = [h.inner_text().strip() for h in headers.all()]
    assert t("detect.ssd_header", lang) in h2 and t("detect.tasks_header", lang) in h2
    tab.screenshot(f"detect_bird_{lang}")
    images = tab.page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stImage\"] img')].map(i => [i.src.slice(0, 11), i.complete && i.naturalWidth > 0])")
    assert images and all(src == "data:image/" and ok for src, ok in images), images
    assert tab.exceptions() == [] and tab.real_console_errors() == []
