"""THE image-source widget shared by the Classify and Feature-maps pages.

Usage::

    from pages.image_input import image_source

    choice = image_source("classify")      # -> ImageChoice | None
    if choice is not None:
        st.image(choice.image)             # PIL RGB, upright, already checked

``image_source(key_prefix: str, *, default_sample: str = "chelsea") -> ImageChoice | None``
offers three sources — file upload (JPEG, PNG, WebP, BMP, GIF — checked by
the loader from the content, not the extension; Streamlit caps uploads at
20 MB, see ``.streamlit/config.toml``), the camera
(``st.camera_input``) and the photos bundled with matplotlib/scikit-image
(no network). The chosen file goes through :func:`explainer.images.load_image`
(decoded at :data:`explainer.images.WORKING_MIN_SIDE`); if it is not a usable
photo the widget shows the one-line error with :func:`pages.ui.show_error`
and returns ``None``, as it does while nothing is chosen yet. Decoding is cached
by the sha256 of the bytes (``ImageChoice.digest``, the key for every per-photo
cache of a page; ``ImageChoice.preview_uri()`` is the preview, encoded once as a JPEG ``data:`` URI for
``st.image``). Widget keys
start with ``key_prefix`` so two pages never share state:
``<prefix>_source``, ``<prefix>_upload``, ``<prefix>_camera``, ``<prefix>_sample``. The source and
the sample photo are in the page's URL as ``?src=sample&sample=coffee`` (codes, not the translated labels;
see :mod:`pages.url_state`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st
from PIL import Image

from explainer.errors import ImageError
from explainer.images import WORKING_MIN_SIDE, data_uri, jpeg_bytes, load_image, preview
from explainer.samples import available_samples, sample_bytes
from explainer.i18n import t
from pages.ui import current_language, show_error, tr
from pages.url_state import coded
from pages.uploads import PHOTO_UPLOAD_MB

SOURCES = ("sample", "upload", "camera")


@dataclass(frozen=True)
class ImageChoice:
    """The photo the user chose: the file's bytes, its name, where it came from and the decoded image."""

    data: bytes
    name: str
    source: str  # "upload", "camera" or "sample"
    image: Image.Image  # RGB, upright, shorter side reduced towards WORKING_MIN_SIDE for large JPEGs
    digest: str = ""  # sha256 of ``data``: the key of every per-photo cache

    def preview_uri(self) -> str:
        """The preview (longer side at most 1024) as a JPEG ``data:`` URI for ``st.image``
        (:func:`explainer.images.data_uri`), encoded once per photo for all sessions."""
        return _preview_uri(self.digest, self.image)


@st.cache_resource(show_spinner=False, max_entries=32, ttl=3600)
def _decoded(digest: str, name: str, _data: bytes) -> Image.Image:
    """The photo with these bytes, decoded once per process and shared read-only (never mutate it)."""
    return load_image(_data, name, min_side=WORKING_MIN_SIDE)


@st.cache_resource(show_spinner=False, max_entries=32, ttl=3600)
def _preview_uri(digest: str, _image: Image.Image) -> str:
    return data_uri(jpeg_bytes(preview(_image)))


@st.cache_data(show_spinner=False, max_entries=8)
def _samples() -> tuple[str, ...]:
    return available_samples()


def image_source(key_prefix: str, *, default_sample: str = "chelsea") -> ImageChoice | None:
    """Let the user pick a photo; return it checked and decoded, or ``None`` (nothing yet, or an error shown)."""
    lang = current_language()  # captured, so format_func gives the same labels whenever it is called
    source = st.radio(
        tr("images.source"),
        SOURCES,
        horizontal=True,
        **coded("src", SOURCES, "sample", key=f"{key_prefix}_source"),
        format_func=lambda s: t(f"images.source_{s}", lang),
    )
    data: bytes | None = None
    name = ""
    if source == "upload":
        # No `type=` filter: Streamlit would refuse other extensions with its own English message (or an
        # exception for a client that bypasses the browser's filter); our loader says it in the user's language.
        uploaded = st.file_uploader(tr("images.upload"), key=f"{key_prefix}_upload", help=tr("images.upload_help"),
                                    max_upload_size=PHOTO_UPLOAD_MB)
        if uploaded is not None:
            data, name = uploaded.getvalue(), uploaded.name
    elif source == "camera":
        shot = st.camera_input(tr("images.camera"), key=f"{key_prefix}_camera")
        if shot is not None:
            data, name = shot.getvalue(), shot.name or "camera.jpg"
    else:
        keys = _samples()
        if not keys:
            st.info(tr("images.no_samples"))
            return None
        index = keys.index(default_sample) if default_sample in keys else 0
        key = st.selectbox(
            tr("images.sample"), keys, index=index, format_func=lambda k: t(f"images.sample_{k}", lang),
            **coded("sample", keys, keys[index], key=f"{key_prefix}_sample"),
        )
        try:
            data, name = sample_bytes(key)
        except ImageError as err:
            show_error(err)
            return None
    if data is None:
        st.caption(tr("images.waiting"))
        return None
    digest = hashlib.sha256(data).hexdigest()
    try:
        image = _decoded(digest, name, data)  # a sample photo opened by the whole class is decoded once
    except ImageError as err:
        show_error(err)
        return None
    return ImageChoice(data=data, name=name, source=str(source), image=image, digest=digest)
