"""The Export page's caches: the comparison photos per preprocessing, the student's photo through a .pte.

The exports themselves live in :func:`explainer.deploy.pte.exports` (one per key per process, single flight,
run in a background thread), not here: a Streamlit cache would run the same export once per waiting session.
"""

from __future__ import annotations

import streamlit as st

from explainer import images, samples


@st.cache_resource(show_spinner=False, max_entries=8)
def sample_photos(resolution: int, weights_id: str, _network):
    """(names, batch ``[N, 3, R, R]``) of the bundled sample photos, preprocessed for this network."""
    keys = samples.available_samples()
    photos = [images.load_image(samples.sample_bytes(k)[0], k, min_side=images.WORKING_MIN_SIDE) for k in keys]
    return list(keys), _network.batch(photos)


@st.cache_resource(show_spinner=False, max_entries=8)
def uploaded_photos(digest: str, resolution: int, weights_id: str, _files, _network, copies: bool = False):
    """(batch or None, skipped errors) of uploaded calibration photos, once per set of files and preprocessing.
    ``copies``: the files are :func:`explainer.images.working_copy` PNGs, decoded as they are."""
    from explainer.errors import ImageError

    decoded, skipped = [], []
    for name, data in _files:
        try:
            decoded.append(images.load_image(data, name, min_side=None if copies else images.WORKING_MIN_SIDE))
        except ImageError as err:
            skipped.append(err)
    return (_network.batch(decoded) if decoded else None), skipped


@st.cache_data(show_spinner=False, max_entries=64)
def photo_top5(photo_digest: str, export_key: tuple, _image, _network, _runner):
    """The student's photo through the exported file: its top-5 (once per photo and export)."""
    from explainer.deploy.pte import top5

    return top5(_network, _runner, _image)


@st.cache_resource(show_spinner=False, max_entries=8)
def network(width: float, resolution: int, weights_id: str, _settings, _loaded):
    """The eager network for these settings (α = 1.0: the shared pretrained model; else seeded random weights)."""
    from explainer.deploy.pte import network_from

    return network_from(_settings, _loaded)
