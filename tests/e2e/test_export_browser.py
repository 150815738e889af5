"""The "Export to a phone" page in a real Chromium, both languages: press the button, wait for the exported
file's figures, the download button and the student's top-5; no errors.

Screenshots: ``test-artifacts/screenshots/export-<lang>.png``.
"""

from __future__ import annotations

import re

import pytest

from explainer.deploy.pte import executorch_available
from explainer.i18n import t
from tests.e2e.helpers import RENDER_TIMEOUT_MS, Tab, patience

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not executorch_available(), reason="executorch is not installed")]

CJK = re.compile(r"[\u4e00-\u9fff]")
EXPORT_TIMEOUT_MS = 600_000  # capture + lowering + timing of a small network: a minute or more on a busy machine
#: A different small network per language, so that each language really exports (the server keeps results).
SETTINGS = {"en": "w=0.35&res=96", "zh": "w=0.5&res=96"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_export_page(tab: Tab, lang: str) -> None:
    page = tab.page
    page.goto(f"{tab.base_url}/export?lang={lang}&{SETTINGS[lang]}")
    tab.wait_idle()
    title = page.locator('[data-testid="stMainBlockContainer"] h1').first.inner_text()
    assert title.strip() == t("export.title", lang)
    assert bool(CJK.search(title)) == (lang == "zh")
    # Random weights for α ≠ 1: the page says so before anything is exported.
    assert page.get_by_text(t("export.weights_untrained", lang)).count() == 1
    # Nothing is exported until the button is pressed.
    assert page.locator('[data-testid="stMetricValue"]').count() == 0
    page.get_by_role("button", name=t("export.button", lang)).click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
                 .some(e => e.innerText.trim().endsWith('MB'))""", timeout=patience(EXPORT_TIMEOUT_MS))
    tab.wait_idle(EXPORT_TIMEOUT_MS)
    metrics = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    size = next(float(m.split()[0]) for m in metrics if m.endswith("MB"))
    assert 0.5 < size < 8  # α ≤ 0.5: well under the 14 MB of α = 1
    agree = next(m for m in metrics if "/" in m)
    shown, total = (int(x) for x in agree.split("/"))
    assert shown == total >= 4  # float32: the file answers like eager on every sample photo
    assert page.get_by_role("button", name=t("export.download", lang)).count() == 1
    assert page.get_by_text(t("export.h_why", lang)).count() == 1
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg').length >= 1",
                           timeout=patience(RENDER_TIMEOUT_MS))
    assert tab.exceptions() == []
    assert tab.real_console_errors() == []
    assert "w=" in page.url and "res=96" in page.url  # the settings stay in the link
    tab.screenshot(f"export-{lang}")
