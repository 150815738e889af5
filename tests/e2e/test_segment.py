"""The Applications page in a real Chromium: upload a photo, see both int8 models' masks, move the opacity slider."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from explainer.i18n import t
from explainer.segment.labels import VOC_CLASSES
from tests.conftest import require_shared
from tests.e2e.helpers import Tab, patience

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PAGE = "segment"


def _plotly_labels(tab: Tab) -> list[list[str]]:
    """The y labels of every single-trace horizontal bar chart the browser drew (the per-model class legends)."""
    return tab.page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".filter(p => p.data && p.data.length === 1 && p.data[0].orientation === 'h').map(p => p.data[0].y)")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_upload_bird_both_models_and_opacity(tab: Tab, lang: str, real_weights: Path, photos_dir: Path) -> None:
    require_shared(real_weights / "deeplabv3_mnv2_pascal_quant.tflite", "Google's DeepLabV3 .tflite")
    tab.open(PAGE, lang)
    heading = tab.page.locator('[data-testid="stMainBlockContainer"] h1').first
    assert heading.inner_text().strip() == t("segment.title", lang)
    tab.page.get_by_text(t("images.source_upload", lang), exact=True).first.click()
    tab.page.locator('[data-testid="stFileUploader"] input[type="file"]').first.wait_for(state="attached")
    tab.wait_idle()
    tab.page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(photos_dir / "bird.jpg")
    caption = t("segment.overlay_caption", lang, w=512, h=343, fw=513, fh=344)
    tab.page.get_by_text(caption).first.wait_for(timeout=patience(120_000))
    tab.wait_idle()
    bird = VOC_CLASSES[3].name(lang)
    legends = _plotly_labels(tab)
    assert len(legends) == 2 and all(bird in labels for labels in legends), legends
    assert len(tab.page.locator('[data-testid="stImage"] img').all()) >= 2
    # The opacity slider: keyboard steps of 5 %, the value lands in the URL (a lecturer's link keeps it).
    slider = tab.page.locator('[data-testid="stSlider"]').filter(has_text=t("segment.opacity", lang)).first
    slider.locator('input[type="range"]').focus()
    tab.page.keyboard.press("ArrowLeft")
    tab.page.keyboard.press("ArrowLeft")
    tab.page.wait_for_function("() => /[?&]opacity=50\\b/.test(window.location.search)", timeout=patience(30_000))
    tab.wait_idle()
    assert re.search(r"[?&]opacity=50\b", tab.page.url)
    tab.screenshot(f"segment_bird_{lang}")
    # Every image the page finally shows has loaded.
    assert tab.page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stImage\"] img')].every(i => i.complete && i.naturalWidth > 0)")
    # Two quick slider steps rerun the fragment twice. The overlays are inline (data: URIs), so the first one can
    # no longer be a media file that Streamlit drops before the browser fetched it: no error of any kind.
    assert all(img.startswith("data:image/") for img in tab.page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stImage\"] img')].map(i => i.src)"))
    assert tab.exceptions() == [] and tab.real_console_errors() == []
