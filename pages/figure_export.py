"""Figures to slides and pages to paper: a PNG/SVG export under every figure, and a print/handout view of a page.

``app.py`` calls :func:`figure_export` and :func:`handout_toggle` once per run (before the page) and, while the
handout view is on, :func:`handout_bar` (above the page).

**Export** (one script, ``pages/figure_export.js``, put into the main document once per tab): under every figure of
the main area a small "PNG · SVG" line. A figure is a plotly chart, a Graphviz block diagram (drawn in the browser),
a display formula (KaTeX), a row of metrics (the convolution trace's numbers too) or a photo (``st.image``). The
browser already holds each one as SVG or HTML, so the export is made there, from exactly what is shown, and costs
the server nothing (plotly's own image export on the server would need kaleido and a headless Chromium per
picture): plotly's stacked SVG layers are merged without the hover/zoom layers, Graphviz's SVG is taken as it is,
formulas, metrics and photos are copied with their computed styles into an SVG ``<foreignObject>``. The web fonts
the figure uses (Streamlit's, KaTeX's) are embedded in the SVG, so it looks the same on another computer. The PNG
is that SVG drawn on a canvas at twice the size on screen or more (a photo at its own resolution), on the page's
white background. A photo has no vector form: PNG only. File names: ``<page>-<nn>-<figure title>.<ext>``
(``cost-01-macs-and-parameters.svg``). It does not depend on plotly's toolbar (hidden on phones and in presenter
mode: ``pages/readable.py``) and is hidden in print.

**Handout view** (``?handout=true``, bound to the sidebar switch like presenter mode, so a link keeps it): the
sidebar, Streamlit's header and toolbar, buttons, uploaders, the camera and the export lines are hidden; the page
is laid out one A4/Letter page wide (charts drawn at that width, so they print at full size, not cut), and
``@media print`` keeps a figure, a formula or a row of metrics on one page where it fits. At the top a
"Print / save as PDF" button (the browser's print dialog) and a button back to the normal view, both not printed.
Texts: ``explainer/locales/{en,zh}/figures_export.toml``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import streamlit as st

from pages.ui import current_language, tr

HANDOUT_KEY = "handout"
#: The page's content width in the handout view: A4 (210 mm) and Letter (8.5 in) less 12 mm margins on each side,
#: at the CSS 96 px per inch (703 and 725 px), so charts drawn at this width print at full size on both.
HANDOUT_WIDTH_PX = 700
PRINT_MARGIN_MM = 12

_SCRIPT = Path(__file__).with_name("figure_export.js")


@lru_cache(maxsize=1)
def export_script() -> str:
    """The export script's text (read once per process)."""
    return _SCRIPT.read_text(encoding="utf-8")


#: The element that carries these styles and the script takes no room (an empty element still gets the page's gap).
HIDE_OWN_CONTAINER = """
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > style[data-fx-export]) { display: none; }
"""

#: The export line under a figure: small, right-aligned, below the figure (never over a title or a legend).
EXPORT_CSS = """
.fx-bar { position: relative; z-index: 2; display: flex; justify-content: flex-end; align-items: center; gap: 0.2rem; flex-wrap: wrap;
  font-size: 0.75rem; line-height: 1.2; margin-top: 0.15rem; color: rgba(49, 51, 63, 0.6); }
/* z-index: a caption's bottom margin can reach over the line below it (Streamlit's captions in columns) */
.fx-bar .fx-btn { font: inherit; color: inherit; background: none; border: none; padding: 0.1rem 0.3rem;
  cursor: pointer; text-decoration: underline dotted; border-radius: 0.25rem; }
.fx-bar .fx-btn:hover, .fx-bar .fx-btn:focus-visible { color: rgb(49, 51, 63); background: rgba(151, 166, 195, 0.2); }
.fx-bar .fx-btn[aria-busy="true"] { cursor: progress; opacity: 0.6; }
"""

#: Printing any page: only the page's content, whole (Streamlit scrolls inside its own full-height container,
#: which would print one screen), no figure or row of metrics cut across two sheets where it fits on one.
PRINT_CSS = f"""
@media print {{
  @page {{ margin: {PRINT_MARGIN_MM}mm; }}
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
  header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
  [data-testid="stStatusWidget"], .modebar-container, .fx-bar, .st-key-fx_handout_bar,
  [data-testid="stElementToolbar"] {{ display: none !important; }}
  html, body, [data-testid="stApp"], [data-testid="stAppViewContainer"], [data-testid="stMain"] {{
    height: auto !important; min-height: 0 !important; overflow: visible !important; position: static !important; }}
  [data-testid="stMainBlockContainer"] {{ padding: 0 !important; max-width: none !important; }}
  [data-testid="stElementContainer"], [data-testid="stHorizontalBlock"], .katex-display, [data-testid="stMetric"],
  [data-testid="stExpander"] {{ break-inside: avoid; }}
  h1, h2, h3, h4 {{ break-after: avoid; }}
  .katex-display > .katex {{ font-size: min(1.1em, 2.4cqi) !important; }}  /* a long formula fits the sheet */
  .katex-display {{ overflow: visible !important; }}
  .js-plotly-plot, [data-testid="stGraphVizChart"] svg, [data-testid="stImage"] img {{ max-width: 100% !important; }}
  * {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
}}
"""

#: The handout view on screen (and so in print): one sheet wide, no controls that only work on screen.
HANDOUT_CSS = f"""
<style data-fx-export>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"], .modebar-container, .fx-bar,
[data-testid="stElementToolbar"] {{ display: none !important; }}
[data-testid="stMain"] [data-testid="stElementContainer"]:has(> [data-testid="stButton"],
  > [data-testid="stDownloadButton"], > [data-testid="stFileUploader"], > [data-testid="stCameraInput"],
  > [data-testid="stLinkButton"]):not(.st-key-fx_handout_exit) {{ display: none !important; }}
[data-testid="stMainBlockContainer"] {{ max-width: calc({HANDOUT_WIDTH_PX}px + 2rem) !important;
  padding: 1.5rem 1rem 2rem !important; margin: 0 auto; }}
[data-testid="stSliderTickBar"], [data-testid="stNumberInputStepUp"], [data-testid="stNumberInputStepDown"],
[data-testid="InputInstructions"] {{ display: none !important; }}
.katex-display > .katex {{ font-size: min(1.1em, 2.4cqi) !important; }}
.st-key-fx_handout_bar {{ border-bottom: 1px solid rgba(49, 51, 63, 0.2); padding-bottom: 0.5rem; }}
.fx-print {{ font: inherit; font-size: 1rem; padding: 0.45rem 0.9rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid rgb(255, 75, 75); background: rgb(255, 75, 75); color: white; width: 100%; min-height: 2.5rem; }}
.fx-print:hover {{ background: rgb(230, 60, 60); }}
</style>
"""


def export_config(lang: str | None = None) -> dict[str, str]:
    """The export line's texts in the session's language (given to the script)."""
    keys = {"png": "png", "svg": "svg", "label": "label", "failed": "failed"}
    if lang is None:
        return {name: tr(f"figures_export.{key}") for name, key in keys.items()}
    from explainer.i18n import t
    return {name: t(f"figures_export.{key}", lang) for name, key in keys.items()}


def export_html(lang: str) -> str:
    """The ``st.html`` body: the export line's and print styles, the texts, and the script."""
    config = json.dumps(export_config(lang), ensure_ascii=False).replace("</", "<\\/")
    return (f"<style data-fx-export>{HIDE_OWN_CONTAINER}{EXPORT_CSS}{PRINT_CSS}</style>\n"
            f"<script>window.__fxConfigNext = {config};\n{export_script()}</script>")


def figure_export() -> None:
    """The export line under every figure and the print styles, on every page (one ``st.html`` call)."""
    st.html(export_html(current_language()), unsafe_allow_javascript=True)


def _leave_handout() -> None:
    st.session_state[HANDOUT_KEY] = False


def handout_toggle() -> bool:
    """The sidebar's handout switch (``?handout=true`` in the link, like presenter mode); while on, the handout
    layout's styles. Whether the handout view is on."""
    on = st.sidebar.toggle(f"🖨️ {tr('figures_export.handout')}", key=HANDOUT_KEY,
                           help=tr("figures_export.handout_help"), bind="query-params")
    if on:
        st.html(HANDOUT_CSS)
    return on


def handout_bar() -> None:
    """At the top of the page in the handout view: "Print / save as PDF" and the way back (neither is printed)."""
    with st.container(key="fx_handout_bar"):
        left, right = st.columns(2, vertical_alignment="center")
        # A plain button: printing happens in the browser (the export script calls window.print()).
        left.html(f'<button type="button" class="fx-print">🖨️ {tr("figures_export.print")}</button>')
        right.button(tr("figures_export.leave"), key="fx_handout_exit", on_click=_leave_handout, width="stretch")
        st.caption(tr("figures_export.handout_note"))
