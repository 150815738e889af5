"""What a student sees, in a real Chromium: every page, both languages, the real widgets.

Run alone with ``python -m pytest tests/e2e -q`` (about a minute or two);
screenshots land in ``test-artifacts/screenshots/`` — look at them.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from bench.server import StreamlitServer
from bench.stclient import StreamlitSession
from explainer.i18n import LANGUAGES, t
from tests.e2e.helpers import ARTIFACTS, LANGS, PAGES, RENDER_TIMEOUT_MS, Tab, patience, require_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CJK = re.compile(r"[\u4e00-\u9fff]")


def _expected(photos_dir: Path, name: str) -> list[str]:
    return json.loads((photos_dir / "expected.json").read_text())[name]["top5_any"]


def _assert_clean(tab: Tab, what: str) -> None:
    assert tab.exceptions() == [], f"{what}: the page shows an exception"
    assert tab.real_console_errors() == [], f"{what}: console errors"


def _title(tab: Tab) -> str:
    heading = tab.page.locator('[data-testid="stMainBlockContainer"] h1').first
    heading.wait_for()
    return heading.inner_text()


# --- every page, both languages ------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("url_path", list(PAGES))
def test_page_renders_without_errors(tab: Tab, url_path: str, lang: str) -> None:
    require_page(url_path)
    tab.open(url_path, lang)
    page = tab.page
    # The page is the one asked for, in the language asked for.
    title = _title(tab)
    assert title.strip(), f"{url_path}: no title"
    if lang == "zh":
        assert CJK.search(title), f"{url_path}?lang=zh shows an untranslated title {title!r}"
    else:
        assert not CJK.search(title), f"{url_path}?lang=en shows a Chinese title {title!r}"
    # The sidebar has the language switch showing this language and one link per page of the app.
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.locator('[data-testid="stSelectbox"] input').first.input_value() == LANGUAGES[lang]
    links = sidebar.locator('[data-testid="stSidebarNavLink"]')
    shown = {(links.nth(i).get_attribute("href") or "").split("?")[0].rstrip("/").rsplit("/", 1)[-1]
             for i in range(links.count())}
    built = {path for path, script in PAGES.items() if (Path(__file__).parents[2] / script).is_file()}
    assert built - {"home"} <= shown, f"navigation links {sorted(shown)} miss some of {sorted(built)}"
    assert t(f"nav.{url_path}", lang) in sidebar.inner_text()
    # Charts really drew (plotly) and images really loaded.
    for chart in page.locator('[data-testid="stPlotlyChart"]').all():
        chart.locator(".main-svg").first.wait_for(state="attached")
    for image in page.locator('[data-testid="stImage"] img').all():
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "an image did not load"
    tab.screenshot(f"{url_path}_{lang}")
    _assert_clean(tab, f"{url_path}?lang={lang}")


def test_sidebar_language_switch_translates_the_page(tab: Tab) -> None:
    """Choosing 简体中文 in the sidebar (not the URL) turns the page Chinese, and back."""
    tab.open("cost", "en")
    assert _title(tab) == t("cost.title", "en")
    for lang in ("zh", "en"):
        switch = tab.page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"] input').first
        switch.click()
        tab.page.get_by_role("option", name=LANGUAGES[lang], exact=True).click()
        tab.page.locator('[data-testid="stMainBlockContainer"] h1').filter(
            has_text=t("cost.title", lang)).first.wait_for()
        tab.wait_idle()
        assert _title(tab) == t("cost.title", lang)
        assert t("nav.classify", lang) in tab.page.locator('[data-testid="stSidebar"]').inner_text()
        metric_label = tab.page.locator('[data-testid="stMetricLabel"]').first.inner_text()
        assert t("cost.standard", lang) in metric_label
    _assert_clean(tab, "cost page after switching the language twice")


def test_deep_link_on_fresh_server_runs_the_app(browser) -> None:
    """The first student of the day follows a link straight to a page (not the home page).

    Streamlit decides at start-up whether an app has a v1 ``pages/`` folder; until
    ``st.navigation`` has run once it would run ``pages/<x>.py`` *alone* (no
    ``app.py``: no language switch, every file in ``pages/`` listed as a page).
    """
    with StreamlitServer(log_path=ARTIFACTS / "e2e-fresh-streamlit.log") as server:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.goto(f"{server.base_url}/cost?lang=zh")
            tab = Tab(page=page, base_url=server.base_url)
            tab.wait_idle()
            sidebar = page.locator('[data-testid="stSidebar"]')
            from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

            # The first run may be the legacy one that reruns itself through app.py: wait for that rerun.
            try:
                sidebar.locator('[data-testid="stSelectbox"]').first.wait_for(timeout=patience(RENDER_TIMEOUT_MS))
            except PlaywrightTimeoutError:
                pytest.fail("deep link on a fresh server: app.py did not run (no language switch in the sidebar)")
            tab.wait_idle()
            assert sidebar.locator('[data-testid="stSelectbox"]').count() == 1
            names = sidebar.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()
            assert t("nav.cost", "zh") in " ".join(names), f"navigation shows {names}"
            assert not any(name.strip() in ("ui", "app", "image_input") for name in names), \
                f"helper modules listed as pages: {names}"
        finally:
            context.close()


# --- Cost calculator -----------------------------------------------------------


def _cost_widgets(tab: Tab, lang: str) -> dict[str, int]:
    page = tab.page

    def slider_value(label_key: str) -> int:
        slider = page.locator('[data-testid="stSlider"]').filter(has_text=t(label_key, lang)).first
        return int(slider.locator('[data-testid="stSliderThumbValue"]').inner_text().replace(",", ""))

    def number(label_key: str) -> int:
        box = page.locator('[data-testid="stNumberInput"]').filter(has_text=t(label_key, lang)).first
        return int(float(box.locator("input").input_value()))

    stride_box = page.locator('[data-testid="stRadio"]').filter(has_text=t("cost.stride", lang)).first
    stride = int(stride_box.locator('[data-testid="stRadioOption"][data-selected="true"]').inner_text().strip())
    values = {"d_k": slider_value("cost.d_k"), "d_f": slider_value("cost.d_f"), "m": number("cost.m"),
              "n": number("cost.n"), "s": stride}
    for key in ("cost.alpha", "cost.rho"):  # multipliers at 1: M, N, D_F are used as shown
        box = page.locator('[data-testid="stNumberInput"]').filter(has_text=t(key, lang)).first
        assert float(box.locator("input").input_value()) == 1.0
    return values


def _standard_macs_shown(tab: Tab) -> int:
    return int(tab.page.locator('[data-testid="stMetricValue"]').first.inner_text().replace(",", ""))


@pytest.mark.parametrize("lang", LANGS)
def test_cost_slider_changes_the_macs(tab: Tab, lang: str) -> None:
    tab.open("cost", lang)
    before = _cost_widgets(tab, lang)
    shown_before = _standard_macs_shown(tab)

    def standard_macs(v: dict[str, int]) -> int:  # D_K²·M·N·D_G², D_G = ceil(D_F / s) ("same" padding)
        d_g = -(-v["d_f"] // v["s"])
        return v["d_k"] ** 2 * v["m"] * v["n"] * d_g ** 2

    assert shown_before == standard_macs(before)
    # Move the D_F slider with the keyboard, as a student would with the arrow keys.
    slider = tab.page.locator('[data-testid="stSlider"]').filter(has_text=t("cost.d_f", lang)).first
    slider.locator('input[type="range"]').focus()
    for _ in range(8):
        tab.page.keyboard.press("ArrowRight")
    thumb = slider.locator('[data-testid="stSliderThumbValue"]')
    tab.page.wait_for_function("([el, want]) => el.innerText.trim() === want",
                               arg=[thumb.element_handle(), str(before["d_f"] + 8)], timeout=patience(10_000))
    expected = standard_macs({**before, "d_f": before["d_f"] + 8})
    # The keys may arrive over several reruns: wait for the value of the last one.
    tab.wait_metric(f"{expected:,}", first=True, timeout_ms=30_000)
    tab.wait_idle()
    after = _cost_widgets(tab, lang)
    assert after["d_f"] == before["d_f"] + 8
    assert _standard_macs_shown(tab) == standard_macs(after) == expected != shown_before
    tab.screenshot(f"cost_after_slider_{lang}")
    _assert_clean(tab, "cost page after moving D_F")


# --- Architectures ---------------------------------------------------------------


def _metric_millions(tab: Tab, index: int) -> float:
    text = tab.page.locator('[data-testid="stMetricValue"]').nth(index).inner_text()
    return float(text.replace(",", "").replace("M", "").strip())


@pytest.mark.parametrize("lang", LANGS)
def test_architectures_choosing_v1_shows_the_papers_totals(tab: Tab, lang: str) -> None:
    """MobileNetV1 1.0-224 in the paper (Howard et al. 2017, Table 8): 569 M mult-adds, 4.2 M parameters."""
    require_page("architectures")
    tab.open("architectures", lang)
    before = tab.page.locator('[data-testid="stMetricValue"]').first.inner_text()
    box = tab.page.locator('[data-testid="stMainBlockContainer"] [data-testid="stSelectbox"]').filter(
        has_text=t("arch.model", lang)).first
    box.locator("input").click()
    tab.page.get_by_role("option", name="MobileNetV1", exact=True).click()
    tab.page.wait_for_function(
        "old => { const m = document.querySelector('[data-testid=\"stMetricValue\"]');"
        " return m && m.innerText !== old; }", arg=before, timeout=patience(30_000))
    tab.wait_idle()
    assert abs(_metric_millions(tab, 0) - 569) < 1.0
    assert abs(_metric_millions(tab, 1) - 4.2) < 0.05
    tab.screenshot(f"architectures_v1_{lang}")
    _assert_clean(tab, "architectures after choosing MobileNetV1")


# --- Classify --------------------------------------------------------------------


def _choose_upload(tab: Tab, lang: str) -> None:
    tab.page.get_by_text(t("images.source_upload", lang), exact=True).first.click()
    tab.page.locator('[data-testid="stFileUploader"] input[type="file"]').first.wait_for(state="attached")
    tab.wait_idle()


def _upload(tab: Tab, path_or_payload) -> None:
    tab.page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(path_or_payload)


@pytest.mark.parametrize("lang", LANGS)
def test_classify_uploaded_cat(tab: Tab, lang: str, real_weights: Path, photos_dir: Path) -> None:
    require_page("classify")
    from explainer.labels import imagenet_label, imagenet_labels

    english = imagenet_labels("en")  # the page shows the class names in the UI's language
    accepted = [imagenet_label(english.index(name), lang) for name in _expected(photos_dir, "cat.jpg")]
    tab.open("classify", lang)
    _choose_upload(tab, lang)
    main = tab.page.locator('[data-testid="stMainBlockContainer"]')
    shown = main.inner_text()
    assert not any(label in shown for label in accepted), "a cat label is shown before anything was uploaded"
    _upload(tab, photos_dir / "cat.jpg")
    pattern = "|".join(re.escape(label) for label in accepted)
    tab.page.wait_for_function(
        "re => new RegExp(re).test(document.querySelector('[data-testid=\"stMainBlockContainer\"]').innerText)",
        arg=pattern, timeout=patience(120_000))
    tab.wait_idle()
    tab.screenshot(f"classify_cat_{lang}")
    _assert_clean(tab, "classify after uploading cat.jpg")


BROKEN = {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": b"this is a text file, not a photo\n" * 20}


@pytest.mark.parametrize(("url_path", "lang"), [("classify", "en"), ("classify", "zh"), ("feature_maps", "zh")])
def test_broken_upload_shows_the_friendly_message(tab: Tab, url_path: str, lang: str) -> None:
    require_page(url_path)
    from explainer.errors import ImageError
    from explainer.images import load_image

    with pytest.raises(ImageError) as caught:
        load_image(BROKEN["buffer"], BROKEN["name"])
    message = caught.value.message(lang)
    tab.open(url_path, lang)
    _choose_upload(tab, lang)
    _upload(tab, BROKEN)
    alert = tab.page.locator('[data-testid="stAlert"]').filter(has_text=message).first
    alert.wait_for(timeout=patience(60_000))
    tab.wait_idle()
    tab.screenshot(f"{url_path}_broken_upload_{lang}")
    _assert_clean(tab, f"{url_path} after a broken upload")


# --- Feature maps --------------------------------------------------------------------


def _labelled(tab: Tab, testid: str, label: str):
    """The widget ``testid`` whose label is exactly ``label``."""
    exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
    return tab.page.locator(f'[data-testid="{testid}"]').filter(
        has=tab.page.locator('[data-testid="stWidgetLabel"]').filter(has_text=exact)).first


def _grid_drawn(tab: Tab, title: str) -> None:
    """A plotly chart titled ``title`` shows a picture (the channel mosaic) of real size."""
    tab.page.wait_for_function(
        "title => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')].some(c => {"
        " const img = c.querySelector('.main-svg image');"
        " return c.textContent.includes(title) && img && img.getBoundingClientRect().width > 100"
        " && (img.getAttribute('href') || img.getAttribute('xlink:href') || '').startsWith('data:image/png'); })",
        arg=title, timeout=patience(60_000))


@pytest.mark.parametrize("lang", LANGS)
def test_feature_maps_choosing_a_block_renders_its_grid(tab: Tab, lang: str, real_weights: Path) -> None:
    """MobileNetV2 (paper, Table 2): block 3 keeps 56×56 (24 → 144 channels expanded); block 4 starts the
    "t = 6, c = 32, s = 2" stage, so its depthwise output is 28×28×144."""
    require_page("feature_maps")
    tab.open("feature_maps", lang)

    def title(shape: str) -> str:
        return t("features.grid_title", lang, stage=t("features.stage_depthwise", lang), shape=shape, k=16, c=144)

    _grid_drawn(tab, title("56×56×144"))  # the default: block 3, its depthwise stage, 16 channels
    block = _labelled(tab, "stSlider", t("features.block", lang))
    assert block.locator('[data-testid="stSliderThumbValue"]').inner_text().strip() == "3"
    block.locator('input[type="range"]').focus()
    tab.page.keyboard.press("ArrowRight")
    _grid_drawn(tab, title("28×28×144"))
    tab.wait_idle()
    assert block.locator('[data-testid="stSliderThumbValue"]').inner_text().strip() == "4"
    tab.screenshot(f"feature_maps_block4_{lang}")
    _assert_clean(tab, "feature maps after choosing block 4")


# --- the load test's protocol client is faithful ------------------------------------


def test_protocol_students_classify_their_own_photos(app_server, real_weights: Path, photos_dir: Path) -> None:
    """Four protocol-level students at once (bench/loadtest.py's client): every one sees its own photo's labels.

    The load-test figures are only worth something if the client really uploads
    and really gets the classification back; this checks it on every photo.
    """
    require_page("classify")
    from concurrent.futures import ThreadPoolExecutor

    from bench.loadtest import shared_photos, student

    photos = shared_photos()

    async def crowd():
        return await asyncio.gather(*(student(app_server.base_url, i, photo, lang, 0.0)
                                      for i, (photo, lang) in enumerate(zip(photos, ("en", "zh", "en", "zh")))))

    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's sync API owns this thread's loop
        outcomes = pool.submit(asyncio.run, crowd()).result(timeout=300)
    assert [o.error for o in outcomes] == [""] * len(photos)
    assert all(o.ok and o.result_s > 0 for o in outcomes)
