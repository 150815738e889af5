"""Issue 25: what students and the lecturer are told about files this server does not have (pages/setup_notes.py):
the Home page's "Server status" expander lists every catalogue file and where it comes from, with the set-up steps
for the missing ones — the same facts as ``python -m explainer fetch --status``."""

from __future__ import annotations

from pathlib import Path

import pytest

from explainer import catalogue
from explainer.i18n import t
from tests.conftest import only_v2_weights, run_cli, run_page

HOME = "pages/home.py"


@pytest.fixture
def v2_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, weights_dir: Path) -> Path:
    """Only MobileNetV2's weights (tests.conftest.only_v2_weights) and no data folder."""
    monkeypatch.delenv("EXPLAINER_DATA_DIR", raising=False)
    return only_v2_weights(tmp_path, monkeypatch, weights_dir)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_server_status(lang: str, v2_only: Path, capsys: pytest.CaptureFixture[str]) -> None:
    at = run_page(HOME, lang)
    assert not at.exception
    (status,) = [e for e in at.expander if t("setup.status_title", lang) in e.label]
    assert not status.proto.expanded  # collapsed: the lecture's Home page is not a set-up screen
    table = status.dataframe[0].value
    sources = dict(zip(table[t("setup.col_file", lang)], table[t("setup.col_source", lang)]))
    assert set(sources) == {asset.filename for asset in catalogue.CATALOGUE.values()}
    assert sources["mobilenet_v2-7ebf99e0.pth"] == t("setup.source_folder", lang)  # as mobilenet_v2.pth
    missing = [name for name, source in sources.items() if source == t("setup.source_missing", lang)]
    assert len(missing) == len(catalogue.CATALOGUE) - 1  # offline, only V2 in the folder
    steps = " ".join(m.value for m in status.markdown).replace("\\", "")
    assert "python -m explainer fetch mobilenet_v3_large" in steps and "fetch mobilenet_v2 " not in steps
    assert t("setup.status_offline", lang, env="EXPLAINER_OFFLINE") in [c.value.replace("\\", "") for c in status.caption]
    # the command line says the same: every missing file with its command
    code, out, _ = run_cli(capsys, "fetch", "--status")
    assert code == 0
    assert sum(line.split()[2:3] == ["missing"] for line in out.splitlines()) == len(missing)


def test_home_server_status_with_every_model_file(with_all_models, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every model file in the folder (V3 as the user's own .pth, V1 as the released .npz): only the data set,
    which the tests do not hold under the catalogue's name, is left to set up."""
    monkeypatch.delenv("EXPLAINER_DATA_DIR", raising=False)
    at = run_page(HOME, "en")
    (status,) = [e for e in at.expander if t("setup.status_title", "en") in e.label]
    table = status.dataframe[0].value
    sources = dict(zip(table[t("setup.col_file", "en")], table[t("setup.col_source", "en")]))
    assert {name for name, source in sources.items() if source != t("setup.source_folder", "en")} == {
        "hymenoptera_data.zip"}
    steps = [m.value.replace("\\", "") for m in status.markdown]
    assert len(steps) == 2 and "python -m explainer fetch hymenoptera_data" in steps[1]  # the title, one step
