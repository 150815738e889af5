"""The two screens a lecture happens on, measured in a real Chromium's DOM (issue 25): a 1280×720 projector in
presenter mode (English) and a 390×844 phone in 中文.

Every page: no metric value cut (its text fits its box, no "…"), no plotly toolbar shown over a chart, no
chart title, legend or subplot title overlapping another, no display formula wider than its box, and in 中文
none of Streamlit's own English widget texts visible. "Inside a convolution" on 1×1 layers of 16, 144 and 960
input channels: no two texts of the channel view overlap. Presenter mode comes with a link, and browser Back
returns to the previous view with its settings. Screenshots: test-artifacts/screenshots/screens_*.png.
"""

from __future__ import annotations

import re

import pytest

from explainer.i18n import t
from tests.conftest import navigation
from tests.e2e.helpers import RENDER_TIMEOUT_MS, SCREENSHOTS, Tab, patience

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}

#: Streamlit 1.67's fixed English widget texts (FileUploader, CameraInput, InputInstructions bundles).
STREAMLIT_ENGLISH = ("Drag and drop", "per file", "Upload", "Browse files", "Take Photo", "Clear photo",
                     "This app would like to use your camera", "Learn how to allow access", "Press Enter to apply",
                     "or smaller", "photo(s)", "thread(s)", "CPU threads")

# Texts the user can see: a text node whose element is rendered, not hidden, of a font size above 1 px, and
# whose box is not empty (CSS-replaced texts are display:none or 0 px; pseudo-element texts are added).
_VISIBLE_TEXT = """
() => {
  const out = [];
  const walker = document.createTreeWalker(document.querySelector('[data-testid="stApp"]'), NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || !n.textContent.trim() || el.closest('style, script, svg, [data-testid="stIconMaterial"]')) continue;
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || parseFloat(st.fontSize) <= 1) continue;
    const r = document.createRange(); r.selectNodeContents(n);
    const b = r.getBoundingClientRect();
    if (b.width < 1 || b.height < 1) continue;
    out.push(n.textContent.trim());
  }
  for (const el of document.querySelectorAll('[data-testid="stApp"] *')) {
    for (const pseudo of ['::before', '::after']) {
      const c = getComputedStyle(el, pseudo).content;
      if (c && c !== 'none' && c !== 'normal' && c.startsWith('"')) out.push(c.slice(1, -1));
    }
  }
  return out;
}
"""

# Everything that the issue calls "cut" or "covered", measured in the DOM.
_PROBLEMS = """
() => {
  const problems = [];
  const box = e => e.getBoundingClientRect();
  const hit = (a, b) => a.width > 0 && b.width > 0 && a.left < b.right - 1 && b.left < a.right - 1
                        && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  for (const v of document.querySelectorAll('[data-testid="stMetricValue"]')) {
    for (const e of [v, ...v.querySelectorAll('*')]) {
      if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
        problems.push('metric cut: ' + v.innerText);
    }
    if (v.innerText.includes('…')) problems.push('metric with …: ' + v.innerText);
    const r = box(v), col = v.closest('[data-testid="stElementContainer"]');
    if (col && r.right > box(col).right + 2) problems.push('metric wider than its column: ' + v.innerText);
  }
  for (const w of document.querySelectorAll('[data-testid="stMain"] [data-testid="stWidgetLabel"] *,'
                                            + ' [data-testid="stMain"] [data-testid="stButton"] button *')) {
    const s = getComputedStyle(w);
    if (s.textOverflow === 'ellipsis' && w.scrollWidth > w.clientWidth + 1) problems.push('label cut: ' + w.innerText);
  }
  for (const m of document.querySelectorAll('.modebar-container')) {
    const s = getComputedStyle(m);
    if (s.display !== 'none' && s.visibility !== 'hidden' && box(m).width > 0) problems.push('plotly toolbar shown');
  }
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    const parts = [...chart.querySelectorAll('.gtitle, .legend .bg, .annotation-text')]
      .filter(e => (e.textContent || '').trim() || e.classList.contains('bg'));
    for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) {
      const a = parts[i], b = parts[j];
      if (a.classList.contains('annotation-text') && b.classList.contains('annotation-text')) continue;
      if (hit(box(a), box(b))) problems.push('chart text covered: ' + (a.textContent || 'legend') + ' / '
                                             + (b.textContent || 'legend'));
    }
  }
  for (const f of document.querySelectorAll('.katex-display')) {
    const inner = f.querySelector('.katex');
    if (inner && box(inner).width > f.clientWidth + 1) problems.push('formula cut: ' + f.innerText.slice(0, 40));
  }
  return problems;
}
"""

# Pairs of overlapping text boxes inside one plotly chart (tick labels, annotations, titles).
_TEXT_OVERLAPS = """
chart => {
  const texts = [...chart.querySelectorAll('.main-svg text')].filter(e => e.textContent.trim())
    .map(e => ({t: e.textContent, b: e.getBoundingClientRect()})).filter(x => x.b.width > 0);
  const out = [];
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
    const a = texts[i].b, b = texts[j].b;
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
      out.push(texts[i].t + ' / ' + texts[j].t);
  }
  return {count: texts.length, overlaps: out};
}
"""


def _settle(tab: Tab) -> None:
    tab.wait_idle()
    tab.page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
        ".every(c => { const s = c.querySelector('.main-svg'); return s && s.getBoundingClientRect().width > 0; })",
        timeout=patience(RENDER_TIMEOUT_MS))
    # plotly lays a figure out again after its first draw (automargin): wait until the charts' sizes and texts
    # stay the same between two polls
    tab.page.wait_for_function(
        "() => { const sig = [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg')]"
        ".map(s => { const b = s.getBoundingClientRect();"
        " return `${b.width}x${b.height}:${s.querySelectorAll('text').length}`; })"
        ".join(','); const same = window.__screensSig === sig; window.__screensSig = sig; return same; }",
        polling=500, timeout=patience(RENDER_TIMEOUT_MS))
    tab.wait_idle()


def _shot(tab: Tab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SCREENSHOTS / f"screens_{name}.png"), full_page=False)


@pytest.fixture
def projector(browser, app_server):
    context = browser.new_context(viewport=PROJECTOR, locale="en-US")
    page = context.new_page()
    yield Tab(page=page, base_url=app_server.base_url).watch_console()
    context.close()


@pytest.fixture
def phone(browser, app_server):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    page = context.new_page()
    yield Tab(page=page, base_url=app_server.base_url).watch_console()
    context.close()


def _presenter_on(tab: Tab) -> bool:
    return tab.page.evaluate(
        "() => [...document.querySelectorAll('style')].some(s => s.textContent.includes('3.4rem'))")


def _check_pages(tab: Tab, lang: str, query: str, name: str) -> None:
    problems: dict[str, list[str]] = {}
    for path in [url for section in navigation(lang).values() for url in section]:  # every page of the menu
        slug = path or "home"
        tab.page.goto(f"{tab.base_url}/{path}?lang={lang}{query}")
        _settle(tab)
        found = list(tab.page.evaluate(_PROBLEMS)) + [f"exception: {e[:80]}" for e in tab.exceptions()]
        if "presenter=true" in query and not _presenter_on(tab):
            found.append("presenter mode off")
        if lang == "zh":
            visible = tab.page.evaluate(_VISIBLE_TEXT)
            found += [f"English widget text: {text!r}" for text in visible
                      if any(word in text for word in STREAMLIT_ENGLISH)]
        _shot(tab, f"{name}_{slug}")
        if found:
            problems[slug] = found
    assert problems == {}


def test_every_page_on_the_projector_in_presenter_mode(projector: Tab) -> None:
    _check_pages(projector, "en", "&presenter=true", "projector")


def test_every_page_on_a_phone_in_chinese(phone: Tab) -> None:
    _check_pages(phone, "zh", "", "phone_zh")
    # the widgets whose texts Streamlit fixes in English: an uploader (and a refused file) and the camera
    phone.page.goto(f"{phone.base_url}/classify?lang=zh&src=upload")
    _settle(phone)
    phone.page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        files=[{"name": "big.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (21 * 1024 * 1024)}])
    phone.page.locator('[data-testid="stFileChip"][aria-invalid="true"]').first.wait_for(timeout=patience(RENDER_TIMEOUT_MS))
    seen = phone.page.evaluate(_VISIBLE_TEXT)
    assert t("screens.st_upload", "zh") in seen and t("screens.st_refused", "zh") in seen
    assert [s for s in seen if any(word in s for word in STREAMLIT_ENGLISH)] == []
    _shot(phone, "phone_zh_uploader")
    phone.page.goto(f"{phone.base_url}/classify?lang=zh&src=camera")
    _settle(phone)
    seen = phone.page.evaluate(_VISIBLE_TEXT)
    assert t("screens.st_take_photo", "zh") in seen
    assert [s for s in seen if any(word in s for word in STREAMLIT_ENGLISH)] == []


@pytest.mark.parametrize("stage, channels", [("b2.expand", 16), ("b3.project", 144), ("b15.project", 960)])
def test_a_1x1_layer_reads_as_a_dot_product(projector: Tab, stage: str, channels: int) -> None:
    page = projector.page
    page.goto(f"{projector.base_url}/conv_trace?presenter=true&stage={stage}")
    _settle(projector)
    chart = page.locator('.st-key-trace_steps [data-testid="stPlotlyChart"]')
    chart.scroll_into_view_if_needed()
    measured = chart.evaluate(_TEXT_OVERLAPS)
    rows = channels if channels <= 11 else 11
    assert measured["overlaps"] == [] and measured["count"] >= 2 * (rows + 1)
    assert f"{channels}" in chart.inner_text()  # "sum of all <M>"
    assert page.evaluate(_PROBLEMS) == []
    if stage.endswith("project"):
        exact = re.compile(rf"^\s*{re.escape(t('conv_trace.m_act', 'en'))}\s*$")
        activation = page.locator('[data-testid="stMetric"]').filter(
            has=page.locator('[data-testid="stMetricLabel"]').filter(has_text=exact))
        shown = activation.locator('[data-testid="stMetricValue"]').inner_text().strip()
        assert shown == t("conv_trace.act_none", "en")  # "none (linear)", not "none (li…"
    chart.screenshot(path=str(SCREENSHOTS / f"screens_conv_trace_1x1_{channels}.png"))


def test_presenter_link_and_browser_back(projector: Tab) -> None:
    page = projector.page
    page.goto(f"{projector.base_url}/cost?presenter=true&df=56&m=64")
    _settle(projector)
    assert _presenter_on(projector)
    toggle = page.locator('[data-testid="stSidebar"] [data-testid="stCheckbox"]').filter(
        has_text=t("share.presenter", "en")).locator('input[type="checkbox"]')
    assert toggle.is_checked()
    share = projector.page.locator('[data-testid="stSidebar"]').get_by_text(re.compile(t("share.title", "en"))).first
    share.click()
    page.wait_for_function("() => [...document.querySelectorAll("
                           "'[data-testid=\"stSidebar\"] [data-testid=\"stCode\"]')]"
                           ".some(c => c.innerText.includes('presenter=true'))", timeout=patience(RENDER_TIMEOUT_MS))
    assert "df=56" in page.url and "m=64" in page.url, page.url
    before = page.evaluate("() => history.length")
    page.locator('[data-testid="stSidebarNav"] a[href$="/architectures"]').click()
    page.wait_for_url(re.compile(r"/architectures"), timeout=patience(RENDER_TIMEOUT_MS))
    _settle(projector)
    assert _presenter_on(projector)
    assert page.evaluate("() => history.length") == before + 1  # one navigation, one history entry
    page.go_back()
    page.wait_for_url(re.compile(r"/cost\?"), timeout=patience(RENDER_TIMEOUT_MS))
    _settle(projector)
    assert "df=56" in page.url and "m=64" in page.url
    slider = page.locator('[data-testid="stSlider"]').filter(has_text=t("cost.d_f", "en")).first
    assert slider.locator('[data-testid="stSliderThumbValue"]').inner_text().strip() == "56"
    assert _presenter_on(projector)
