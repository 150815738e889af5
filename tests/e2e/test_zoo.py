"""The lightweight-family page in a real Chromium: renders in both languages, the background latency measurement
fills the table and the latency scatter, the roofline's layers get measured on a click.

Screenshots: ``test-artifacts/screenshots/zoo_<lang>.png`` and ``zoo_measured.png``.
"""

from __future__ import annotations

import re

import pytest

from explainer.i18n import t
from tests.e2e.helpers import LANGS, Tab, patience

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CJK = re.compile(r"[\u4e00-\u9fff]")
#: The server times 18 models (VGG-16 alone takes seconds per pass on a busy machine).
MEASURE_TIMEOUT_MS = 600_000


def _clean(tab: Tab, what: str) -> None:
    assert tab.exceptions() == [], f"{what}: the page shows an exception"
    assert tab.real_console_errors() == [], f"{what}: console errors"


@pytest.mark.parametrize("lang", LANGS)
def test_zoo_page_renders(tab: Tab, lang: str) -> None:
    tab.open("zoo", lang)
    page = tab.page
    title = page.locator('[data-testid="stMainBlockContainer"] h1').first.inner_text()
    assert title.strip() == t("zoo.title", lang)
    assert bool(CJK.search(title)) == (lang == "zh")
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert t("nav.zoo", lang) in sidebar.inner_text() and t("nav.sec_deploy", lang) in sidebar.inner_text()
    # the table has one row per model; the blocks and the charts really drew
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    # Wait for the conditions, never count at a moment: the blocks and the second chart may still be drawing.
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stGraphVizChart\"] svg').length >= 4"
                           " && document.querySelectorAll('[data-testid=\"stPlotlyChart\"]').length >= 2",
                           timeout=patience(MEASURE_TIMEOUT_MS))
    assert page.locator('[data-testid="stGraphVizChart"] svg').count() == 4
    charts = page.locator('[data-testid="stPlotlyChart"]')
    assert charts.count() >= 2  # accuracy vs MACs and the roofline (the latency plot follows the measurement)
    for chart in charts.all():
        chart.locator(".main-svg").first.wait_for(state="attached")
    assert "ShuffleNet V2 0.5×" in page.locator('[data-testid="stPlotlyChart"]').first.inner_html()
    tab.screenshot(f"zoo_{lang}")
    _clean(tab, f"zoo?lang={lang}")


def test_latency_is_measured_and_the_roofline_filled(tab: Tab) -> None:
    tab.open("zoo", "en")
    page = tab.page
    # the fragment polls until every model is timed, then the page reruns with the latency scatter
    page.get_by_text(t("zoo.scatter_latency", "en")).first.wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg').length >= 3"
        " && !document.querySelector('[data-testid=\"stProgress\"]')", timeout=patience(MEASURE_TIMEOUT_MS))
    tab.wait_idle()
    text = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
    assert "MACs are not time." in text  # the ms-per-GMAC comparison needs measured latencies
    # the roofline: measure every layer of MobileNetV2 (the default network)
    page.get_by_role("button", name=t("zoo.roof_measure", "en", model="MobileNetV2")).click()
    page.get_by_text(t("zoo.roof_unmeasured", "en")).wait_for(state="detached", timeout=patience(MEASURE_TIMEOUT_MS))
    tab.wait_idle()
    tab.screenshot("zoo_measured")
    _clean(tab, "zoo measured")
