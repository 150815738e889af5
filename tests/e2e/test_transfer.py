"""Browser test of "Teach it new classes": upload ant and bee photos for two classes, train, see the hold-out
accuracy and the curve, classify a photo the head has never seen (with its class-activation map)."""

from __future__ import annotations

import pytest

from explainer.i18n import t
from tests.e2e.helpers import ROOT, Tab, patience, require_page

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
        tab.after_rerun(lambda: box.press("Enter"))  # then upload: not while that run rebuilds the uploaders
        uploader = page.locator('[data-testid="stFileUploader"]').nth(1 + i)  # after the zip uploader
        uploader.locator('input[type="file"]').set_input_files([str(p) for p in _photos(cls)[:PER_CLASS]])
        page.wait_for_function(
            "([text, n]) => [...document.querySelectorAll('[data-testid=\"stCaptionContainer\"]')]"
            ".filter(e => e.innerText.trim() === text).length >= n",
            arg=[t("transfer.count", lang, n=PER_CLASS), i + 1], timeout=patience(120_000))
        tab.wait_idle()
    page.get_by_role("button", name=t("transfer.train_button", lang), exact=True).click()
    metric = page.locator('[data-testid="stMetricValue"]').first
    metric.wait_for(timeout=patience(180_000))
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
                           ".includes(text)", arg=expected.split("(")[0].split("（")[0].strip(), timeout=patience(120_000))
    tab.wait_idle()
    tab.screenshot(f"transfer_trained_{lang}")
    assert tab.exceptions() == [] and tab.real_console_errors() == []


def _status_mb(pid: int, field: str) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


@pytest.mark.e2e
@pytest.mark.slow
def test_zip_of_the_demo_folder_through_the_server(tab: Tab, app_server, real_weights, tmp_path) -> None:
    """Issue 25: the demo set's own folder zipped (27 MB) was refused by the server's 20 MB limit. Through the real
    upload endpoint it is taken in (64 MB for this uploader; the photo uploaders still say 20 MB, in 中文 too), and
    the server's peak memory grows within the upload budget (VmHWM over the RSS before, as tests/test_hostile.py)."""
    import zipfile

    from tests.test_hostile import LIMIT_MB

    require_page("transfer")
    if not (DEMO / "ants").is_dir():
        pytest.skip(f"the shared ants/bees photos are not in {DEMO}")
    archive = tmp_path / "train.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for file in sorted(DEMO.rglob("*")):
            if file.is_file():
                zipped.write(file, f"train/{file.relative_to(DEMO)}")
    assert archive.stat().st_size > 20 * 2**20
    tab.open("transfer", "zh")
    page = tab.page
    uploaders = page.locator('[data-testid="stFileUploader"]')
    size_line = ("e => getComputedStyle(e.querySelector('[data-testid=\"stFileUploaderDropzoneInstructions\"] > div'),"
                 " '::after').content")
    assert "64 MB" in uploaders.first.evaluate(size_line)
    assert "20 MB" in uploaders.nth(1).evaluate(size_line)
    pid = app_server.pid
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as handle:
            handle.write("5")  # VmHWM := the current RSS
    except OSError:
        pass
    before = _status_mb(pid, "VmRSS")
    uploaders.first.locator('input[type="file"]').set_input_files(str(archive))
    counts = [t("transfer.count", "zh", n=123), t("transfer.count", "zh", n=121)]  # one unreadable ant skipped
    page.wait_for_function(
        "texts => texts.every(t => [...document.querySelectorAll('[data-testid=\"stCaptionContainer\"]')]"
        ".some(e => e.innerText.trim() === t))", arg=counts, timeout=patience(300_000))
    tab.wait_idle(300_000)
    growth = _status_mb(pid, "VmHWM") - before
    print(f"server peak RSS growth for the {archive.stat().st_size / 2**20:.1f} MB zip: {growth:.0f} MB")
    assert page.locator('[data-testid="stFileChip"][aria-invalid="true"]').count() == 0  # not refused
    assert tab.exceptions() == [] and not page.locator('[data-testid="stAlertContentError"]').count()
    assert growth < LIMIT_MB
