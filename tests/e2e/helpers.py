"""Helpers for the real-browser tests: the app's pages, a browser-tab wrapper, screenshots."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
RENDER_TIMEOUT_MS = 90_000  # a page's first run (Classify loads the model); the machine may be busy
ACTION_TIMEOUT_MS = 30_000  # finding an element that should already be there
#: The most a busy machine stretches a timeout (see :func:`patience`).
MAX_PATIENCE = 8.0


def patience(ms: float) -> int:
    """``ms`` stretched by how busy the machine is right now: × (1-minute load average / cores), between 1 and
    :data:`MAX_PATIENCE`. A browser test waits for a condition; its timeout only catches a hang, so on a loaded
    machine (a CI run beside other work: load 14-23 on 2 cores measured) it must not fire while the page is merely
    slow. On a quiet machine the timeouts are the ones written in the tests."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return int(ms * min(MAX_PATIENCE, max(1.0, load / (os.cpu_count() or 1))))

# The pages of the app: url path -> page script.
PAGES = {
    "lecture": "pages/lecture.py",
    "home": "pages/home.py",
    "cost": "pages/cost.py",
    "architectures": "pages/architectures.py",
    "classify": "pages/classify.py",
    "feature_maps": "pages/feature_maps.py",
    "conv_trace": "pages/conv_trace.py",
    "transfer": "pages/transfer.py",
    "segment": "pages/segment.py",
    "zoo": "pages/zoo.py",
    "quantize": "pages/quantize.py",
    "energy": "pages/energy.py",
}
DEFAULT_PAGE = "home"
LANGS = ("en", "zh")

# Opening a sub-page URL directly makes the client probe /<page>/_stcore/health
# and /<page>/_stcore/host-config first: two harmless 404s.
_HARMLESS = re.compile(r"/[a-z_]+/_stcore/(health|host-config)\b")


def unavailable(reason: str) -> None:
    """Skip (or fail, when ``EXPLAINER_REQUIRE_E2E=1``) because the browser cannot run."""
    if os.environ.get("EXPLAINER_REQUIRE_E2E") == "1":
        pytest.fail(f"{reason} (EXPLAINER_REQUIRE_E2E=1: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str | None:
    configured = os.environ.get("EXPLAINER_CHROMIUM")
    for candidate in (configured, "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_page(url_path: str) -> None:
    """Every page of the app must exist (a missing page is a failure, not a skip)."""
    if not (ROOT / PAGES[url_path]).is_file():
        pytest.fail(f"{PAGES[url_path]} is missing: the app has five pages", pytrace=False)


# In every page a test opens: ``window.__scriptRuns`` counts the script runs that ended (the app's
# ``data-test-script-state`` turning to "notRunning"), so a test can wait for the run ITS action started
# (:meth:`Tab.after_rerun`) instead of an idle state that may still be the one before it (a rerun starts a
# moment after the key press or upload that asks for it).
_RUN_COUNTER = """
(() => {
  const watch = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return false;
    window.__scriptRuns = 0;
    new MutationObserver(() => { if (app.dataset.testScriptState === 'notRunning') window.__scriptRuns += 1; })
      .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
    return true;
  };
  if (!watch()) new MutationObserver((_, seen) => { if (watch()) seen.disconnect(); })
    .observe(document, {childList: true, subtree: true});
})();
"""


@dataclass
class Tab:
    """A browser tab on the app and everything it logged."""

    page: object  # playwright.sync_api.Page
    base_url: str
    console_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.add_init_script(_RUN_COUNTER)

    def after_rerun(self, action, timeout_ms: int = RENDER_TIMEOUT_MS) -> None:
        """Do ``action()`` (one that makes the app rerun: Enter in a text box, a click) and wait until the run it
        started has ended. (:meth:`wait_idle` alone may see the idle state from BEFORE that run: a browser test
        that then uploaded a file did so during the run, and the upload was lost with the element it went to.)"""
        before = self.page.evaluate("() => window.__scriptRuns")
        assert before is not None, "the run counter is missing: open the page after making the Tab"
        action()
        self.page.wait_for_function(
            "n => window.__scriptRuns > n && document.querySelector('[data-testid=\"stApp\"]')"
            ".dataset.testScriptState === 'notRunning'", arg=before, timeout=patience(timeout_ms))
        self.wait_idle(timeout_ms)

    def watch_console(self) -> "Tab":
        def on_console(message) -> None:
            if message.type == "error":
                url = (message.location or {}).get("url", "")
                self.console_errors.append(f"{message.text} [{url}]")

        self.page.on("console", on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"pageerror: {error}"))
        return self

    def open(self, url_path: str, lang: str) -> None:
        """Open ``/<url_path>?lang=<lang>`` the way a student follows a link, and wait until it rendered."""
        path = "" if url_path == DEFAULT_PAGE else url_path  # the default page lives at "/"
        self.page.goto(f"{self.base_url}/{path}?lang={lang}")
        self.wait_idle()

    def wait_idle(self, timeout_ms: int = RENDER_TIMEOUT_MS) -> None:
        """Wait until the script run finished and the main area shows something, every element drawn."""
        self.page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                                    timeout=patience(timeout_ms))
        # :visible — app.py keeps an empty placeholder at the top for the link notice (pages/url_state.py)
        self.page.wait_for_selector('[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]:visible',
                                    timeout=patience(timeout_ms))
        # ... and every element drawn: Streamlit fetches the code of a metric, a select box, a toggle … the first
        # time a page shows one, and draws a skeleton in its place meanwhile (a loaded run once found the script
        # finished, the charts drawn and not one metric on the page)
        self.page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')",
                                    timeout=patience(timeout_ms))

    def wait_metric(self, text: str, *, first: bool = False, within: str = "",
                    timeout_ms: int = RENDER_TIMEOUT_MS) -> None:
        """Wait until a metric (``first``: the first metric) shows exactly ``text``, e.g. "214,990,848" or
        "12.380 mJ"; ``within`` is a CSS selector that scopes the search. A metric is drawn a moment after the run
        that made it, and the keys of a slider may arrive over several runs: wait for the value, never read it once."""
        self.page.wait_for_function(
            "([scope, text, first]) => { const shown = [...document.querySelectorAll("
            "scope + ' [data-testid=\"stMetricValue\"]')].map(e => e.innerText.trim());"
            " return first ? shown[0] === text : shown.includes(text); }",
            arg=[within, text, first], timeout=patience(timeout_ms))

    def exceptions(self) -> list[str]:
        return [e.inner_text() for e in self.page.query_selector_all('[data-testid="stException"]')]

    def real_console_errors(self) -> list[str]:
        return [e for e in self.console_errors if not _HARMLESS.search(e)]

    def screenshot(self, name: str) -> Path:
        """The whole main area (Streamlit scrolls inside its own container: grow the viewport to fit)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        height = self.page.evaluate(
            "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
            " return m ? m.scrollHeight : document.body.scrollHeight; }")
        self.page.set_viewport_size({"width": VIEWPORT["width"],
                                     "height": max(VIEWPORT["height"], min(int(height) + 40, 12000))})
        # Charts re-render at the new size: wait until every chart's drawing is as wide as its container
        # (a condition, not a fixed pause: on a busy machine that takes a second or more).
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
            ".every(c => { const s = c.querySelector('.main-svg'); if (!s) return false;"
            " const w = s.getBoundingClientRect().width; return w > 0 && Math.abs(w - c.getBoundingClientRect().width) < 3; })",
            timeout=patience(ACTION_TIMEOUT_MS))
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        self.page.set_viewport_size(VIEWPORT)
        return path
