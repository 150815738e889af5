"""Streamlit's legacy ``pages/`` folder mode and the one module that keeps the app out of it (pages/legacy_folder.py).

These tests say loudly when a Streamlit upgrade changed what that module relies on; the browser test of a deep
link on a fresh server is ``tests/e2e/test_browser.py::test_deep_link_on_fresh_server_runs_the_app``.
"""

from __future__ import annotations

import tomllib

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from explainer.i18n import t
from pages import legacy_folder
from tests.conftest import ROOT

CHANGED = (f"Streamlit {streamlit.__version__} changed what pages/legacy_folder.py relies on "
           "(checked with the range in requirements.txt): ")


@pytest.fixture
def as_shipped(monkeypatch: pytest.MonkeyPatch):
    """AppTest as Streamlit ships it (the test session runs it like a server: tests/conftest.py)."""
    from streamlit.testing.v1 import app_test

    monkeypatch.setattr(app_test, "PagesManager", legacy_folder.PagesManager)
    before = legacy_folder.PagesManager.uses_pages_directory
    yield
    legacy_folder.PagesManager.uses_pages_directory = before


def _page_alone(at: AppTest) -> bool:
    """True when the run had no app.py: no language switch in the sidebar."""
    return len(at.sidebar.selectbox) == 0


def test_the_mode_is_decided_by_a_pages_folder_beside_the_main_script(tmp_path) -> None:
    manager = legacy_folder.PagesManager
    assert hasattr(manager, "uses_pages_directory"), CHANGED + "PagesManager.uses_pages_directory is gone"
    before = manager.uses_pages_directory
    try:
        manager.uses_pages_directory = None
        manager(str(ROOT / "app.py"), None, setup_watcher=False)
        assert manager.uses_pages_directory is True, \
            CHANGED + "a fresh process with pages/ beside app.py no longer starts in the legacy mode"
        assert legacy_folder.in_legacy_mode()
        manager.uses_pages_directory = None
        (tmp_path / "main.py").write_text("")
        manager(str(tmp_path / "main.py"), None, setup_watcher=False)
        assert manager.uses_pages_directory is False, CHANGED + "the mode no longer follows the pages/ folder"
    finally:
        manager.uses_pages_directory = before


def test_the_menu_option_exists_and_the_config_hides_the_legacy_list() -> None:
    try:
        streamlit.config.get_option(legacy_folder.MENU_OPTION)
    except Exception as error:  # noqa: BLE001 - any failure means the option changed
        pytest.fail(CHANGED + f"the config option {legacy_folder.MENU_OPTION} is gone ({error})")
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showSidebarNavigation"] is False


def test_app_test_resets_the_mode_through_its_module_name() -> None:
    from streamlit.testing.v1 import app_test

    assert issubclass(app_test.PagesManager, legacy_folder.PagesManager)  # like_a_server is active (conftest)
    source = (ROOT / "pages" / "legacy_folder.py").read_text()
    assert "app_test.PagesManager" in source
    import inspect

    assert "PagesManager.uses_pages_directory = None" in inspect.getsource(app_test.AppTest), \
        CHANGED + "AppTest no longer resets the legacy mode before each run: like_a_server may be unneeded"


def test_streamlit_still_runs_a_page_alone_in_the_legacy_mode(as_shipped) -> None:
    """The reason for the workaround: if this fails, Streamlit dropped the legacy mode and the module can go."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["lang"] = "en"  # a language is set: the page does not call through_app()
    at.switch_page("pages/cost.py").run()
    assert not at.exception
    assert at.title[0].value == t("cost.title", "en")
    assert _page_alone(at), (
        f"Streamlit {streamlit.__version__} ran app.py for a deep link on a fresh process: its legacy pages/ "
        "mode seems gone. Remove pages/legacy_folder.py, its calls and client.showSidebarNavigation in "
        ".streamlit/config.toml (and update this test).")
    assert legacy_folder.in_legacy_mode(), CHANGED + "the legacy runner no longer leaves the mode on"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_first_visit_to_a_fresh_server_goes_through_app(as_shipped, lang: str) -> None:
    """A deep link ``/cost?lang=…`` as the first visit of a fresh process: the rerun opens it through app.py."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lang"] = lang
    at.switch_page("pages/cost.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["_legacy_folder_rerun"] is True, "the page did not rerun through app.py"
    assert not _page_alone(at), CHANGED + "the rerun after through_app() did not start at app.py"
    assert at.sidebar.selectbox[0].value == lang
    assert at.title[0].value == t("cost.title", lang)
    assert not legacy_folder.in_legacy_mode()


def test_a_page_run_directly_reruns_once_and_carries_on() -> None:
    """``AppTest.from_file("pages/cost.py")`` without a language: no app.py will ever come; no endless reruns."""
    at = AppTest.from_file(str(ROOT / "pages" / "cost.py"), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == t("cost.title", "en")
    at.slider(key="df").set_value(28).run()
    assert not at.exception and at.title[0].value == t("cost.title", "en")


def test_streamlit_private_imports_only_in_this_module_and_the_load_client() -> None:
    """Streamlit's private modules are read in three places only (the workaround, the private helpers of the
    reconnect notice and the upload release, the load client), all pinned in requirements.txt."""
    import ast

    public = ("streamlit.testing.v1", "streamlit.components.v1")  # documented APIs
    allowed = {"pages/legacy_folder.py", "pages/streamlit_private.py", "bench/stclient.py", "bench/http_client.py"}
    files = [ROOT / "app.py", *(ROOT / "pages").rglob("*.py"), *(ROOT / "explainer").rglob("*.py"),
             *(ROOT / "bench").glob("*.py")]
    found = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            private = [n for n in names if n.startswith("streamlit.") and not n.startswith(public)]
            if private:
                found.setdefault(str(path.relative_to(ROOT)), set()).update(private)
    assert set(found) <= allowed, {k: sorted(v) for k, v in found.items() if k not in allowed}
    assert "pages/legacy_folder.py" in found and "bench/stclient.py" in found
