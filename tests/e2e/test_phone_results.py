"""Results beside their controls, taps and per-layer axes, measured in a real Chromium (issue 25).

* Phone (390×844, 中文, touch): the Cost calculator's result is inside the first screen, stays on screen while
  the controls are scrolled into view, and moving a slider changes that visible value; the same for the other
  pages with a result bar.
* Projector (1280×720, presenter mode): the result is on the first screen (no sticky bar there).
* Touch: ONE tap on a cell of "Inside a convolution"'s output map selects that cell.
* The per-layer charts label at most a few blocks, upright (never 53 rotated layer names).
Screenshots: test-artifacts/screenshots/phone_results_*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from explainer.i18n import t
from tests.e2e.helpers import ACTION_TIMEOUT_MS, RENDER_TIMEOUT_MS, SCREENSHOTS, Tab, patience

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}
BAR = '[class*="st-key-result_bar_"]'

# the bounding box of the first metric of the page's result bar, and whether it is inside the viewport
_FIRST_RESULT = """
bar => {
  const m = document.querySelector(bar + ' [data-testid="stMetric"]');
  if (!m) return null;
  const b = m.getBoundingClientRect();
  return {top: b.top, bottom: b.bottom, height: innerHeight, text: m.innerText,
          inside: b.top >= 0 && b.bottom <= innerHeight + 1 && b.height > 0};
}
"""


def _context(browser, app_server, viewport: dict, **options) -> Tab:
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    return Tab(page=page, base_url=app_server.base_url).watch_console()


@pytest.fixture
def phone(browser, app_server):
    tab = _context(browser, app_server, PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    yield tab
    tab.page.context.close()


@pytest.fixture
def projector(browser, app_server):
    tab = _context(browser, app_server, PROJECTOR, locale="en-US")
    yield tab
    tab.page.context.close()


def _shot(tab: Tab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SCREENSHOTS / f"phone_results_{name}.png"))


# true once the page's web fonts are in and the first metric has kept its place for 5 animation frames: on a busy
# machine the fonts arrive late, and until then the fallback font wraps the title and the intro onto more lines
# (a projector run measured the metric's bottom at 829 px, 117 px lower than the laid-out page's 712 px)
_RESULT_SETTLED = f"""
bar => {{
  const r = ({_FIRST_RESULT})(bar), s = window.__settled || (window.__settled = {{last: '', still: 0}});
  const now = r && document.fonts.status === 'loaded' ? [r.top, r.bottom, r.height].join() : '';
  s.still = now && now === s.last ? s.still + 1 : 0;
  s.last = now;
  return s.still >= 5;
}}
"""


def _open(tab: Tab, path: str) -> None:
    tab.page.goto(f"{tab.base_url}/{path}")
    tab.wait_idle()
    tab.page.wait_for_function(_RESULT_SETTLED, arg=BAR, timeout=patience(RENDER_TIMEOUT_MS))
    tab.page.evaluate("() => { window.__settled = null; }")


def _first_result(tab: Tab) -> dict:
    return tab.page.evaluate(_FIRST_RESULT, BAR)


def test_the_cost_result_is_on_a_phones_screen_while_its_slider_moves(phone: Tab) -> None:
    page = phone.page
    _open(phone, "cost?lang=zh")
    first = _first_result(phone)
    assert first["inside"], first  # on the first screen (it was on the third: y ≈ 1615 px at 844)
    assert "231,211,008" in first["text"]
    _shot(phone, "cost_first_screen")
    # scroll to the last control (ρ): the result is still on screen
    last = page.locator('[data-testid="stNumberInput"]').filter(has_text=t("cost.rho", "zh"))
    last.scroll_into_view_if_needed()
    assert _first_result(phone)["inside"]
    # move the D_F slider (112 → 113) where it is: the visible value follows
    slider = page.locator('[data-testid="stSlider"]').filter(has_text=t("cost.d_f", "zh")).locator('input[type="range"]')
    slider.evaluate("e => e.closest('[data-testid=\"stSlider\"]').scrollIntoView({block: 'center'})")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"b => {{ const r = ({_FIRST_RESULT})(b); return r && r.inside && "
                           "!r.text.includes('231,211,008'); }", arg=BAR, timeout=patience(RENDER_TIMEOUT_MS))
    phone.wait_idle()
    moved = _first_result(phone)
    # standard convolution, D_K = 3, M = 32, N = 64, D_F = 113 ("same" padding, stride 1): 3·3·32·64·113·113
    assert moved["inside"] and f"{3 * 3 * 32 * 64 * 113 * 113:,}" in moved["text"], moved
    assert "df=113" in page.url
    # the slider and the bar do not overlap: the control being moved stays uncovered
    bar_top = page.evaluate(f"() => document.querySelector('{BAR}').getBoundingClientRect().top")
    assert slider.bounding_box()["y"] + slider.bounding_box()["height"] <= bar_top + 1
    _shot(phone, "cost_slider_moved")
    assert phone.exceptions() == []


@pytest.mark.parametrize("path, control", [("architectures?lang=zh", "arch.width"), ("energy?lang=zh", "energy.width")])
def test_results_stay_beside_their_controls_on_a_phone(phone: Tab, path: str, control: str) -> None:
    _open(phone, path)
    target = phone.page.locator('[data-testid="stSlider"]').filter(has_text=t(control, "zh")).first
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"]
    assert _first_result(phone)["inside"], _first_result(phone)
    _shot(phone, path.split("?")[0])


@pytest.mark.parametrize("path", ["cost", "architectures"])
def test_the_result_is_on_the_projectors_first_screen(projector: Tab, path: str) -> None:
    _open(projector, f"{path}?presenter=true")
    first = _first_result(projector)
    assert first["inside"], first
    # an ordinary row there: not stuck to the screen's bottom
    assert projector.page.evaluate(f"() => [...document.querySelectorAll('{BAR}, :has(> {BAR})')]"
                                   ".every(e => getComputedStyle(e).position !== 'sticky')")
    _shot(projector, f"projector_{path}")


_TAP_POINT = """
([y, x]) => {
  const g = document.querySelector('.js-plotly-plot'), d = g && g.querySelector('.nsewdrag');
  const s = window.__tapPoint || (window.__tapPoint = {last: '', still: 0});
  if (!d || !g._fullLayout || !g._fullLayout.xaxis) { s.still = 0; return null; }
  const r = d.getBoundingClientRect();
  if (r.top < 0 || r.bottom > innerHeight) {
    d.scrollIntoView({block: 'center'}); s.still = 0; s.last = ''; return null;
  }
  const p = [r.left + g._fullLayout.xaxis.c2p(x), r.top + g._fullLayout.yaxis.c2p(y)];
  const hit = document.elementFromPoint(p[0], p[1]), now = [r.x, r.y, r.width, r.height].join();
  s.still = now === s.last && hit && hit.closest('.js-plotly-plot') === g ? s.still + 1 : 0;
  s.last = now;
  if (s.still < 5) return null;
  window.__tapPoint = null;
  return p;
}
"""


_TOUCH_LOG = """
() => {
  window.__touches = [];
  document.addEventListener('touchstart', e => {
    const t = e.touches[0], g = document.querySelector('.js-plotly-plot');
    window.__touches.push({x: t.clientX, y: t.clientY, onMap: !!(g && e.target instanceof Element && g.contains(e.target)),
                           target: e.target instanceof Element ? e.target.tagName + '.' + e.target.getAttribute('class') : ''});
  }, {capture: true, passive: true});
}
"""


# what the page knows when a wait of the tap test runs out, for whoever reads the failure
_TAP_STATE = """
() => {
  const g = document.querySelector('.js-plotly-plot'), d = g && g.querySelector('.nsewdrag');
  const r = d && d.getBoundingClientRect(), L = g && g._fullLayout;
  return {inputs: [...document.querySelectorAll('[data-testid="stNumberInput"] input')].map(i => i.value),
          shape: L && L.shapes && L.shapes[0] ? [L.shapes[0].y0 + 0.5, L.shapes[0].x0 + 0.5] : null,
          hover: g && g._hoverdata ? g._hoverdata.map(p => [p.y, p.x]) : null, touches: window.__touches,
          map: r ? [Math.round(r.top), Math.round(r.height), innerHeight] : null,
          script: document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state'),
          notices: [...document.querySelectorAll('[data-testid="stAlert"], [data-testid="stException"]')]
                   .map(e => e.innerText.slice(0, 100))};
}
"""


def _tap_and_wait(page, cell_y: int, cell_x: int) -> None:
    """Tap cell (y, x) of the map once and wait until it is the selected position."""
    # the map drawn for the current position (both read on every check: a position read once, during a run,
    # may be one the page then replaced, and the map never shows it)
    page.wait_for_function(
        "() => { const g = document.querySelector('.js-plotly-plot'); const s = g && g._fullLayout"
        " && g._fullLayout.shapes && g._fullLayout.shapes[0];"
        " const i = document.querySelectorAll('[data-testid=\"stNumberInput\"] input');"
        " return !!s && i.length === 3 && s.y0 === Number(i[1].value) - 0.5 && s.x0 === Number(i[2].value) - 0.5; }",
        timeout=patience(RENDER_TIMEOUT_MS))
    # The centre of cell (y, x) on the page, from the map's own axes, once the whole map is on screen, has stood
    # still for 5 animation frames and nothing covers that point (the result bar, a toast); if the page moved, the
    # map is scrolled back. A tap that still did not reach the map (the page moved between measuring and tapping)
    # says nothing about taps and is sent again; a tap that reached the map must select the cell.
    misses = []
    for _ in range(5):
        point = page.wait_for_function(_TAP_POINT, arg=[cell_y, cell_x],
                                       timeout=patience(RENDER_TIMEOUT_MS)).json_value()
        sent = page.evaluate("() => window.__touches.length")
        page.touchscreen.tap(point[0], point[1])  # one tap, nothing before it
        landed = page.wait_for_function("n => window.__touches.length > n && window.__touches[n]", arg=sent,
                                        timeout=patience(ACTION_TIMEOUT_MS)).json_value()
        if landed["onMap"]:
            break
        misses.append(landed)
    else:
        pytest.fail(f"no tap reached the map: {misses}")
    page.wait_for_function(
        "([y, x]) => { const i = document.querySelectorAll('[data-testid=\"stNumberInput\"] input');"
        " return i.length === 3 && i[1].value === String(y) && i[2].value === String(x); }",
        arg=[cell_y, cell_x], timeout=patience(RENDER_TIMEOUT_MS))


def test_one_tap_selects_the_tapped_cell(phone: Tab) -> None:
    page = phone.page
    phone.page.goto(f"{phone.base_url}/conv_trace?lang=zh&stage=b4.dw")  # 28×28 output
    phone.wait_idle()
    page.wait_for_function("() => { const g = document.querySelector('.js-plotly-plot');"
                           " return g && g._fullLayout && g._fullData && g._fullData.length >= 2; }",
                           timeout=patience(RENDER_TIMEOUT_MS))
    page.evaluate(_TOUCH_LOG)  # every touch the page receives: where, and whether it started on the map
    inputs = page.locator('[data-testid="stNumberInput"] input')
    for cell_y, cell_x in ((7, 20), (21, 4)):
        try:
            _tap_and_wait(page, cell_y, cell_x)
        except PlaywrightTimeoutError as err:
            raise AssertionError(f"tapping ({cell_y}, {cell_x}): {page.evaluate(_TAP_STATE)}") from err
        phone.wait_idle()
        assert [inputs.nth(1).input_value(), inputs.nth(2).input_value()] == [str(cell_y), str(cell_x)]
        assert f"y={cell_y}" in page.url and f"x={cell_x}" in page.url
        # the result bar shows this cell's value, equal to the value the map drew there
        drawn = page.evaluate(f"() => Number(document.querySelector('.js-plotly-plot')._fullData[0].z[{cell_y}][{cell_x}])")
        phone.wait_metric(f"{drawn:.4f}", within=BAR)
    _shot(phone, "conv_trace_tapped")
    assert phone.exceptions() == []


def test_per_layer_charts_label_a_few_blocks_upright(browser, app_server) -> None:
    tab = _context(browser, app_server, {"width": 1440, "height": 900}, locale="en-US")
    try:
        tab.page.goto(f"{tab.base_url}/architectures")
        tab.wait_idle()
        tab.page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .xtick text, "
                                   ".js-plotly-plot .x2tick text').length > 0", timeout=patience(RENDER_TIMEOUT_MS))
        ticks = tab.page.evaluate(
            "() => [...document.querySelectorAll('.js-plotly-plot')].map(g => [...g.querySelectorAll("
            "'.xtick text, .x2tick text')].map(e => [e.textContent, e.getAttribute('transform') || '']))")
        layered = [chart for chart in ticks if any(text == "stem" for text, _ in chart)]
        assert len(layered) == 2  # the costs per layer and the shape strip
        for chart in layered:
            assert len(chart) <= 8 and all("rotate" not in transform for _, transform in chart), chart
    finally:
        tab.page.context.close()


# every table's box inside its column; what is wider than the column is clipped by a scrolling box inside the table
# (it scrolls there), never drawn past the column's edge; no header cell of an HTML table is cut
_TABLES = """
() => [...document.querySelectorAll('[data-testid="stDataFrame"], [data-testid="stTable"]')].map(e => {
  const column = e.closest('[data-testid="stColumn"], [data-testid="stMainBlockContainer"]').getBoundingClientRect();
  const box = e.getBoundingClientRect();
  const clipped = x => { for (let a = x.parentElement; a && a !== e.parentElement; a = a.parentElement)
                           if (getComputedStyle(a).overflowX !== 'visible') return true; return false; };
  const escaped = [...e.querySelectorAll('*')].filter(x => { const r = x.getBoundingClientRect();
                    return r.width > 0 && r.right > column.right + 1 && !clipped(x); });
  const cut = [...e.querySelectorAll('th')].filter(x => x.scrollWidth > x.clientWidth + 1).map(x => x.innerText);
  return {inside: box.left >= column.left - 1 && box.right <= column.right + 1 && box.width > 0,
          escaped: escaped.length, cut};
})
"""


@pytest.mark.parametrize("viewport, query", [({"width": 1440, "height": 900}, "lang=en"),
                                             (PROJECTOR, "lang=en&presenter=true")])
@pytest.mark.parametrize("path", ["architectures", "zoo"])
def test_tables_fit_or_scroll_in_their_own_box(browser, app_server, viewport: dict, query: str, path: str) -> None:
    tab = _context(browser, app_server, viewport, locale="en-US")
    try:
        tab.page.goto(f"{tab.base_url}/{path}?{query}")
        tab.wait_idle()
        # two tables laid out and the grids drawn (count tables too, not only canvases: one table can hold several)
        tab.page.wait_for_function("() => [...document.querySelectorAll("
                                   "'[data-testid=\"stDataFrame\"], [data-testid=\"stTable\"]')]"
                                   ".filter(e => e.getBoundingClientRect().width > 0).length >= 2"
                                   " && document.querySelectorAll('[data-testid=\"stDataFrame\"] canvas').length >= 2",
                                   timeout=patience(RENDER_TIMEOUT_MS))
        tables = tab.page.evaluate(_TABLES)
        assert len(tables) >= 2
        for table in tables:
            assert table["inside"] and table["escaped"] == 0 and table["cut"] == [], table
    finally:
        tab.page.context.close()
