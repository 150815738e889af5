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
#: Modules in pages/ that are helpers, not page scripts.
HELPERS = {"__init__", "charts", "image_input", "resources", "share", "ui", "url_state"}
#: Every page script, by its URL path (the file stem). A new page must be added here (the guard test says so).
PAGES = ("home", "cost", "architectures", "conv_trace", "feature_maps", "classify", "segment", "transfer", "zoo",
         "quantize")


def test_every_page_script_is_checked() -> None:
    scripts = {path.stem for path in (ROOT / "pages").glob("*.py")} - HELPERS
    assert scripts == set(PAGES), (f"pages/ has page scripts {sorted(scripts - set(PAGES))} this test does not open, "
                                   f"or lists {sorted(set(PAGES) - scripts)} that are gone: update PAGES / HELPERS")


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
def test_opening_a_page_leaves_its_address_clean(page: str, with_weights) -> None:
    at = _open(page)
    assert dict(at.query_params) == {}, f"/{page} opened with no parameters wrote {dict(at.query_params)} into its URL"


def test_a_changed_coded_choice_adds_exactly_that_choice(with_weights) -> None:
    at = _open("classify")
    at.radio(key="classify_view").set_value("compare").run()
    assert not at.exception
    assert dict(at.query_params) == {"view": "compare"}
    at.radio(key="classify_view").set_value("single").run()  # back to the default: out of the URL again
    assert dict(at.query_params) == {}
