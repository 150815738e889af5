"""Browser test of "Teach it new classes": upload ant and bee photos for two classes, train, see the hold-out
accuracy and the curve, classify a photo the head has never seen (with its class-activation map)."""

from __future__ import annotations

import pytest

from explainer.i18n import t
from tests.e2e.helpers import ROOT, Tab, require_page

DEMO = ROOT.parent / "shared" / "datasets" / "ants_bees" / "train"
PER_CLASS = 6

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # it drives Chromium: `-m "not e2e"` must leave it out


def _photos(cls: str) -> list:
    return sorted(p for p in (DEMO / cls).iterdir() if p.suffix == ".jpg")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_upload_two_classes_train_and_classify(tab: Tab, lang: str, real_weights) -> None:
    require_page("transfer")
    if not (DEMO / "ants").is_dir():
        pytest.skip(f"the shared ants/bees photos are not in {DEMO}")
    tab.open("transfer", lang)
    page = tab.page
    names = ("ants", "bees") if lang == "en" else ("蚂蚁", "蜜蜂")
    for i, (cls, name) in enumerate(zip(("ants", "bees"), names)):
        box = page.get_by_label(t("transfer.class_name", lang, k=i + 1), exact=True)
        box.fill(name)
        box.press("Enter")
        tab.wait_idle()
        uploader = page.locator('[data-testid="stFileUploader"]').nth(1 + i)  # after the zip uploader
        uploader.locator('input[type="file"]').set_input_files([str(p) for p in _photos(cls)[:PER_CLASS]])
        page.wait_for_function(
            "([text, n]) => [...document.querySelectorAll('[data-testid=\"stCaptionContainer\"]')]"
            ".filter(e => e.innerText.trim() === text).length >= n",
            arg=[t("transfer.count", lang, n=PER_CLASS), i + 1], timeout=120_000)
        tab.wait_idle()
    page.get_by_role("button", name=t("transfer.train_button", lang), exact=True).click()
    metric = page.locator('[data-testid="stMetricValue"]').first
    metric.wait_for(timeout=180_000)
    tab.wait_idle(180_000)
    accuracy = float(metric.inner_text().split()[0])
    assert 0.0 <= accuracy <= 100.0
    assert page.locator('[data-testid="stMetricValue"]').nth(1).inner_text() == f"{2 * (PER_CLASS - 1)} / 2"
    main = page.locator('[data-testid="stMainBlockContainer"]')
    assert t("transfer.curve_title", lang) in main.inner_text() or page.locator(".gtitle").filter(
        has_text=t("transfer.curve_title", lang)).count() == 1
    curve = page.locator('[data-testid="stPlotlyChart"]').first
    curve.locator(".main-svg").first.wait_for(state="attached")
    assert curve.locator(".scatterlayer .trace").count() >= 2  # loss + accuracy lines really drawn
    # Try it on a bee the head has never seen.
    uploaders = page.locator('[data-testid="stFileUploader"]').count()
    page.locator('[data-testid="stRadio"]').last.get_by_text(t("images.source_upload", lang), exact=True).click()
    page.wait_for_function("n => document.querySelectorAll('[data-testid=\"stFileUploader\"]').length > n",
                           arg=uploaders)
    tab.wait_idle()
    unseen = _photos("bees")[-1]
    page.locator('[data-testid="stFileUploader"]').last.locator('input[type="file"]').set_input_files(str(unseen))
    expected = t("transfer.cam_caption", lang, name=names[1], p="")
    page.wait_for_function("text => document.querySelector('[data-testid=\"stMainBlockContainer\"]').innerText"
                           ".includes(text)", arg=expected.split("(")[0].split("（")[0].strip(), timeout=120_000)
    tab.wait_idle()
    tab.screenshot(f"transfer_trained_{lang}")
    assert tab.exceptions() == [] and tab.real_console_errors() == []
