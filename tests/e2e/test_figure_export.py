"""Figures to slides, pages to paper, in a real Chromium (issue 25; pages/figure_export.py).

Every figure of a page (plotly chart, Graphviz diagram, display formula, row of metrics, photo) has its own
"PNG · SVG" line; clicking one gives a real download whose bytes are a PNG at least twice the figure's size on
screen, or an SVG that parses as XML and holds the figure's own text. The same in presenter mode (plotly's
toolbar hidden there) and on a phone (the line fits the screen). The handout view (``?handout=true``) hides the
sidebar, header and buttons, lays the page out one sheet wide, prints to a PDF, and stays in the link.
Exported files go to test-artifacts/figure-export/.
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET

import pytest

from explainer.i18n import t
from tests.e2e.helpers import ARTIFACTS, RENDER_TIMEOUT_MS, Tab, patience

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

OUT = ARTIFACTS / "figure-export"
PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}

#: Every figure in the main area, and whether an export line belongs to it: the nearest ancestor (or the row of
#: metrics' wrapper) that holds an ``.fx-bar`` as a direct child. Independent of the script's own bookkeeping.
_FIGURES = """
() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const out = [];
  const owner = el => { for (let e = el; e && e !== main; e = e.parentElement)
                          if ([...e.children].some(c => c.classList.contains('fx-bar'))) return e; return null; };
  const sel = '[data-testid="stPlotlyChart"], [data-testid="stGraphVizChart"], .katex-display, '
            + '[data-testid="stMetric"], [data-testid="stImage"]';
  for (const f of main.querySelectorAll(sel)) {
    const kind = f.matches('[data-testid="stPlotlyChart"]') ? 'plotly' : f.matches('[data-testid="stGraphVizChart"]')
      ? 'graphviz' : f.matches('.katex-display') ? 'formula' : f.matches('[data-testid="stMetric"]') ? 'metrics' : 'image';
    const host = owner(f);
    out.push({kind, exported: !!host, bar: host ? [...host.children].find(c => c.classList.contains('fx-bar')).dataset.fxKind : null});
  }
  return out;
}
"""

#: For the n-th export line: its kind, the figure's size on screen and a text the figure itself shows.
_FIGURE_FACTS = """
([n]) => {
  const bar = document.querySelectorAll('.fx-bar')[n];
  const host = bar.parentElement, kind = bar.dataset.fxKind;
  const first = sel => [...host.querySelectorAll(sel)].map(e => e.textContent.trim()).find(s => s.length > 1) || '';
  let fig, text;
  if (kind === 'plotly') { fig = host.querySelector('.main-svg'); text = first('.gtitle, .g-xtitle, .g-ytitle') || first('.main-svg text'); }
  else if (kind === 'graphviz') { fig = host.querySelector('[data-testid="stGraphVizChart"] svg'); text = first('.node text'); }
  else if (kind === 'formula') { fig = host.querySelector('.katex-html'); text = [...fig.querySelectorAll('span')].filter(e => !e.children.length)
      .map(e => e.textContent.trim()).sort((a, b) => /[0-9]/.test(b) - /[0-9]/.test(a) || b.length - a.length)[0] || ''; }
  else if (kind === 'metrics') { fig = host.firstElementChild; text = first('[data-testid="stMetricLabel"]'); }
  else { fig = host.querySelector('img'); text = ''; }
  const r = fig.getBoundingClientRect();
  let width = r.width, height = r.height;
  if (kind === 'formula') { const range = document.createRange(); range.selectNodeContents(fig);
                            const b = range.getBoundingClientRect(); width = b.width; height = b.height; }
  return {kind, width, height, text, formats: [...bar.querySelectorAll('.fx-btn')].map(b => b.dataset.fx)};
}
"""


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _svg_text(data: bytes) -> str:
    root = ET.fromstring(data)  # well-formed XML, or this raises
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return " ".join(" ".join(root.itertext()).split())


def _wait_for_figures(tab: Tab, minimum: int, kinds: set[str] = frozenset()) -> None:
    tab.wait_idle()
    tab.page.wait_for_function(f"() => document.querySelectorAll('.fx-bar').length >= {minimum}",
                               timeout=patience(RENDER_TIMEOUT_MS))
    # every kind the test needs is drawn and has its line (a loaded machine draws a page in several steps)
    tab.page.wait_for_function(
        f"kinds => {{ const f = ({_FIGURES.strip()})(); return kinds.every(k => f.some(x => x.kind === k))"
        " && f.every(x => x.exported); }", arg=sorted(kinds), timeout=patience(RENDER_TIMEOUT_MS))
    # a page may still add figures (Graphviz draws after the run): wait until the number of lines stays put
    tab.page.wait_for_function(
        "() => { const n = document.querySelectorAll('.fx-bar').length + ':' +"
        " document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg, [data-testid=\"stGraphVizChart\"] svg').length;"
        " const same = window.__fxTestN === n; window.__fxTestN = n; return same; }", polling=700, timeout=patience(RENDER_TIMEOUT_MS))


def _download(tab: Tab, n: int, fmt: str):
    with tab.page.expect_download(timeout=patience(RENDER_TIMEOUT_MS)) as info:
        tab.page.locator(".fx-bar").nth(n).locator(f'[data-fx="{fmt}"]').click()
    download = info.value
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / download.suggested_filename
    download.save_as(path)
    return download.suggested_filename, path.read_bytes()


def _check_exports(tab: Tab, page: str, kinds_needed: set[str], per_kind: int = 1) -> dict[str, int]:
    """Every figure has its line; the first ``per_kind`` lines of each kind export a valid PNG and SVG."""
    figures = tab.page.evaluate(_FIGURES)
    assert figures, f"no figures on {page}"
    assert [f for f in figures if not f["exported"]] == []
    assert kinds_needed <= {f["kind"] for f in figures}
    sizes: dict[str, int] = {}
    done: dict[str, int] = {}
    for n in range(tab.page.locator(".fx-bar").count()):
        facts = tab.page.evaluate(_FIGURE_FACTS, [n])
        if done.get(facts["kind"], 0) >= per_kind:
            continue
        done[facts["kind"]] = done.get(facts["kind"], 0) + 1
        assert facts["formats"] == (["png"] if facts["kind"] == "image" else ["png", "svg"])
        name, png = _download(tab, n, "png")
        assert re.fullmatch(rf"{page.replace('_', '-')}-\d\d-[^/\\]+\.png", name), name
        width, height = _png_size(png)
        assert width >= 2 * facts["width"] - 2 and height >= 2 * facts["height"] - 2, (name, width, height, facts)
        sizes[name] = len(png)
        if "svg" in facts["formats"]:
            name, svg = _download(tab, n, "svg")
            assert name.endswith(".svg")
            text = _svg_text(svg)
            assert facts["text"] and facts["text"] in text, (name, facts["text"], text[:300])
            sizes[name] = len(svg)
    assert kinds_needed <= set(done)
    return sizes


@pytest.fixture
def projector(browser, app_server):
    context = browser.new_context(viewport=PROJECTOR, locale="en-US", accept_downloads=True)
    page = context.new_page()
    yield Tab(page=page, base_url=app_server.base_url).watch_console()
    context.close()


@pytest.mark.parametrize("page, query, kinds, minimum", [
    ("cost", "", {"plotly", "formula", "metrics"}, 13),
    ("home", "", {"graphviz"}, 3),
    ("architectures", "", {"plotly", "formula", "metrics"}, 6),
    ("conv_trace", "", {"plotly", "metrics", "image"}, 7),
    ("classify", "", {"image", "plotly"}, 2),
    ("zoo", "", {"plotly"}, 2),
])
def test_every_figure_exports_as_png_and_svg(tab: Tab, page: str, query: str, kinds: set[str], minimum: int) -> None:
    tab.page.goto(f"{tab.base_url}/{'' if page == 'home' else page}?lang=en{query}")
    _wait_for_figures(tab, minimum, kinds - {"image"} if page == "classify" else kinds)
    if page == "classify":  # the class-activation map: a matplotlib colour map over the photo (st.image)
        images = tab.page.locator('[data-testid="stImage"]').count()
        tab.page.get_by_text(t("classify_cam.toggle", "en")).click()
        tab.page.wait_for_function(f"() => document.querySelectorAll('[data-testid=\"stImage\"]').length > {images}",
                                   timeout=patience(RENDER_TIMEOUT_MS))
        _wait_for_figures(tab, minimum + 1, kinds)
    sizes = _check_exports(tab, "home" if page == "home" else page, kinds)
    print(page, sizes)
    assert tab.exceptions() == [] and tab.real_console_errors() == []


def test_export_works_in_presenter_mode_without_plotly_toolbar(projector: Tab) -> None:
    projector.page.goto(f"{projector.base_url}/architectures?lang=en&presenter=true")
    _wait_for_figures(projector, 6, {"plotly", "formula"})
    hidden = projector.page.evaluate(
        "() => [...document.querySelectorAll('.modebar-container')].every(m => getComputedStyle(m).display === 'none')")
    assert hidden  # plotly's own download button is not there: ours is
    _check_exports(projector, "architectures", {"plotly", "formula"})


def test_export_lines_fit_a_phone_and_speak_chinese(browser, app_server) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True, accept_downloads=True)
    try:
        tab = Tab(page=context.new_page(), base_url=app_server.base_url).watch_console()
        tab.page.goto(f"{tab.base_url}/cost?lang=zh")
        _wait_for_figures(tab, 13)
        boxes = tab.page.evaluate(
            "() => [...document.querySelectorAll('.fx-bar')].map(b => { const r = b.getBoundingClientRect();"
            " return {right: r.right, left: r.left, over: b.scrollWidth - b.clientWidth, label: b.getAttribute('aria-label')}; })")
        assert boxes and all(b["left"] >= 0 and b["right"] <= PHONE["width"] and b["over"] <= 0 for b in boxes), boxes
        assert {b["label"] for b in boxes} == {t("figures_export.label", "zh")}
        facts = tab.page.evaluate(_FIGURE_FACTS, [0])  # the row of metrics, in Chinese
        name, svg = _download(tab, 0, "svg")
        assert facts["kind"] == "metrics" and re.search(r"[\u4e00-\u9fff]", facts["text"]), facts
        assert facts["text"] in _svg_text(svg)
    finally:
        context.close()


def _visible(tab: Tab, selector: str) -> bool:
    return tab.page.evaluate(
        "sel => [...document.querySelectorAll(sel)].some(e => { const r = e.getBoundingClientRect();"
        " return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; })", selector)


def test_handout_view_prints_to_pdf_and_stays_in_the_link(tab: Tab) -> None:
    tab.page.goto(f"{tab.base_url}/cost?lang=en&handout=true&dk=5")
    tab.wait_idle()
    tab.page.locator(".fx-print").wait_for(timeout=patience(RENDER_TIMEOUT_MS))
    tab.page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .main-svg').length >= 3",
                               timeout=patience(RENDER_TIMEOUT_MS))
    assert tab.page.locator(".fx-print").inner_text().strip().endswith(t("figures_export.print", "en"))
    for chrome in ('[data-testid="stSidebar"]', 'header[data-testid="stHeader"]', '.fx-bar',
                   '[data-testid="stMain"] [data-testid="stButton"]:not(.st-key-fx_handout_exit *)'):
        assert not _visible(tab, chrome), chrome
    width = tab.page.evaluate("() => document.querySelector('[data-testid=\"stMainBlockContainer\"]').getBoundingClientRect().width")
    assert width <= 700 + 2 * 16 + 1
    # every chart fits the sheet's width
    charts = tab.page.evaluate("() => [...document.querySelectorAll('.main-svg')].map(s => s.getBoundingClientRect().width)")
    assert charts and max(charts) <= 703
    # the print button opens the browser's print dialog
    tab.page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    tab.page.locator(".fx-print").click()
    assert tab.page.evaluate("() => window.__printed") == 1
    # in print: the print bar is gone too, and the page becomes a PDF of several A4 sheets
    tab.page.emulate_media(media="print")
    assert not _visible(tab, ".st-key-fx_handout_bar") and not _visible(tab, ".fx-print")
    pdf = tab.page.pdf(format="A4", print_background=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "handout-cost.pdf").write_bytes(pdf)
    assert pdf[:5] == b"%PDF-"
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 2, pages  # the whole page, not one screen
    tab.page.emulate_media(media="screen")
    # the link keeps the handout view (and the page's own settings) while the page is used
    assert "handout=true" in tab.page.url and "dk=5" in tab.page.url
    # and the way back: the normal view with its sidebar, the URL without the handout switch
    tab.page.locator(".st-key-fx_handout_exit button").click()
    tab.page.locator('[data-testid="stSidebar"]').wait_for(state="visible", timeout=patience(RENDER_TIMEOUT_MS))
    tab.page.wait_for_function("() => !location.search.includes('handout')", timeout=patience(RENDER_TIMEOUT_MS))
    assert "dk=5" in tab.page.url
