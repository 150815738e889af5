"""Styles that keep every page readable on the two screens a lecture happens on: a 1280×720 projector in
presenter mode and a 390 px phone (``app.py`` calls :func:`readable_styles` once per run, before the page).

What they do (each one is checked in Chromium by ``tests/e2e/test_screens.py``):

* **Metric values never truncate**: Streamlit cuts a value that does not fit its column ("231,211,…",
  "none (li…"). The value's size follows the width of its own column (CSS container units, at most the
  normal or presenter size) and a value that is still too long wraps instead of being cut.
* **Compact metrics on phones**: below 640 px Streamlit stacks columns one per row; a row of metrics stays
  two per line there, so a result sits next to the next one instead of three screens down.
* **Formulas scale, then scroll**: a display formula's size follows the width of the text column, so a long
  one fits on a phone; if it still does not fit it scrolls sideways inside its own box (never cut off).
* **Plotly's toolbar** is hidden on narrow screens and in presenter mode (it covered chart titles and
  legends); the figure-export buttons on each page do not depend on it.
"""

from __future__ import annotations

import streamlit as st

#: Below this width Streamlit stacks columns (its own breakpoint).
PHONE_MAX_PX = 640

READABLE_CSS = f"""
<style>
[data-testid="stMetric"] {{ container-type: inline-size; }}
[data-testid="stMetricValue"] {{ font-size: min(2.25rem, 17cqi); }}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {{
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere; }}
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {{
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }}
[data-testid="stMarkdownContainer"]:has(> .katex-display), [data-testid="stMarkdownContainer"]:has(.katex-display) {{
  container-type: inline-size; }}
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
[data-testid="stMainBlockContainer"] { font-size: 1.3rem; }
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] li { font-size: 1.3rem; }
[data-testid="stMainBlockContainer"] [data-testid="stCaptionContainer"] p { font-size: 1.1rem; }
[data-testid="stMainBlockContainer"] [data-testid="stWidgetLabel"] p { font-size: 1.2rem; }
[data-testid="stMainBlockContainer"] input, [data-testid="stMainBlockContainer"] [data-baseweb="select"] div {
  font-size: 1.15rem; }
[data-testid="stMetricValue"] { font-size: min(3.4rem, 17cqi) !important; line-height: 1.2; }
[data-testid="stMetricLabel"] p { font-size: 1.2rem !important; }
[data-testid="stMetricDelta"] div, [data-testid="stMetricDelta"] p { font-size: 1.3rem !important; }
[data-testid="stMainBlockContainer"] h1 { font-size: 3.2rem; }
[data-testid="stMainBlockContainer"] h2, [data-testid="stMainBlockContainer"] h3 { font-size: 2.2rem; }
.katex-display > .katex { font-size: min(1.55em, 3.2cqi); }
.modebar-container { display: none !important; }
</style>
"""


def readable_styles() -> None:
    """The styles for every page (one ``st.html`` call, no element in the page's layout)."""
    st.html(READABLE_CSS)
