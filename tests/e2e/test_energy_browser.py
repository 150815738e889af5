"""Energy per photo and the pruning section in a real Chromium, both languages: the charts draw, the switches
change the estimate to the core's number, pruning runs on its button and shows the three networks side by side.

Screenshots: ``test-artifacts/screenshots/energy-<lang>.png``, ``prune-<lang>.png``.
"""

from __future__ import annotations

import re

import pytest

from explainer import energy
from explainer.i18n import t
from tests.e2e.helpers import RENDER_TIMEOUT_MS, Tab, patience

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CJK = re.compile(r"[\u4e00-\u9fff]")
PRUNE_TIMEOUT_MS = 600_000  # the Compression page quantizes first, then pruning times three networks


def _metrics(tab: Tab) -> list[str]:
    return tab.page.locator('[data-testid="stMetricValue"]').all_inner_texts()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_energy_page(tab: Tab, lang: str) -> None:
    tab.open("energy", lang)
    page = tab.page
    title = page.locator('[data-testid="stMainBlockContainer"] h1').first.inner_text()
    assert title.strip() == t("energy.title", lang)
    assert bool(CJK.search(title)) == (lang == "zh")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg').length >= 3",
        timeout=patience(RENDER_TIMEOUT_MS))
    # the table's chart is on a log axis and holds every operation
    # (waited for, not read at one moment: a rerun may still be replacing the charts)
    page.wait_for_function(
        "() => { const p = document.querySelector('.js-plotly-plot');"
        " return !!(p && p.layout && p.layout.xaxis && p.layout.xaxis.type === 'log'); }", timeout=patience(RENDER_TIMEOUT_MS))
    fp32 = energy.estimate("mobilenet_v2", dtype="fp32")
    tab.wait_metric(f"{fp32.total_mj:.3f} mJ")
    text = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
    assert "Horowitz" in text and "DeepEn2023" in text
    tab.screenshot(f"energy-{lang}")
    # int8: the estimate changes to the core's int8 number
    page.get_by_test_id("stRadioGroup").get_by_text(t("energy.dtype_int8", lang), exact=True).click()
    int8 = energy.estimate("mobilenet_v2", dtype="int8")
    tab.wait_metric(f"{int8.total_mj:.3f} mJ")
    tab.wait_idle()
    assert tab.exceptions() == []
    assert tab.real_console_errors() == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pruning_section(tab: Tab, lang: str, real_weights) -> None:
    tab.open("quantize", lang)
    tab.wait_idle(PRUNE_TIMEOUT_MS)
    page = tab.page
    page.get_by_text(t("prune.h_section", lang)).first.wait_for(timeout=patience(PRUNE_TIMEOUT_MS))
    page.get_by_text(t("prune.waiting", lang)).wait_for(timeout=patience(RENDER_TIMEOUT_MS))
    page.get_by_role("button", name=t("prune.run", lang)).click()
    page.get_by_text(t("prune.time_title", lang)).first.wait_for(timeout=patience(PRUNE_TIMEOUT_MS))
    tab.wait_idle(PRUNE_TIMEOUT_MS)
    text = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
    assert "300,774,272" in text  # the original's MACs, beside the pruned network's
    assert t("prune.m_masked", lang) in text and "MetaPruning" in text
    metrics = _metrics(tab)
    assert any(m.endswith("%") for m in metrics)
    page.get_by_text(t("prune.time_title", lang)).first.scroll_into_view_if_needed()
    tab.screenshot(f"prune-{lang}")
    assert tab.exceptions() == []
    assert tab.real_console_errors() == []
