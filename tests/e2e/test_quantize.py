"""The Compression page in a real Chromium, both languages: it quantizes, draws every chart, no errors.

Screenshots: ``test-artifacts/screenshots/quantize-<lang>.png``.
"""

from __future__ import annotations

import re

import pytest

from explainer.i18n import t
from tests.e2e.helpers import RENDER_TIMEOUT_MS, Tab, patience

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CJK = re.compile(r"[\u4e00-\u9fff]")
QUANTIZE_TIMEOUT_MS = 300_000  # the first run calibrates and converts the model (a minute on a busy machine)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_compression_page(tab: Tab, lang: str, real_weights) -> None:
    tab.open("quantize", lang)
    tab.wait_idle(QUANTIZE_TIMEOUT_MS)
    page = tab.page
    title = page.locator('[data-testid="stMainBlockContainer"] h1').first.inner_text()
    assert title.strip() == t("quant.title", lang)
    assert bool(CJK.search(title)) == (lang == "zh")
    # Sizes, times, the photo's top-5 (float, int8, Google's when LiteRT is there) and the layer view all drew.
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg').length >= 5",
        timeout=patience(RENDER_TIMEOUT_MS))
    # The metrics arrive as the page's sections finish: wait for the size ratio and the layer's SQNR.
    page.wait_for_function(
        """() => { const m = [...document.querySelectorAll('[data-testid="stMetricValue"]')].map(e => e.innerText.trim());
                   return m.some(v => v.endsWith('dB')) && m.some(v => v.endsWith('×')); }""",
        timeout=patience(RENDER_TIMEOUT_MS))
    metrics = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    ratio = next(float(m.rstrip("×")) for m in metrics if m.endswith("×") and float(m.rstrip("×")) < 1)
    assert 0.2 < ratio <= 0.30
    assert any(m.endswith("dB") for m in metrics)
    assert tab.exceptions() == []
    assert tab.real_console_errors() == []
    tab.screenshot(f"quantize-{lang}")
    if lang == "en":
        # The scheme is in the URL: a lecturer's link opens the same view.
        page.get_by_text(t("quant.scheme_per-tensor", lang), exact=True).click()
        # The rerun may not have started yet when the click returns: wait for its URL, then for the run's end.
        page.wait_for_function("() => /[?&]scheme=per-tensor\\b/.test(window.location.search)",
                               timeout=patience(QUANTIZE_TIMEOUT_MS))
        tab.wait_idle(QUANTIZE_TIMEOUT_MS)
        assert "scheme=per-tensor" in page.url
        assert tab.exceptions() == []
        # A fresh visit with that link (here in Chinese) opens the same view.
        page.goto(f"{tab.base_url}/quantize?lang=zh&scheme=per-tensor&layer=4")
        tab.wait_idle(QUANTIZE_TIMEOUT_MS)
        checked = page.locator('[data-testid="stRadio"] input[type="radio"]:checked').first
        assert checked.evaluate("e => e.closest('label').innerText").strip() == t("quant.scheme_per-tensor", "zh")
