"""Lecture tools through app.py (AppTest): links that carry settings, the one-line notice for bad ones,
the share panel's link and QR code, presenter mode, and no server paths on the pages.

Moving a control in a real browser and the URL it writes are checked in tests/e2e/test_lecture_tools.py.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest

from explainer import architectures as arch
from explainer import costs
from explainer.errors import WeightsError
from explainer.i18n import t
from explainer.labels import imagenet_label, imagenet_labels
from pages.ui import fmt_millions

LANGS = ("en", "zh")
ROOT = Path(__file__).resolve().parent.parent


def open_link(page: str, lang: str = "en", timeout: float = 90, **params: str):
    """Follow a link ``/<page>?lang=<lang>&<params>`` through app.py, as a student's browser does."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    if lang != "en":
        at.query_params["lang"] = lang
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def macs_shown(at) -> list[int]:
    return [int(m.value.replace(",", "")) for m in at.metric[:3]]


def link_notices(at) -> list[str]:
    return [w.value for w in at.warning if "=" in w.value]


@pytest.mark.parametrize("lang", LANGS)
def test_cost_link_opens_the_calculator_in_exactly_that_state(lang: str) -> None:
    at = open_link("cost", lang, dk="5", m="64", n="128", df="56", t="6", s="2")
    assert at.select_slider(key="dk").value == 5 and at.number_input(key="m").value == 64
    assert at.number_input(key="n").value == 128 and at.slider(key="df").value == 56
    assert at.slider(key="t").value == 6 and at.radio(key="s").value == 2
    assert at.number_input(key="alpha").value == 1.0 and at.number_input(key="rho").value == 1.0
    # D_K²·M·N·D_G² with D_G = ceil(56 / 2) = 28: 25·64·128·784
    assert macs_shown(at)[0] == 5 * 5 * 64 * 128 * 28 * 28 == 160_563_200
    expected = costs.compare(costs.CostInputs.checked(5, 64, 128, 56, 6, 2, 1.0, 1.0))
    assert macs_shown(at) == [expected.standard.macs, expected.separable.macs, expected.inverted.macs]
    assert not link_notices(at)


def test_cost_link_with_multipliers_reproduces_the_v1_table3_row() -> None:
    """The V1 paper's Table 3 layer with α = 0.75, ρ = 0.714 as a link: 15.1 M mult-adds (the preset's figure)."""
    at = open_link("cost", dk="3", m="512", n="512", df="14", t="1", s="1", alpha="0.75", rho="0.714")
    assert macs_shown(at)[1] == 15_091_200


@pytest.mark.parametrize("lang", LANGS)
def test_bad_link_settings_fall_back_with_one_line_in_the_users_language(lang: str) -> None:
    at = open_link("cost", lang, dk="4", m="abc", alpha="0.75", df="99999")
    notices = link_notices(at)
    assert len(notices) == 1 and "\n" not in notices[0]
    # in the link's order; alpha=0.75 was good and taken
    assert notices[0] == t("url.rejected", lang, params="`dk=4`, `m=abc`, `df=99999`")  # as code text
    assert at.select_slider(key="dk").value == 3 and at.number_input(key="m").value == 32
    assert at.number_input(key="alpha").value == 0.75


def test_preset_writes_its_values_into_the_url() -> None:
    at = open_link("cost")
    at.button(key="preset_v1_table3_alpha").click().run()
    # Values equal to the defaults (D_K = 3, stride 1, ρ = 1) are left out of the URL.
    assert dict(at.query_params) == {"m": "512", "n": "512", "df": "14", "t": "1", "alpha": "0.75"}


@pytest.mark.parametrize("lang", LANGS)
def test_architectures_link(lang: str) -> None:
    at = open_link("architectures", lang, model="mobilenet_v1", w="0.75", res="160", layer="b3.dw")
    assert at.selectbox(key="model").value == "mobilenet_v1"
    assert at.select_slider(key="w").value == 0.75 and at.select_slider(key="res").value == 160
    assert at.selectbox(key="layer").value == "b3.dw"
    network = arch.build_network("mobilenet_v1", 0.75, 160)
    assert at.metric[0].value == fmt_millions(network.macs)
    assert not link_notices(at)
    assert dict(at.query_params).get("model") == "mobilenet_v1"  # a code, never the (translated) label


def test_architectures_link_with_an_unknown_model() -> None:
    at = open_link("architectures", "zh", model="resnet50", w="0.5")
    assert at.selectbox(key="model").value == "mobilenet_v2" and at.select_slider(key="w").value == 0.5
    notices = link_notices(at)
    assert len(notices) == 1 and "model=resnet50" in notices[0] and "w=" not in notices[0]


@pytest.mark.slow
def test_classify_link_in_chinese_shows_chinese_class_names_and_no_server_path(with_weights) -> None:
    at = open_link("classify", "zh", src="sample", sample="chelsea", model="mobilenet_v2")
    assert at.radio(key="classify_source").value == "sample"
    assert at.selectbox(key="classify_sample").value == "chelsea"
    assert at.selectbox(key="classify_model").value == "mobilenet_v2"
    chart = at.get("plotly_chart")[0]
    bars = json.loads(chart.proto.spec)["data"][0]
    names = list(bars["y"])
    english = [text.strip(" ()") for text in bars["customdata"]]
    assert all(imagenet_label(imagenet_labels("en").index(en), "zh") == zh for en, zh in zip(english, names))
    assert names[-1] in ("虎斑猫", "虎纹猫", "埃及猫")  # Chelsea the cat, most probable bar on top
    body = " ".join(str(e.value) for kind in ("markdown", "caption", "info", "warning", "error")
                    for e in at.get(kind))
    assert str(with_weights) not in body and "/" + with_weights.name + "/" not in body
    assert "mobilenet_v2.pth" in body  # the weights file is named, without its folder


@pytest.mark.slow
def test_feature_maps_link(with_weights) -> None:
    at = open_link("feature_maps", "en", sample="coffee", model="mobilenet_v2", block="5", stage="expand",
                   ch="99999")
    assert at.selectbox(key="features_sample").value == "coffee"
    assert at.select_slider(key="features_block_mobilenet_v2").value == 5
    assert at.radio(key="features_stage_mobilenet_v2_5").value == "expand"
    notices = link_notices(at)
    assert len(notices) == 1 and "ch=99999" in notices[0]  # not one of the offered channels


def test_share_panel_shows_the_link_and_its_qr_code(monkeypatch) -> None:
    zxingcpp = pytest.importorskip("zxingcpp", reason="pip install -r requirements-dev.txt (zxing-cpp)")
    from PIL import Image

    monkeypatch.setenv("EXPLAINER_PUBLIC_URL", "http://hall.example.edu:8501/")
    at = open_link("cost", "zh", dk="5", m="64")
    codes = [c.value for c in at.sidebar.get("code")]
    assert codes == ["http://hall.example.edu:8501/cost?lang=zh&dk=5&m=64"]

    def qr_images() -> list[str]:
        return [m.value for m in at.sidebar.markdown if "data:image/png;base64," in m.value]

    assert qr_images() == []  # drawn only on request (students' reruns never pay for it)
    at.toggle(key="share_qr").set_value(True).run()
    images = qr_images()
    assert len(images) == 1
    png = Image.open(io.BytesIO(base64.b64decode(images[0].split("base64,")[1].split('"')[0])))
    big = png.resize((png.width * 8, png.height * 8), Image.NEAREST)  # one pixel per module, as sent
    decoded = [r.text for r in zxingcpp.read_barcodes(big)]
    assert decoded == codes


def test_presenter_mode_enlarges_the_page() -> None:
    from pages.figure_export import export_html
    from pages.readable import HISTORY_SCRIPT, PRESENTER_CSS, READABLE_CSS, RESULT_BAR_CSS, TOUCH_SCRIPT

    at = open_link("cost")
    # every page's: the readable styles with the phone's result bar and the history and touch scripts, and the
    # figure-export script (pages/figure_export.py)
    assert [h.proto.body for h in at.get("html")] == [(READABLE_CSS + RESULT_BAR_CSS + HISTORY_SCRIPT + TOUCH_SCRIPT).strip(),
                                                      export_html("en").strip()]
    at.toggle(key="presenter").set_value(True).run()
    styles = [h.proto.body for h in at.get("html")]
    assert PRESENTER_CSS.strip() in styles and "stMetricValue" in PRESENTER_CSS and "font-size" in PRESENTER_CSS


def test_presenter_mode_comes_with_a_link() -> None:
    at = open_link("cost", presenter="true")
    assert at.toggle(key="presenter").value is True
    assert any("3.4rem" in h.proto.body for h in at.get("html"))


def test_app_messages_name_files_without_server_paths() -> None:
    error = WeightsError("weights.v1_untrained", file="/home/prof/weights/mobilenet_v1.pth", dir="/srv/lecture/weights")
    for lang in LANGS:
        shown = error.public_message(lang)
        assert "/srv/" not in shown and "/home/prof" not in shown
        assert "`weights`" in shown and "mobilenet_v1.pth" in shown
    assert "/srv/lecture/weights" in error.message("en")  # the command line keeps the full path
