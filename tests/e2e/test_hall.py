"""The Lecture page in a real Chromium: a lecturer and two students (a 390×844 phone, and one in 中文) in one
room. The step change is followed, a question answered, results hidden until revealed, the revealed histogram
shows the true value, presenter mode is readable; the lecturer key is never on a student's page or URL.

The server is the session's (tests/e2e/conftest.py) with the default store; the test reads the same database
through the core to check what was counted. Screenshots: test-artifacts/screenshots/hall_*.png.
"""

from __future__ import annotations

import re
import time

import pytest

from explainer.costs import depthwise_separable
from explainer.i18n import t
from explainer.lecture.rooms import Lecture
from tests.e2e.helpers import SCREENSHOTS, Tab, patience, require_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FOLLOW_TIMEOUT_MS = 30_000  # the machine is shared: generous; the time actually taken is printed
PHONE = {"width": 390, "height": 844}


def _new_tab(browser, app_server, viewport=None, locale="en-US") -> Tab:
    context = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(FOLLOW_TIMEOUT_MS)
    return Tab(page=page, base_url=app_server.base_url).watch_console()


def _click(tab: Tab, name: str) -> None:
    tab.page.get_by_role("button", name=re.compile(rf"^\s*{re.escape(name)}\s*$")).first.click()


def _wait_text(tab: Tab, text: str, timeout: int = FOLLOW_TIMEOUT_MS) -> float:
    """Wait until ``text`` is in the main area; the seconds it took."""
    start = time.monotonic()
    tab.page.wait_for_function(
        "s => (document.querySelector('[data-testid=\"stMainBlockContainer\"]') || {innerText: ''}).innerText"
        ".includes(s)", arg=text, timeout=timeout)
    return time.monotonic() - start


def _main(tab: Tab) -> str:
    return tab.page.locator('[data-testid="stMainBlockContainer"]').inner_text()


def test_a_lecture_with_two_students(browser, app_server):
    require_page("lecture")
    lecturer = _new_tab(browser, app_server)
    phone = _new_tab(browser, app_server, PHONE)
    chinese = _new_tab(browser, app_server, PHONE | {"width": 800}, locale="zh-CN")
    try:
        # the lecturer creates a room
        lecturer.open("lecture", "en")
        lecturer.page.get_by_text(t("hall.mode_teach", "en")).click()
        _click(lecturer, t("hall.create", "en"))
        _wait_text(lecturer, t("hall.join_link", "en"))
        code = lecturer.page.locator('[data-testid="stMetricValue"]').first.inner_text().strip()
        assert re.fullmatch(r"[A-Z2-9]{6}", code)
        lecturer.page.get_by_text(t("hall.key", "en")).first.click()
        key = lecturer.page.locator('[data-testid="stExpander"] [data-testid="stCode"]').last.inner_text().strip()
        assert len(key) >= 32
        join = lecturer.page.locator('[data-testid="stMainBlockContainer"] [data-testid="stCode"]').first \
            .inner_text().strip()
        assert join.endswith(f"/lecture?room={code}") and key not in join

        # two students join by the link
        for tab, lang in ((phone, "en"), (chinese, "zh")):
            tab.page.goto(f"{app_server.base_url}/lecture?room={code}" + ("&lang=zh" if lang == "zh" else ""))
            tab.wait_idle()
            _click(tab, t("hall.join", lang))
            _wait_text(tab, t("hall.step_why_title", lang))

        # the lecturer moves on: both phones follow by themselves
        _click(lecturer, t("hall.next", "en"))
        _wait_text(lecturer, t("hall.step_family_title", "en"))
        _click(lecturer, t("hall.next", "en"))
        _wait_text(lecturer, t("hall.step_separable_title", "en"))
        followed = [_wait_text(phone, t("hall.step_separable_title", "en")),
                    _wait_text(chinese, t("hall.step_separable_title", "zh"))]
        print(f"step change followed after {followed[0]:.1f} s / {followed[1]:.1f} s (machine shared)")

        # a question: opened, answered on both phones, counted once each
        _click(lecturer, t("hall.ask", "en"))
        truth = depthwise_separable(3, 32, 64, 112).macs
        for tab, lang, value in ((phone, "en", "3e7"), (chinese, "zh", "25,000,000")):
            _wait_text(tab, t("hall.send", lang))
            box = tab.page.locator('[data-testid="stTextInput"] input').last
            box.fill(value)
            _click(tab, t("hall.send", lang))
            _wait_text(tab, t("hall.answered_as", lang, value="").split("：")[0].split(":")[0])
        lecture = Lecture()
        assert lecture.answered(code, "dsc_macs", 1) == 2
        _wait_text(lecturer, t("hall.answered", "en", n=2))
        phone.page.screenshot(path=str(SCREENSHOTS / "hall_phone_answered.png"))

        # closed: results still hidden from students
        _click(lecturer, t("hall.close", "en"))
        _wait_text(phone, t("hall.closed", "en"))
        assert phone.page.locator('[data-testid="stPlotlyChart"]').count() == 0

        # revealed: the histogram with the true value, on the projector and on the phones
        _click(lecturer, t("hall.reveal", "en"))
        label = f"{t('hall.true_value', 'en')}: {truth:,}"
        lecturer.page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=patience(FOLLOW_TIMEOUT_MS))
        lecturer.page.wait_for_function(
            "s => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .annotation-text')]"
            ".some(e => e.textContent.includes(s))", arg=label, timeout=patience(FOLLOW_TIMEOUT_MS))
        for tab, lang in ((phone, "en"), (chinese, "zh")):
            tab.page.wait_for_function(
                "s => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .annotation-text')]"
                ".some(e => e.textContent.includes(s))", arg=f"{t('hall.true_value', lang)}: {truth:,}",
                timeout=patience(FOLLOW_TIMEOUT_MS))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        phone.page.screenshot(path=str(SCREENSHOTS / "hall_phone_revealed.png"))
        chinese.page.screenshot(path=str(SCREENSHOTS / "hall_zh_revealed.png"))

        # the key never reaches a student (page text, HTML, URL)
        for tab in (phone, chinese):
            assert key not in tab.page.content() and key not in tab.page.url
            assert tab.exceptions() == [] and tab.real_console_errors() == []

        # presenter mode on the projector: larger numbers
        value = lecturer.page.locator('[data-testid="stMetricValue"]').first
        normal = float(value.locator("p").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
        lecturer.page.locator('[data-testid="stSidebar"]').get_by_text(t("share.presenter", "en")).click()
        lecturer.page.wait_for_function(
            "px => parseFloat(getComputedStyle(document.querySelector('[data-testid=\"stMetricValue\"] p')).fontSize)"
            " > px", arg=max(40.0, normal * 1.3), timeout=patience(FOLLOW_TIMEOUT_MS))
        lecturer.wait_idle()
        lecturer.page.screenshot(path=str(SCREENSHOTS / "hall_projector.png"), full_page=True)
        assert lecturer.exceptions() == []
        lecture.delete(code, key)
    finally:
        for tab in (lecturer, phone, chinese):
            tab.page.context.close()
