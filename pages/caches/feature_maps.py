"""The Feature-maps page's caches: one photo's capture and its journey strip, shared by all sessions."""

from __future__ import annotations

import streamlit as st

from explainer import features as fm
from explainer.figures import features as figs

#: Captures kept: one V2 capture is about 14 MB in float16.
CACHE_ENTRIES = 6


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES, ttl=3600)
def _capture(digest: str, name: str, weights: str, _image, _loaded) -> fm.FeatureMaps:
    """Every stage of ``name`` for the photo whose bytes hash to ``digest`` (the only forward pass).

    Shared read-only, not copied: as ``st.cache_data`` the 14 MB of float16 maps were unpickled on every
    rerun, i.e. on every slider move. Nothing writes into them (the figures read the tensors through
    ``.float()`` copies); the numpy arrays are made read-only so that a write would fail loudly.
    """
    maps = fm.capture_image(_image, _loaded).compact()
    for array in [maps.input_image, *(record.activity for record in maps.records)]:
        if array is not None:
            array.setflags(write=False)
    return maps


def capture(choice, loaded) -> fm.FeatureMaps:
    """``choice``'s photo through ``loaded``, once per photo content, model and weights."""
    return _capture(choice.digest, loaded.name, weights_key(loaded), choice.image, loaded)


def weights_key(loaded) -> str:
    return f"{loaded.kind}:{loaded.weights_id}:{loaded.source}"


@st.cache_resource(show_spinner=False, max_entries=4 * CACHE_ENTRIES, ttl=3600)
def _journey(digest: str, name: str, weights: str, lang: str, _maps: fm.FeatureMaps):
    """The journey strip does not depend on the sliders: drawn once per capture and language.

    Shared, not copied: unpickling a plotly figure (``st.cache_data``) validates it all again.
    """
    return figs.journey_strip(_maps, lang=lang)


def journey(choice, loaded, lang: str, maps: fm.FeatureMaps):
    """The journey strip of ``capture(choice, loaded)`` in ``lang`` (st.plotly_chart only reads it)."""
    return _journey(choice.digest, loaded.name, weights_key(loaded), lang, maps)
