""""Inside a convolution" in a real Chromium, both languages: choose a depthwise layer, click a cell of the
output map, the shown result equals that cell's value in the map the browser drew; the animation plays in the
browser (its window trace moves with no server round trip)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from explainer.i18n import t
from tests.e2e.helpers import LANGS, Tab, patience

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STAGE = "b4.dw"  # depthwise 3×3, stride 2: 56×56×144 → 28×28×144

_MAP = "document.querySelectorAll('.js-plotly-plot')[0]"
_LAST = "(() => { const p = document.querySelectorAll('.js-plotly-plot'); return p[p.length - 1]; })()"


def _metric(tab: Tab, label: str) -> str:
    exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
    metric = tab.page.locator('[data-testid="stMetric"]').filter(
        has=tab.page.locator('[data-testid="stMetricLabel"]').filter(has_text=exact)).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _numbers(tab: Tab) -> list[int]:
    return [int(e.input_value()) for e in tab.page.locator('[data-testid="stNumberInput"] input').all()]


def _wait_charts(tab: Tab) -> None:
    tab.page.wait_for_function(
        "() => { const p = document.querySelectorAll('.js-plotly-plot');"
        " return p.length >= 4 && [...p].every(g => g._fullData && g._fullData.length); }", timeout=patience(60_000))


@pytest.mark.parametrize("lang", LANGS)
def test_depthwise_click_result_equals_the_map_and_animation_plays(tab: Tab, lang: str, real_weights: Path) -> None:
    page = tab.page
    tab.open("conv_trace", lang)
    _wait_charts(tab)
    # choose the depthwise layer b4.dw in the layer list
    layer_box = page.locator('[data-testid="stSelectbox"]').filter(has_text=t("conv_trace.layer", lang)).first
    layer_box.click()
    page.keyboard.type(STAGE)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "stage => { const p = document.querySelectorAll('.js-plotly-plot');"
        " return p.length && p[0].textContent.includes(stage + ' ·'); }", arg=STAGE, timeout=patience(60_000))
    tab.wait_idle()
    _wait_charts(tab)
    channel, before_y, before_x = _numbers(tab)
    assert f"stage={STAGE}" in page.url

    # click a cell of the output map (28×28): a quarter in from the top-left corner of the plot area
    drag = page.locator('[data-testid="stPlotlyChart"]').first.locator(".nsewdrag").first
    drag.scroll_into_view_if_needed()
    # the click goes where the plot is: wait until it is inside the viewport and stopped moving (two frames alike)
    # (bounded: after 600 frames it goes on, and the click below is checked by its effect anyway)
    drag.evaluate("e => new Promise(done => { let last = '', frames = 0; const check = () => {"
                  " const r = e.getBoundingClientRect(); const now = [r.x, r.y, r.width, r.height].join();"
                  " if ((now === last && r.top >= 0 && r.top < innerHeight) || ++frames > 600) done();"
                  " else { last = now; requestAnimationFrame(check); } }; requestAnimationFrame(check); })")
    area = drag.bounding_box()
    page.mouse.click(area["x"] + area["width"] * 0.25, area["y"] + area["height"] * 0.30)
    page.wait_for_function("n => { const i = document.querySelectorAll('[data-testid=\"stNumberInput\"] input');"
                           " return i.length === 3 && i[1].value + ',' + i[2].value !== n; }",
                           arg=f"{before_y},{before_x}", timeout=patience(30_000))
    tab.wait_idle()
    _wait_charts(tab)
    channel_after, y, x = _numbers(tab)
    assert channel_after == channel and 0 < y < 27 and 0 < x < 27  # moved by the click
    assert f"y={y}" in page.url and f"x={x}" in page.url  # a link to this view

    result = _metric(tab, t("conv_trace.m_output", lang))
    reference = _metric(tab, t("conv_trace.m_reference", lang))
    assert result == reference
    drawn = page.evaluate(f"() => {{ const g = {_MAP}; return Number(g._fullData[0].z[{y}][{x}]); }}")
    assert f"{drawn:.4f}" == result, (y, x, drawn, result)

    # the animation: Play moves the window trace in the browser (frames, no server round trip)
    before = page.evaluate(f"() => {_LAST}.data[2].x.slice()")
    page.locator('[data-testid="stPlotlyChart"]').last.locator(".updatemenu-button").first.click()
    page.wait_for_function(f"b => JSON.stringify({_LAST}.data[2].x) !== JSON.stringify(b)", arg=before,
                           timeout=patience(15_000))
    assert page.evaluate(f"() => {_LAST}._fullData.filter(d => d.type === 'heatmap').length") == 2
    tab.screenshot(f"conv_trace_{STAGE}_{lang}")
    assert tab.exceptions() == [] and tab.real_console_errors() == []
