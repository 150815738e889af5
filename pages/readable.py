"""Styles that keep every page readable on the two screens a lecture happens on: a 1280×720 projector in
presenter mode and a 390 px phone (``app.py`` calls :func:`readable_styles` once per run, before the page).

What they do (each one is checked in Chromium by ``tests/e2e/test_screens.py``):

* **Metric values never truncate**: Streamlit cuts a value that does not fit its column ("231,211,…",
  "none (li…"). The value's size follows the width of its own column (CSS container units, at most the
  normal or presenter size) and a value that is still too long wraps instead of being cut.
* **Labels and buttons wrap** instead of ending in "…" (a toggle's label, a preset button).
* **Compact metrics on phones**: below 640 px Streamlit stacks columns one per row; a row of metrics stays
  two per line there, so a result sits next to the next one instead of three screens down.
* **Formulas scale, then scroll**: a display formula's size follows the width of the text column, so a long
  one fits on a phone; if it still does not fit it scrolls sideways inside its own box (never cut off).
* **Streamlit's own widget texts in 中文**: the uploader's "Upload" button, its "20MB per file" line, the
  refused-file message, the camera's prompt and buttons and "Press Enter to apply" are fixed English in
  Streamlit 1.67 (no option translates them): in Chinese they are hidden and the locale's text is shown in
  their place (``explainer/locales/{en,zh}/screens.toml``, keys ``screens.st_*``).
* **One history entry per page**: Streamlit's client adds a browser-history entry both when the menu opens a
  page and when the page then writes its settings into the URL (and again for every moved control), so Back
  landed on the same page without its settings. A small script makes a history push that keeps the path
  (only the query string changes) replace the current entry, and puts back the parameters Streamlit strips
  from the old page's entry just before it pushes the new page: one navigation, one entry, and Back returns
  to the previous page's link with its settings (Streamlit reopens it from that URL).
* **Plotly's toolbar** is hidden on narrow screens and in presenter mode (it covered chart titles and
  legends); the "PNG · SVG" export line under every figure does not depend on it (``pages/figure_export.py``).
* **The result stays beside its controls on a phone** (:func:`result_bar`): a page puts its key numbers (the row
  of metrics a slider moves) in a result bar right after the controls. Below 640 px the bar is sticky at the
  bottom of the screen while its place is further down, in one compact line of metrics, so the number a
  student moves is on screen while they move it; scrolled to its place it sits there like any row. On wider
  screens (the projector, presenter mode) it is an ordinary row: those pages put it on the first screen.
* **Presenter mode starts the page higher**: the main area's top gap shrinks from Streamlit's 6rem to 4rem, just
  below Streamlit's 3.75rem header bar; at 1280×720 that is 32 px more of the page on the projector's screen.
"""

from __future__ import annotations

import streamlit as st

from explainer.i18n import t
from pages.ui import current_language
from pages.uploads import PHOTO_UPLOAD_MB, ZIP_UPLOAD_MB

#: Below this width Streamlit stacks columns (its own breakpoint).
PHONE_MAX_PX = 640

READABLE_CSS = f"""
<style>
[data-testid="stElementContainer"]:has(> [data-testid="stMetric"]) {{ container-type: inline-size; }}
[data-testid="stMetricValue"] {{ font-size: min(2.25rem, 19cqi); }}
[data-testid="stMetricValue"] [data-testid="stMarkdownContainer"], [data-testid="stMetricValue"] p {{
  font-size: inherit !important; }}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {{
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere; }}
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {{
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }}
[data-testid="stWidgetLabel"], [data-testid="stWidgetLabel"] *, [data-testid="stButton"] button *,
[data-testid="stCheckbox"] label * {{
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }}
[data-testid="stButton"] button {{ height: auto; min-height: 2.5rem; }}
[data-testid="stElementContainer"]:has(.katex-display) {{ container-type: inline-size; }}
.katex-display {{ overflow-x: auto; overflow-y: hidden; padding-bottom: 2px; }}
.katex-display > .katex {{ font-size: min(1.21em, 3.2cqi); }}
@media (max-width: {PHONE_MAX_PX}px) {{
  .modebar-container {{ display: none !important; }}
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) {{
    flex-flow: row wrap !important; gap: 0.5rem !important; }}
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"])
    > [data-testid="stColumn"] {{ flex: 1 1 calc(50% - 0.5rem) !important; min-width: calc(50% - 0.5rem) !important;
    width: calc(50% - 0.5rem) !important; }}
  [data-testid="stMetricValue"] {{ font-size: min(1.6rem, 15cqi); }}
}}
</style>
"""

#: Presenter mode: larger key numbers, text and formulas, readable from the back of a hall. Figures keep their
#: own font sizes (plotly measures its labels to place them; sizes changed behind its back made titles,
#: legends and tick labels run into each other).
PRESENTER_CSS = """
<style>
[data-testid="stMainBlockContainer"] { font-size: 1.3rem; padding-top: 4rem; }
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] li { font-size: 1.3rem; }
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] p { font-size: 1.1rem; }
[data-testid="stMainBlockContainer"] [data-testid="stWidgetLabel"] p { font-size: 1.2rem; }
[data-testid="stMainBlockContainer"] input, [data-testid="stMainBlockContainer"] [data-baseweb="select"] div {
  font-size: 1.15rem; }
[data-testid="stMetricValue"] { font-size: min(3.4rem, 19cqi) !important; line-height: 1.2; }
[data-testid="stMetricLabel"] p { font-size: 1.2rem !important; }
[data-testid="stMetricDelta"] div, [data-testid="stMetricDelta"] p { font-size: 1.3rem !important; }
[data-testid="stMainBlockContainer"] h1 { font-size: 3.2rem; }
[data-testid="stMainBlockContainer"] h2, [data-testid="stMainBlockContainer"] h3 { font-size: 2.2rem; }
.katex-display > .katex { font-size: min(1.55em, 3.2cqi); }
.modebar-container { display: none !important; }
</style>
"""


# --- the result bar (issue 25: "show the result next to the control that moves it") -------------------------------
#: Key prefix of a result bar's container (Streamlit gives a keyed container the class ``st-key-<key>``).
RESULT_BAR_PREFIX = "result_bar_"

RESULT_BAR_CSS = f"""
<style>
@media (max-width: {PHONE_MAX_PX}px) {{
  [data-testid="stVerticalBlock"] > :is([class*="st-key-{RESULT_BAR_PREFIX}"],
                                         :has(> [class*="st-key-{RESULT_BAR_PREFIX}"])) {{
    position: sticky; bottom: 0; z-index: 50; background: #ffffff; padding: 0.3rem 0 0.2rem;
    box-shadow: 0 -0.4rem 0.6rem -0.4rem rgb(0 0 0 / 0.35); }}
  [class*="st-key-{RESULT_BAR_PREFIX}"] [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"]) {{
    flex-flow: row nowrap !important; gap: 0.4rem !important; }}
  [class*="st-key-{RESULT_BAR_PREFIX}"] [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stMetric"])
    > [data-testid="stColumn"] {{ flex: 1 1 0 !important; min-width: 0 !important; width: auto !important; }}
  [class*="st-key-{RESULT_BAR_PREFIX}"] [data-testid="stMetricValue"] {{ font-size: min(1.15rem, 15cqi) !important; }}
  [class*="st-key-{RESULT_BAR_PREFIX}"] [data-testid="stMetricLabel"],
  [class*="st-key-{RESULT_BAR_PREFIX}"] [data-testid="stMetricLabel"] p {{ font-size: 0.7rem !important;
    min-height: 0 !important; line-height: 1.2; }}
  [class*="st-key-{RESULT_BAR_PREFIX}"] [data-testid="stMetricDelta"],
  [class*="st-key-{RESULT_BAR_PREFIX}"] [data-testid="stMetricDelta"] * {{ font-size: 0.7rem !important;
    white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }}
  [class*="st-key-{RESULT_BAR_PREFIX}"] [data-testid="stMetricDelta"] {{ height: auto !important; }}
  [class*="st-key-{RESULT_BAR_PREFIX}"] [data-testid="stMetricDelta"] svg {{ width: 0.8rem; height: 0.8rem; }}
}}
</style>
"""


def result_bar(name: str):
    """The container of a page's key result (``with result_bar("cost"): ...metrics...``): sticky and compact at the
    bottom of a phone's screen while its place is further down (see :data:`RESULT_BAR_CSS`)."""
    return st.container(key=f"{RESULT_BAR_PREFIX}{name}")


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal (quotes, backslashes and line breaks escaped)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def widget_text_css(texts: dict[str, str], per_file: dict[str, str] | None = None) -> str:
    """CSS that hides Streamlit's fixed English widget texts and shows ``texts`` in their place.

    ``texts``: ``upload`` (the uploader's button), ``per_file`` (its size line), ``refused`` (a refused
    file), ``camera_prompt``, ``take_photo``, ``clear_photo``, ``enter`` ("Press Enter to apply").
    ``per_file``: the size line of the uploaders whose key starts with a given key (a larger limit than the
    photos'), e.g. ``{"tl_zip": "每个文件不超过 64 MB"}``.
    """
    c = {key: _css_string(value) for key, value in texts.items()}
    # An uploader with a larger limit (its key, or a key starting with it: pages/uploads.py renames released ones)
    larger = "".join(f'[class*="st-key-{key}"] [data-testid="stFileUploaderDropzoneInstructions"] > div::after '
                     f'{{ content: {_css_string(text)}; }}\n' for key, text in (per_file or {}).items())
    return f"""
<style>
[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p {{
  display: none; }}
[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"]::after {{
  content: {c["upload"]}; }}
[data-testid="stFileUploaderDropzoneInstructions"] span {{ display: none; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {{ content: {c["per_file"]}; font-size: 0.875rem; }}
{larger}[data-testid="stFileChip"] [role="alert"] {{ display: none; }}
[data-testid="stFileChip"][aria-invalid="true"]::after {{ content: {c["refused"]}; color: #bd4043;
  font-size: 0.8rem; padding-left: 0.5rem; }}
[data-testid="stCameraInputWebcamComponent"] p {{ display: none; }}
[data-testid="stCameraInputWebcamComponent"] div:has(> p)::after {{ content: {c["camera_prompt"]};
  text-align: center; padding: 0 1rem; }}
[data-testid="stCameraInputButton"] {{ font-size: 0 !important; }}
[data-testid="stCameraInputButton"] > * {{ display: none; }}
[data-testid="stCameraInputButton"]:not(:has(*))::after {{ content: {c["take_photo"]}; font-size: 1rem; }}
[data-testid="stCameraInputButton"]:has(*)::after {{ content: {c["clear_photo"]}; font-size: 1rem; }}
[data-testid="InputInstructions"] > span {{ display: none; }}
[data-testid="InputInstructions"]::after {{ content: {c["enter"]}; }}
</style>
"""


WIDGET_TEXTS = ("upload", "per_file", "refused", "camera_prompt", "take_photo", "clear_photo", "enter")


#: History fixes, installed once per tab. A push that keeps the path (a query-string update) replaces the current
#: entry. When the menu opens another page, Streamlit first strips the old page's parameters from the current
#: entry and only then pushes the new path: the stripped entry is put back as it was, so Back finds the link.
HISTORY_SCRIPT = """
<script>
(() => {
  if (window.__explainerHistory) return;
  window.__explainerHistory = true;
  const push = history.pushState.bind(history);
  const replace = history.replaceState.bind(history);
  let undo = null;  // the entry as it was before the last query-string replace: {url, state, at}
  history.pushState = function (state, title, url) {
    try {
      if (url !== undefined && url !== null) {
        const next = new URL(url, location.href);
        if (next.pathname === location.pathname) {
          undo = {url: location.href, state: history.state, at: performance.now()};
          return replace(state, title, url);
        }
        if (undo && performance.now() - undo.at < 3000) replace(undo.state, '', undo.url);
        undo = null;
      }
    } catch (error) { /* an unusual URL: leave it to the browser */ }
    return push(state, title, url);
  };
})();
</script>
"""


# --- a tap on a chart (issue 25: "tapping a cell registers one tap late with touch input") ----------------------
#: Plotly computes which point a click hit from its last *hover*. A mouse hovers before it clicks; a finger does not:
#: plotly's tap handler runs on the touch events (which carry no clientX/clientY), finds no point there and so
#: reports the point of the previous hover, which a touch browser only sends (as a compatibility mousemove) after
#: the tap. The result: every tap selected the cell of the tap before. This script gives plotly the hover first: on
#: touchstart on a chart's drag area it sends that element a mousemove at the finger's position (installed once
#: per tab; a mouse is not affected).
TOUCH_SCRIPT = """
<script>
(() => {
  if (window.__explainerTouch) return;
  window.__explainerTouch = true;
  document.addEventListener('touchstart', event => {
    if (event.touches.length !== 1) return;
    const target = event.target;
    if (!(target instanceof Element) || !target.closest('.js-plotly-plot') || !target.closest('.draglayer')) return;
    const touch = event.touches[0];
    target.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, cancelable: true, view: window,
      clientX: touch.clientX, clientY: touch.clientY, screenX: touch.screenX, screenY: touch.screenY}));
  }, {capture: true, passive: true});
})();
</script>
"""


def readable_styles() -> None:
    """The styles for every page (one ``st.html`` call, no element in the page's layout); in a language
    other than English, Streamlit's own widget texts in that language as well."""
    lang = current_language()
    css = READABLE_CSS + RESULT_BAR_CSS
    if lang != "en":
        css += widget_text_css({key: t(f"screens.st_{key}", lang, mb=PHOTO_UPLOAD_MB) for key in WIDGET_TEXTS},
                               {"tl_zip": t("screens.st_per_file", lang, mb=ZIP_UPLOAD_MB)})
    st.html(css + HISTORY_SCRIPT + TOUCH_SCRIPT, unsafe_allow_javascript=True)
