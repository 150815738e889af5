"""The figure export's server side and the handout view through app.py (AppTest); the browser side (downloads,
print, PDF) is tested in tests/e2e/test_figure_export.py."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from explainer.i18n import t
from pages.figure_export import HANDOUT_CSS, HANDOUT_WIDTH_PX, PRINT_MARGIN_MM, export_html, export_script
from tests.test_links_and_share import open_link

KEYS = ("png", "svg", "label", "failed", "handout", "handout_help", "print", "leave", "handout_note")


def test_the_script_survives_streamlits_sanitiser() -> None:
    # st.html runs DOMPurify (SAFE_FOR_XML) before it runs a script: a <script> whose text holds "<" followed by a
    # letter or "/" is dropped silently (no error anywhere) — the first version of this script was.
    html = export_html("zh")
    script = html.split("<script>", 1)[1].rsplit("</script>", 1)[0]
    assert re.search(r"<[/\w]", script) is None
    assert script.count("window.__fxInstalled") >= 2 and export_script().strip() in script


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_the_export_line_speaks_the_session_language(lang: str) -> None:
    html = export_html(lang)
    config = json.loads(re.search(r"window\.__fxConfigNext = (\{.*?\});", html).group(1))
    assert config == {key: t(f"figures_export.{key}", lang) for key in ("png", "svg", "label", "failed")}
    for key in KEYS:
        assert t(f"figures_export.{key}", lang).strip()
    if lang == "zh":
        assert all(re.search(r"[\u4e00-\u9fff]", t(f"figures_export.{k}", "zh")) for k in KEYS if k not in ("png", "svg"))


def test_print_styles_fit_a4_and_letter() -> None:
    # the handout's content width fits both sheets less the print margins, at CSS's 96 px per inch
    mm = 96 / 25.4
    a4, letter = (210 - 2 * PRINT_MARGIN_MM) * mm, (8.5 * 25.4 - 2 * PRINT_MARGIN_MM) * mm
    assert HANDOUT_WIDTH_PX <= min(a4, letter)
    assert f"{HANDOUT_WIDTH_PX}px" in HANDOUT_CSS and "@media print" in export_html("en")


def test_handout_view_comes_with_a_link_and_goes_back() -> None:
    at = open_link("cost", handout="true", dk="5")
    assert at.toggle(key="handout").value is True
    assert any(h.proto.body == HANDOUT_CSS.strip() for h in at.get("html"))
    # the print button is a plain browser button (window.print()); it holds the locale's text
    buttons = [h.proto.body for h in at.get("html") if "fx-print" in h.proto.body and "<button" in h.proto.body]
    assert len(buttons) == 1 and t("figures_export.print", "en") in buttons[0]
    assert at.select_slider(key="dk").value == 5  # the page's own settings are unchanged
    at.button(key="fx_handout_exit").click().run()
    assert at.toggle(key="handout").value is False
    assert not any(h.proto.body == HANDOUT_CSS.strip() for h in at.get("html"))
    assert not [b for b in at.button if b.key == "fx_handout_exit"]


def test_normal_view_has_no_handout_bar() -> None:
    at = open_link("cost", lang="zh")
    assert at.toggle(key="handout").value is False
    assert not [b for b in at.button if b.key == "fx_handout_exit"]
    assert t("figures_export.handout", "zh") in at.toggle(key="handout").label
