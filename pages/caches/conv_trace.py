"""The "Inside a convolution" page's cache: one photo's capture with every convolution's input, shared by all
sessions."""

from __future__ import annotations

import streamlit as st

from explainer import trace as T
from explainer.features import FeatureMaps

#: Captures kept (one V2 capture with its inputs: about 30 MB of float32).
CACHE_ENTRIES = 4


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES, ttl=3600)
def _capture(digest: str, name: str, weights: str, _image, _loaded) -> FeatureMaps:
    """Every stage of ``name`` and every convolution's input for the photo whose bytes hash to ``digest``."""
    return T.capture_for_trace(_image, _loaded)


def capture(choice, loaded) -> FeatureMaps:
    """``choice``'s photo through ``loaded`` (the page's only forward pass), once per photo content, model and
    weights; shared read-only (``st.cache_resource``: too large to copy on every rerun as ``st.cache_data``
    would)."""
    return _capture(choice.digest, loaded.name, loaded.cache_key, choice.image,
                    loaded)
