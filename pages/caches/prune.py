"""The pruning section's caches (Compression page): one pruning experiment per setting, once per process."""

from __future__ import annotations

import streamlit as st


@st.cache_resource(show_spinner=False, max_entries=6)  # each holds a pruned and a masked copy of MobileNetV2
def experiment(keep: float, blocks: tuple[str, ...], recover: bool, digest: str, weights_id: str, _loaded, _batch):
    """Prune, recover (on the page's calibration photos), build the masked twin, count and time all three."""
    from explainer import prune

    return prune.run(_loaded.model, keep, blocks, calibration=_batch if recover else None, runs=10)


@st.cache_data(show_spinner=False, max_entries=16)
def sample_agreement(settings_key: tuple, _loaded, _pruned):
    """Original vs pruned on the bundled sample photos."""
    from explainer import images, prune, samples
    from explainer.quant.compare import batch_of

    keys = list(samples.available_samples())
    photos = [images.load_image(samples.sample_bytes(k)[0], k, min_side=images.WORKING_MIN_SIDE) for k in keys]
    return prune.compare(_loaded.model, _pruned, batch_of(photos, _loaded), keys, _loaded.categories)


@st.cache_data(show_spinner=False, max_entries=64)
def predictions(photo_digest: str, settings_key: tuple, _image, _loaded, _pruned):
    """Top-5 of the original and the pruned network for one photo, once per photo content and setting."""
    from explainer.classify import preprocess, top_k
    from explainer.quant.compare import logits_of

    batch = preprocess(_image, _loaded)
    return top_k(logits_of(_loaded.model, batch)[0], _loaded.categories, 5), \
        top_k(logits_of(_pruned, batch)[0], _loaded.categories, 5)
