"""The "Teach it new classes" page (AppTest): demo set through the data folder setting, training, results,
no retraining on reruns, try-it with the CAM overlay, bad uploads as one-line messages."""

from __future__ import annotations

import json

import pytest

from explainer.i18n import t
from explainer.models import DISPLAY_NAMES
from explainer.transfer import teach
from tests.conftest import run_page

PAGE = "pages/transfer.py"


@pytest.fixture
def demo_data(monkeypatch: pytest.MonkeyPatch, with_weights, datasets_dir, tmp_path):
    """The shared ants/bees set as the page's data folder (through the ``datasets_dir`` fixture)."""
    demo = datasets_dir / "ants_bees" / "train"
    monkeypatch.setenv("EXPLAINER_DATA_DIR", str(demo))
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path / "cache"))
    return demo


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every training the page starts (``teach.fit``)."""
    calls: list[int] = []
    real = teach.fit

    def counting(data, loaded, **kwargs):
        calls.append(len(data.photos))
        return real(data, loaded, **kwargs)

    monkeypatch.setattr(teach, "fit", counting)
    return calls


def _charts(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_demo_set_train_and_rerun_without_retraining(lang: str, demo_data, fits) -> None:
    at = run_page(PAGE, lang, timeout=600)
    assert not at.exception, at.exception
    assert at.title[0].value == t("transfer.title", lang)
    at.button(key="tl_demo").click().run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    names = [at.text_input(key=f"tl_name_{i}").value for i in range(2)]
    assert names == [t("transfer.demo_class_ants", lang), t("transfer.demo_class_bees", lang)]
    assert names == (["ants", "bees"] if lang == "en" else ["蚂蚁", "蜜蜂"])
    at.button(key="tl_train").click().run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert fits == [244]
    accuracy = float(at.metric[0].value.split()[0])
    assert accuracy >= 92.0
    assert at.metric[1].value == "196 / 48"
    charts = _charts(at)
    assert len(charts) == 4  # curve, confusion matrix, PCA map, the try-it photo's class probabilities
    confusion = next(c for c in charts if c["data"][0]["type"] == "heatmap")
    assert sum(map(sum, confusion["data"][0]["z"])) == 48
    assert confusion["data"][0]["x"] == names
    # Reruns (another widget, the try-it photo) never train again.
    at.slider(key="tl_opacity").set_value(0.8).run()
    at.run()
    assert fits == [244] and not at.exception
    assert len(at.get("plotly_chart")) == 4
    assert any(im for im in at.image)  # the CAM overlay
    assert at.get("download_button")


def test_bad_upload_is_one_line(with_weights) -> None:
    at = run_page(PAGE, "zh", timeout=300)
    at.file_uploader(key="tl_up_0").set_value([("notes.jpg", b"just some text", "image/jpeg")]).run()
    assert not at.exception
    assert len(at.error) == 1 and "notes.jpg" in at.error[0].value
    at.button(key="tl_train").click().run()
    assert not at.exception
    assert at.error and t("errors.transfer.empty_class", "zh", name=t("transfer.default_class", "zh", k=1)) in [
        e.value for e in at.error]


def test_classify_page_cam_toggle(with_weights) -> None:
    at = run_page("pages/classify.py", "en", timeout=120)
    assert not at.exception
    images = len(at.image)
    at.toggle(key="classify_cam").set_value(True).run()
    assert not at.exception and not at.error
    assert len(at.image) == images + 1
    assert any(t("classify_cam.caption", "en", label="") .split("{")[0][:10] in (im.proto.imgs[0].caption or "")
               for im in at.image)


def test_only_backbones_with_weights_are_offered(with_weights, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # no V3 weights anywhere
    at = run_page(PAGE, "en", timeout=300)
    assert not at.exception
    assert at.selectbox(key="tl_model").options == [DISPLAY_NAMES["mobilenet_v2"]]
    assert t("setup.not_installed_many", "en", n=2) in [c.value for c in at.caption]
    assert not at.button(key="tl_train").disabled


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_offline_nothing_installed(lang: str, offline, monkeypatch: pytest.MonkeyPatch) -> None:
    """No weights and no demo set: the untrained backbone cannot train; the demo button says so in one
    full-width line (not in its narrow column); the set-up steps only in presenter mode."""
    from pages import downloads

    monkeypatch.delenv("EXPLAINER_DATA_DIR", raising=False)
    monkeypatch.setattr(downloads, "failed", {})
    at = run_page(PAGE, lang, timeout=300)
    assert not at.exception
    assert at.button(key="tl_train").disabled
    assert t("transfer.needs_pretrained", lang, model="MobileNetV2") in [i.value for i in at.info]
    at.button(key="tl_demo").click().run()
    assert not at.exception and not at.error
    assert t("setup.demo_missing", lang) in [i.value for i in at.info]
    assert not any(column.info for column in at.columns)  # full width, below the row of buttons
    shown = " ".join(e.value for kind in ("info", "caption", "warning", "markdown") for e in getattr(at, kind))
    assert "python -m explainer" not in shown.replace("\\", "") and not any(
        t("setup.lecturer_title", lang) in e.label for e in at.expander)
    lecturer = run_page(PAGE, lang, timeout=300, presenter=True)
    lecturer.button(key="tl_demo").click().run()
    notes = " ".join(m.value for e in lecturer.expander if t("setup.lecturer_title", lang) in e.label
                     for m in e.markdown).replace("\\", "")
    assert "python -m explainer fetch hymenoptera_data" in notes and "EXPLAINER_DATA_DIR" in notes
    assert "python -m explainer fetch mobilenet_v2" in notes


@pytest.mark.slow
def test_fine_tune_result_stays_visible(with_weights, datasets_dir) -> None:
    """Issue 25: the Fine-tune button used to close its own expander, hiding its result. After pressing it the
    expander is open and holds the comparison table (frozen head vs fine-tuned) with the fine-tune's numbers."""
    folder = datasets_dir / "ants_bees" / "train"
    at = run_page(PAGE, "en", timeout=600)
    for i, cls in enumerate(("ants", "bees")):  # a tiny set: 5 photos per class (4 train + 1 held out)
        files = [(p.name, p.read_bytes(), "image/jpeg") for p in sorted((folder / cls).glob("*.jpg"))[:5]]
        at.file_uploader(key=f"tl_up_{i}").set_value(files).run()
        assert not at.exception and not at.error, [e.value for e in at.error]
    at.button(key="tl_train").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    title = t("transfer.ft_title", "en")

    def expander():
        return next(e for e in at.expander if e.label == title)

    assert not expander().proto.expanded  # closed until used
    assert not expander().dataframe
    at.slider(key="tl_ft_epochs").set_value(1).run()
    at.button(key="tl_ft_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    opened = expander()
    assert opened.proto.expanded  # the result is not folded away
    table = opened.dataframe[0].value
    methods = list(table[t("transfer.col_method", "en")])
    assert methods == [t("transfer.frozen", "en"), t("transfer.tuned", "en", k=1, e=1)]
    tuned = table.iloc[1]
    assert 0.0 <= tuned[t("transfer.col_acc", "en")] <= 1.0 and tuned[t("transfer.col_time", "en")] > 0
    assert tuned[t("transfer.col_params", "en")] > table.iloc[0][t("transfer.col_params", "en")]  # a block + head
    assert t("transfer.ft_honest", "en") in [c.value for c in opened.caption]
    at.run()  # a rerun (any other widget) keeps it open with its result
    assert expander().proto.expanded and expander().dataframe


@pytest.fixture(scope="session")
def demo_zip(datasets_dir, tmp_path_factory) -> bytes:
    """The demo set's own folder (ants/, bees/) zipped as a student would: 245 JPEGs, about 27 MB."""
    import zipfile

    folder = datasets_dir / "ants_bees" / "train"
    path = tmp_path_factory.mktemp("zip") / "train.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, f"train/{file.relative_to(folder)}")
    return path.read_bytes()


def test_uploaders_ask_for_their_own_limits(with_weights) -> None:
    """Streamlit's upload endpoint checks only server.maxUploadSize, so it is the zip's 64 MB; every other
    uploader asks the browser for at most 20 MB (st.file_uploader(max_upload_size=)); and nginx follows."""
    import re
    import tomllib

    from explainer import serving
    from pages.uploads import PHOTO_UPLOAD_MB, ZIP_UPLOAD_MB
    from tests.conftest import ROOT

    with open(ROOT / ".streamlit" / "config.toml", "rb") as handle:
        assert tomllib.load(handle)["server"]["maxUploadSize"] == ZIP_UPLOAD_MB == serving.upload_limit_mb()
    at = run_page(PAGE, "en", timeout=300)
    assert at.file_uploader(key="tl_zip").proto.max_upload_size_mb == ZIP_UPLOAD_MB
    assert at.file_uploader(key="tl_up_0").proto.max_upload_size_mb == PHOTO_UPLOAD_MB
    assert at.file_uploader(key="tl_import").proto.max_upload_size_mb == PHOTO_UPLOAD_MB
    assert "27 MB" in at.file_uploader(key="tl_zip").help and f"{ZIP_UPLOAD_MB} MB" in at.file_uploader(key="tl_zip").help
    # every uploader in the app sets its own limit (none silently gets the server's 64 MB)
    calls = [m for p in (ROOT / "pages").glob("*.py") for m in re.findall(r"st\.file_uploader\((.*?)\)\n", p.read_text(), re.S)]
    assert len(calls) >= 6 and all("max_upload_size=" in call for call in calls), calls


@pytest.mark.slow
def test_zip_of_the_demo_folder_is_accepted(demo_zip: bytes, with_weights) -> None:
    """Issue 25: the demo set's own folder zipped (27 MB) was refused by the 20 MB limit."""
    from pages.uploads import PHOTO_UPLOAD_MB, ZIP_UPLOAD_MB

    assert PHOTO_UPLOAD_MB * 2**20 < len(demo_zip) < ZIP_UPLOAD_MB * 2**20
    at = run_page(PAGE, "en", timeout=600)
    at.file_uploader(key="tl_zip").set_value(("train.zip", demo_zip, "application/zip")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [at.text_input(key=f"tl_name_{i}").value for i in range(2)] == ["ants", "bees"]
    counts = [c.value for c in at.caption if c.value in (t("transfer.count", "en", n=n) for n in range(1, 400))]
    assert counts == [t("transfer.count", "en", n=123), t("transfer.count", "en", n=121)]  # 1 unreadable ant skipped
    photos = at.session_state["tl_photos"]
    assert sum(len(p.data) for p in photos) < 244 * 60_000  # small copies kept, not the 27 MB
    assert at.session_state["_upload_gen_tl_zip"] == 1  # the zip's bytes were released (the next run: a new key)
    at.run()
    assert "tl_zip" not in [u.key for u in at.file_uploader] and "tl_zip_g1" in [u.key for u in at.file_uploader]


@pytest.mark.slow
def test_zip_of_the_demo_folder_stays_within_the_memory_limit(demo_zip: bytes, tmp_path) -> None:
    """Peak RSS growth of reading the 27 MB zip and making the page's small copies (tests/test_hostile.py's probe:
    a fresh process, VmHWM over the RSS before the step), against the same limit as every other upload."""
    from tests.test_hostile import LIMIT_MB, probe

    path = tmp_path / "train.zip"
    path.write_bytes(demo_zip)
    result = probe(
        f"from explainer.transfer import datasets as ds\ndata = open({str(path)!r}, 'rb').read()",
        "zipped = ds.read_zip(data, 'train.zip')\n"
        "small = [ds.compact_photo(p.data, p.name) for p in zipped.photos]\n"
        "assert len(small) == 244, len(small)")
    assert result["outcome"] == "ok", result
    print(f"{len(demo_zip) / 2**20:.1f} MB zip: peak RSS growth {result['growth_mb']:.0f} MB")
    assert result["growth_mb"] < LIMIT_MB
