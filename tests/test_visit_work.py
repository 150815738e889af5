"""Work a visit no longer repeats: per-photo caches shared by sessions, and the heap freeze after heavy loads.

AppTests of one process share Streamlit's caches as the sessions of one
server do: a second student opening the same sample photo must not decode,
classify or encode it again, and must be shown the very same image files.
"""

from __future__ import annotations

import gc
import sys
import types

import pytest

from tests.conftest import run_page

PAGE = "pages/classify.py"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count decodes, forward passes and JPEG encodings the Classify page triggers, from empty caches."""
    import streamlit as st

    import pages.caches.classify
    import pages.image_input

    st.cache_data.clear()
    pages.image_input._decoded.clear()
    pages.image_input._preview_uri.clear()
    counts = {"decode": 0, "classify": 0, "encode": 0}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(pages.image_input, "load_image", counting("decode", pages.image_input.load_image))
    cached = pages.caches.classify
    monkeypatch.setattr(cached, "classify_image", counting("classify", cached.classify_image))
    monkeypatch.setattr(cached, "jpeg_bytes", counting("encode", cached.jpeg_bytes))
    monkeypatch.setattr(pages.image_input, "jpeg_bytes", counting("encode", pages.image_input.jpeg_bytes))
    yield counts
    st.cache_data.clear()
    pages.image_input._decoded.clear()
    pages.image_input._preview_uri.clear()


def _image_urls(at) -> list[str]:
    return [img.url for element in at.image for img in element.proto.imgs]


def test_second_student_reuses_the_first_students_work(with_weights, counted) -> None:
    first = run_page(PAGE, "en")
    assert not first.exception
    assert counted == {"decode": 1, "classify": 1, "encode": 2}  # the preview and the 224×224 input, once
    second = run_page(PAGE, "en")  # another session, same sample photo
    assert not second.exception
    assert counted == {"decode": 1, "classify": 1, "encode": 2}
    assert "tiger cat" in second.get("plotly_chart")[0].proto.spec
    urls = _image_urls(first)
    # The same inline images (data: URIs made once), not re-encoded copies or files to fetch.
    assert len(urls) == 2 and urls == _image_urls(second) and all(u.startswith("data:image/jpeg;base64,") for u in urls)
    # Another language: the chart's labels change, the photo's work does not.
    third = run_page(PAGE, "zh")
    assert not third.exception and counted["classify"] == 1 and counted["decode"] == 1


def test_another_photo_is_computed_once(with_weights, counted) -> None:
    at = run_page(PAGE, "en")
    at.selectbox(key="classify_sample").set_value("coffee").run()
    assert not at.exception
    assert counted["classify"] == 2 and counted["decode"] == 2
    again = run_page(PAGE, "en")
    again.selectbox(key="classify_sample").set_value("coffee").run()
    assert counted["classify"] == 2 and counted["decode"] == 2


def test_heap_is_frozen_again_after_libraries_or_a_model_arrive(monkeypatch: pytest.MonkeyPatch) -> None:
    import pages.resources as resources

    monkeypatch.setattr(resources, "_heap", {"models_loaded": 0, "frozen_modules": 0, "frozen_models": -1,
                                             "freezes": 0})
    try:
        assert resources.freeze_when_heap_grew()  # the first run's end: everything so far
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert not resources.freeze_when_heap_grew()  # nothing new: no collection, no freeze
        for i in range(resources.FREEZE_AFTER_NEW_MODULES):  # a library with many modules was imported
            monkeypatch.setitem(sys.modules, f"_fake_library_{i}", types.ModuleType(f"_fake_library_{i}"))
        assert resources.freeze_when_heap_grew()
        assert not resources.freeze_when_heap_grew()
        resources._heap["models_loaded"] += 1  # what _warm_up does after a model's first load
        assert resources.freeze_when_heap_grew()
        assert resources._heap["freezes"] == 3
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
