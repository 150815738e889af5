"""A page opened with no parameters keeps a clean address: defaults stay out of the URL.

Streamlit's own bound widgets leave defaults out by themselves; the project's coded choices
(``pages.url_state.coded``: photo source, sample, model, block, stage, channel, view…) and anything a page
writes into ``st.query_params`` by hand are the project's to keep out. A link on a slide made from a freshly
opened page must be the bare page address, and a changed choice must add exactly that choice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _pages() -> list[str]:
    """Every page of the app's menu, by file stem (Home's URL path is empty; its file is pages/home.py)."""
    from tests.conftest import navigation

    return [path or "home" for paths in navigation("en").values() for path in paths]


PAGES = _pages()


def test_every_page_of_the_menu_is_checked() -> None:
    assert len(PAGES) >= 10 and "home" in PAGES and all((ROOT / "pages" / f"{p}.py").is_file() for p in PAGES)


def _open(page: str, timeout: float = 180):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    if page != "home":
        at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_opening_a_page_leaves_its_address_clean(page: str, with_weights, monkeypatch: pytest.MonkeyPatch) -> None:
    # the family page would start timing every model in a background thread that outlives the test (and the
    # interpreter's exit, which then aborts): its URL does not depend on it
    monkeypatch.setenv("EXPLAINER_ZOO_LATENCY", "off")
    at = _open(page)
    assert dict(at.query_params) == {}, f"/{page} opened with no parameters wrote {dict(at.query_params)} into its URL"


def test_a_changed_coded_choice_adds_exactly_that_choice(with_weights) -> None:
    at = _open("classify")
    at.radio(key="classify_view").set_value("compare").run()
    assert not at.exception
    assert dict(at.query_params) == {"view": "compare"}
    at.radio(key="classify_view").set_value("single").run()  # back to the default: out of the URL again
    assert dict(at.query_params) == {}
