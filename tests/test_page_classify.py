"""The Classify page (AppTest, both languages): samples, uploads of the bad-file corpus, the untrained
banner when offline, and the compare view. No traceback for any of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from explainer.classify import REFERENCE_RUNS
from explainer.i18n import catalog, t
from tests.conftest import V1_NPZ, only_v2_weights, require_shared, run_page, shared_required
from tests.test_images import BAD, GOOD, Case

PAGE = "pages/classify.py"
LANGS = ["en", "zh"]
MIME = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp", "bmp": "image/bmp",
        "tiff": "image/tiff"}




def _texts(at, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


def _upload(at, case: Case):
    at.radio(key="classify_source").set_value("upload").run()
    ext = case.name.rsplit(".", 1)[-1]
    at.file_uploader(key="classify_upload").set_value((case.name, case.data, MIME.get(ext, "application/octet-stream")))
    return at.run()


@pytest.mark.parametrize("lang", LANGS)
def test_sample_with_real_weights(lang: str, with_weights) -> None:
    at = run_page(PAGE, lang)
    assert not at.exception
    assert at.title[0].value == t("classify.title", lang)
    assert not at.warning, _texts(at, "warning")  # pretrained: no untrained banner
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("classify.macs", lang)] == "300.8 M"  # MobileNetV2 at 224: 300,774,272 MACs
    assert metrics[t("classify.params", lang)] == "3.47 M"  # 3,470,760 conv/FC weights and biases, no BN
    assert metrics[t("classify.inference", lang, runs=REFERENCE_RUNS)].endswith(" ms")
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    assert "tiger cat" in charts[0].proto.spec  # the default sample, Chelsea the cat
    assert len(at.image) >= 1  # the photo and the tensor fed to the network
    captions = " ".join(_texts(at, "caption"))
    assert t("classify.fed_caption", lang, crop=224, resize=256) in captions


def _all_text(at) -> str:
    """Every text a visitor can read on the page (messages, captions, Markdown, expander labels, options)."""
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success") for e in getattr(at, kind)]
    parts += [e.label for e in at.expander] + [o for box in at.selectbox for o in box.options]
    return "\n".join(parts).replace("\\", "")  # page texts are Markdown-escaped


#: What set-up instructions contain (a command or an environment variable): never shown to students.
SETUP_WORDS = ("python -m explainer", "EXPLAINER_", "fetch --")


def _no_setup_text(at) -> None:
    text = _all_text(at)
    assert not any(word in text for word in SETUP_WORDS), text


def _lecturer_text(at, lang: str) -> str:
    (setup,) = [e for e in at.expander if t("setup.lecturer_title", lang) in e.label]
    assert not setup.proto.expanded  # collapsed: the projector shows one line until the lecturer opens it
    return " ".join(m.value for m in setup.markdown).replace("\\", "")


@pytest.mark.parametrize("lang", LANGS)
def test_offline_without_weights_students_see_no_setup_instructions(lang: str, offline) -> None:
    """Nothing installed: MobileNetV2 runs with random weights under the banner, one neutral line, no commands."""
    at = run_page(PAGE, lang)
    assert not at.exception
    assert at.selectbox(key="classify_model").options == ["MobileNetV2"]  # only what can run
    assert t("weights.untrained_banner", lang, model="MobileNetV2") in _texts(at, "warning")
    assert t("setup.none_trained", lang) in _texts(at, "caption")
    assert not at.info and not at.expander
    _no_setup_text(at)
    assert len(at.get("plotly_chart")) == 1  # still works, with random weights


@pytest.mark.parametrize("lang", LANGS)
def test_offline_without_weights_lecturer_sees_what_to_set_up(lang: str, offline) -> None:
    """Presenter mode (the lecturer's view): the same page, plus a collapsed expander with the set-up steps."""
    at = run_page(PAGE, lang, presenter=True)
    assert not at.exception
    text = _lecturer_text(at, lang)
    for name in ("mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"):
        assert f"python -m explainer fetch {name}" in text
    assert catalog(lang)["errors.assets.offline"].split("{")[1].split("}")[1] in text
    assert "mobilenet_v1.pth" in text  # V1: nobody publishes it, the folder is the way


@pytest.fixture
def partial_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, weights_dir: Path) -> Path:
    """A weights folder holding only MobileNetV2 (the other MobileNets missing), downloads off, empty caches."""
    return only_v2_weights(tmp_path, monkeypatch, weights_dir)


@pytest.mark.parametrize("lang", LANGS)
def test_only_installed_models_are_offered(lang: str, partial_weights) -> None:
    at = run_page(PAGE, lang)
    assert not at.exception
    assert at.selectbox(key="classify_model").options == ["MobileNetV2"]
    assert not at.warning  # pretrained: no banner
    assert t("setup.not_installed_many", lang, n=3) in _texts(at, "caption")
    _no_setup_text(at)
    at.radio(key="classify_view").set_value("compare").run()
    assert not at.exception
    assert list(at.dataframe[0].value[t("classify.col_model", lang)]) == ["MobileNetV2"]
    assert t("setup.not_installed_many", lang, n=3) in _texts(at, "caption")
    _no_setup_text(at)
    text = _lecturer_text(run_page(PAGE, lang, presenter=True), lang)
    assert "python -m explainer fetch mobilenet_v3_large" in text and "fetch mobilenet_v2" not in text


def test_a_link_to_a_model_that_is_not_installed_opens_an_installed_one(partial_weights) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / PAGE), default_timeout=60)
    at.session_state["lang"] = "en"
    at.query_params["model"] = "mobilenet_v3_large"
    at.run()
    assert not at.exception
    assert at.selectbox(key="classify_model").value == "mobilenet_v2"


def test_v1_is_offered_only_with_its_weights(offline, v1_npz: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nobody publishes V1's weights: it is offered exactly when a V1 file is in the weights folder."""
    assert "MobileNetV1" not in run_page(PAGE, "en").selectbox(key="classify_model").options
    monkeypatch.setenv("EXPLAINER_WEIGHTS_DIR", str(v1_npz.parent))
    at = run_page(PAGE, "en")
    assert "MobileNetV1" in at.selectbox(key="classify_model").options
    at.selectbox(key="classify_model").set_value("mobilenet_v1").run()
    assert not at.exception and not at.warning  # pretrained (the released 0.75/192 weights)


@pytest.mark.parametrize("lang", LANGS)
def test_bad_uploads_show_one_line_errors(lang: str, offline) -> None:
    at = run_page(PAGE, lang)
    for case in BAD:
        at = _upload(at, case)
        assert not at.exception, case.name
        errors = _texts(at, "error")
        assert len(errors) == 1 and case.name in errors[0] and "\n" not in errors[0], (case.name, errors)
        assert errors[0].startswith(catalog(lang)[f"errors.{case.error}"].split("{")[0]), errors[0]
        assert not at.get("plotly_chart")


@pytest.mark.parametrize("lang", LANGS)
def test_unusual_uploads_are_classified(lang: str, offline) -> None:
    at = run_page(PAGE, lang)
    for case in GOOD:
        at = _upload(at, case)
        assert not at.exception, case.name
        assert not at.error, (case.name, _texts(at, "error"))
        assert len(at.get("plotly_chart")) == 1, case.name


def test_every_sample_runs(offline) -> None:
    from explainer.samples import available_samples

    at = run_page(PAGE, "en")
    for key in available_samples():
        at.selectbox(key="classify_sample").set_value(key).run()
        assert not at.exception and not at.error, key


@pytest.mark.parametrize("lang", LANGS)
def test_compare_view(lang: str, with_weights) -> None:
    at = run_page(PAGE, lang)
    at.radio(key="classify_view").set_value("compare").run()
    assert not at.exception
    frame = at.dataframe[0].value
    names = list(frame[t("classify.col_model", lang)])
    assert "MobileNetV2" in names
    assert len(at.get("plotly_chart")) == len(names)
    npz = with_weights / V1_NPZ
    if shared_required():  # CI gave the V1 weights: the V1 row must be there
        require_shared(npz, f"V1 weights {V1_NPZ}")
    assert ("MobileNetV1 (0.75, 192)" in names) == npz.is_file()  # a row exactly when its weights are there
    row = frame[frame[t("classify.col_model", lang)] == "MobileNetV2"].iloc[0]
    assert row[t("classify.col_time", lang)] > 0
    assert row[t("classify.col_macs", lang)] == 300.8 and row[t("classify.col_params", lang)] == 3.47


def test_compare_view_offline_has_nothing_to_compare(offline) -> None:
    at = run_page(PAGE, "zh")
    at.radio(key="classify_view").set_value("compare").run()
    assert not at.exception
    assert t("classify.compare_none", "zh") in _texts(at, "info")


def test_camera_source_waits_for_a_shot(offline) -> None:
    at = run_page(PAGE, "en")
    at.radio(key="classify_source").set_value("camera").run()
    assert not at.exception
    assert t("images.waiting", "en") in _texts(at, "caption")


@pytest.mark.parametrize("lang", LANGS)
def test_other_formats_are_refused_in_the_users_language(lang: str, offline) -> None:
    """No extension filter in the widget: a TIFF or an iPhone HEIC gets our one-line message, not Streamlit's."""
    import io

    from PIL import Image

    tiff = io.BytesIO()
    Image.new("RGB", (8, 8)).save(tiff, format="TIFF")
    at = run_page(PAGE, lang)
    for case, key in [(Case("scan.tiff", tiff.getvalue()), "unsupported"), (Case("IMG_0001.heic", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64), "not_an_image")]:
        at = _upload(at, case)
        assert not at.exception
        errors = _texts(at, "error")
        assert len(errors) == 1 and errors[0].startswith(catalog(lang)[f"errors.image.{key}"].split("{")[0]), errors


def test_models_are_loaded_once_per_process(with_weights) -> None:
    """st.cache_resource: every session gets the very same model object (memory does not grow with sessions)."""
    from pages.resources import _load

    first = _load("mobilenet_v2", str(with_weights), "file")
    second = _load("mobilenet_v2", str(with_weights), "file")
    assert first is second and first.model is second.model and first.pretrained
    at_en, at_zh = run_page(PAGE, "en"), run_page(PAGE, "zh")  # two sessions
    assert not at_en.exception and not at_zh.exception
    assert _load("mobilenet_v2", str(with_weights), "file").model is first.model


def test_download_path_in_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mirror) -> None:
    """Step c in the app: weights missing locally are fetched (progress bar), cached, and used pretrained."""
    import hashlib
    import io

    import torch

    from dataclasses import replace

    from explainer import catalogue
    from explainer.models import build_model
    from pages import downloads

    served, base = mirror
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EXPLAINER_WEIGHTS_DIR", raising=False)
    monkeypatch.delenv("EXPLAINER_OFFLINE", raising=False)
    torch.manual_seed(7)
    buffer = io.BytesIO()
    torch.save(build_model("mobilenet_v3_small").state_dict(), buffer)
    data = buffer.getvalue()
    prefix = hashlib.sha256(data).hexdigest()[:8]
    filename = f"mobilenet_v3_small-{prefix}.pth"  # torchvision's naming: the hash prefix matches our payload
    (served / filename).write_bytes(data)
    record = replace(catalogue.get("mobilenet_v3_small"), filename=filename, url=f"{base}/{filename}", sha256=prefix)
    monkeypatch.setitem(catalogue.CATALOGUE, "mobilenet_v3_small", record)
    fetched: list[str] = []
    real_fetch = catalogue.fetch

    def counted(asset, *args, **kwargs):
        fetched.append(asset.download_url())
        return real_fetch(asset, *args, **kwargs)

    monkeypatch.setattr(catalogue, "fetch", counted)
    monkeypatch.setattr(downloads, "failed", {})
    at = run_page(PAGE, "en", classify_model="mobilenet_v3_small")
    assert not at.exception
    assert fetched == [f"{base}/{filename}"]
    assert t("weights.untrained_banner", "en", model="MobileNetV3-Small") not in _texts(at, "warning")
    assert "IMAGENET1K_V1" in " ".join(_texts(at, "caption"))
    assert (tmp_path / "cache" / filename).read_bytes() == data
    at.run()  # next run: from the cache, no second download
    assert len(fetched) == 1


def test_failed_download_is_not_retried_on_every_rerun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Broken wifi: one attempt, then the untrained model with the message, without waiting on the network again."""
    from explainer import catalogue
    from pages import downloads

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("EXPLAINER_DOWNLOAD_MIRROR", "http://127.0.0.1:9")  # the discard port: connection refused
    monkeypatch.delenv("EXPLAINER_WEIGHTS_DIR", raising=False)
    monkeypatch.delenv("EXPLAINER_OFFLINE", raising=False)
    monkeypatch.setattr(downloads, "failed", {})
    attempts: list[str] = []
    real_fetch = catalogue.fetch

    def counted(asset, *args, **kwargs):
        attempts.append(asset.key)
        return real_fetch(asset, *args, **kwargs)

    monkeypatch.setattr(catalogue, "fetch", counted)
    for lang in LANGS:
        at = run_page(PAGE, lang)
        assert not at.exception
        assert t("weights.untrained_banner", lang, model="MobileNetV2") in _texts(at, "warning")
        _no_setup_text(at)  # students: no URL, no command
        at.run()
        assert not at.exception
        # the server is unreachable: no other download is offered either (each would wait for it again)
        assert at.selectbox(key="classify_model").options == ["MobileNetV2"]
    lecturer = run_page(PAGE, "en", presenter=True)
    (setup,) = [e for e in lecturer.expander if t("setup.lecturer_title", "en") in e.label]
    text = " ".join(m.value for m in setup.markdown).replace("\\", "")
    assert "127.0.0.1:9" in text and "python -m explainer fetch mobilenet_v2" in text
    assert len(attempts) == 1
