"""Real-browser fixtures: one Streamlit server and one Chromium for the whole test session.

Chromium is Debian's (``apt-get install -y chromium``), driven by Playwright
for Python with ``executable_path`` (never ``playwright install``: it downloads
a browser). When Chromium or Playwright is missing the browser tests skip with
the reason — unless ``EXPLAINER_REQUIRE_E2E=1`` (set by ``.ci/run``), where
that is a failure. Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench.server import StreamlitServer, weights_dir
from bench.stclient import StreamlitSession
from tests.e2e.helpers import (
    ACTION_TIMEOUT_MS,
    ARTIFACTS,
    CHROMIUM_ARGS,
    VIEWPORT,
    Tab,
    chromium_path,
    patience,
    unavailable,
)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for all browser tests."""
    executable = chromium_path()
    if executable is None:
        unavailable("Chromium not found: apt-get install -y chromium (or set EXPLAINER_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed: pip install -r requirements-dev.txt")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    except Exception as error:  # noqa: BLE001 - any launch failure means no browser
        playwright.stop()
        unavailable(f"Chromium at {executable} did not start: {error}")
    new_context = chromium.new_context

    def patient_context(*args, **kwargs):
        """Every test's browser context waits by default as long as the machine's load asks (helpers.patience)."""
        context = new_context(*args, **kwargs)
        context.set_default_timeout(patience(ACTION_TIMEOUT_MS))
        return context

    chromium.new_context = patient_context
    yield chromium
    chromium.close()
    playwright.stop()


async def _open_root(base_url: str) -> None:
    async with StreamlitSession(base_url) as session:
        await session.open("", "en")


@pytest.fixture(scope="session")
def app_server(browser):
    """``streamlit run app.py`` on 127.0.0.1:<free port> (real weights when present), stopped by PID."""
    with StreamlitServer(log_path=ARTIFACTS / "e2e-streamlit.log") as server:
        # Open the entry page once, as the lecturer does before class, so `st.navigation`
        # has run; test_deep_link_on_fresh_server covers the other order.
        # (In a thread: Playwright's sync API owns this thread's event loop.)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _open_root(server.base_url)).result(timeout=120)
        yield server


@pytest.fixture(scope="session")
def real_weights() -> Path:
    folder = weights_dir()
    if folder is None or not (folder / "mobilenet_v2.pth").is_file():
        unavailable("real ImageNet weights not found: set EXPLAINER_WEIGHTS_DIR to a folder with mobilenet_v2.pth")
    return folder


@pytest.fixture
def tab(browser, app_server):
    """A fresh browser context (so a fresh Streamlit session) per test; console errors are collected."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(patience(ACTION_TIMEOUT_MS))
    yield Tab(page=page, base_url=app_server.base_url).watch_console()
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test's report also says what its tabs showed at that moment (the script state and the
    start of the main area's text), so a failure seen only in CI's log can be read without its screenshots."""
    report = yield
    if call.when == "call" and report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, Tab):
                try:
                    shown = value.page.evaluate(
                        "() => { const a = document.querySelector('[data-testid=\"stApp\"]'),"
                        " m = document.querySelector('[data-testid=\"stMainBlockContainer\"]');"
                        " return `url: ${location.href}\\nscript: ${a && a.dataset.testScriptState}\\n`"
                        " + (m ? m.innerText : document.body.innerText).slice(0, 3000); }")
                except Exception as error:  # noqa: BLE001 - the page may be gone; say so instead
                    shown = f"(page not readable: {error})"
                report.sections.append((f"what the tab {name!r} showed", shown))
    return report
