"""The "Teach it new classes" page's caches: photo thumbnails and the try-it photo's class map, shared by all
sessions (a session's photos and training run stay in its ``st.session_state``)."""

from __future__ import annotations

import streamlit as st

from explainer import images
from explainer.errors import ImageError
from explainer.transfer import cam as cams
from explainer.transfer import datasets as ds


@st.cache_data(show_spinner=False, max_entries=256)
def _thumb_of(digest: str, _photo: ds.Photo):
    """A 160-pixel preview per photo content (shared by sessions: the demo set's previews are made once)."""
    try:
        return images.preview(images.load_image(_photo.read(), _photo.name, min_side=160), 160)
    except ImageError:
        return None


def thumb(photo: ds.Photo):
    """``photo``'s 160-pixel preview, or ``None`` when it cannot be read."""
    return _thumb_of(photo.digest, photo)


@st.cache_data(show_spinner=False, max_entries=64)
def class_map(photo_digest: str, head_digest: str, class_index: int | None, model: str, _image, _loaded, _head):
    """The try-it photo's class probabilities and CAM, once per photo, head and class (reruns reuse it)."""
    return cams.head_cam(_image, _loaded, _head, class_index)
