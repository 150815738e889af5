"""The Feature-maps page's caches: one photo's capture and the figures drawn from it, shared by all sessions."""

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
    return _capture(choice.digest, loaded.name, loaded.cache_key, choice.image, loaded)



@st.cache_resource(show_spinner=False, max_entries=4 * CACHE_ENTRIES, ttl=3600)
def _journey(digest: str, name: str, weights: str, lang: str, _maps: fm.FeatureMaps):
    """The journey strip does not depend on the sliders: drawn once per capture and language.

    Shared, not copied: unpickling a plotly figure (``st.cache_data``) validates it all again.
    """
    return figs.journey_strip(_maps, lang=lang)


def journey(choice, loaded, lang: str, maps: fm.FeatureMaps):
    """The journey strip of ``capture(choice, loaded)`` in ``lang`` (st.plotly_chart only reads it)."""
    return _journey(choice.digest, loaded.name, loaded.cache_key, lang, maps)


#: Figures kept of each kind below: a lecture hall moving the same sliders over the same photo draws each view
#: once (a figure holds 0.3–0.9 MB: at most about 65 MB for the three kinds).
FIGURE_ENTRIES = 24


@st.cache_resource(show_spinner=False, max_entries=FIGURE_ENTRIES, ttl=3600)
def _path_strip(digest: str, name: str, weights: str, block: int, lang: str, _maps: fm.FeatureMaps):
    """A block's bottleneck strip, drawn once per capture, block and language."""
    return figs.path_strip(_maps.block(block), lang=lang)


def path_strip(choice, loaded, maps: fm.FeatureMaps, block: int, lang: str):
    """The bottleneck strip of ``block`` of ``capture(choice, loaded)`` (st.plotly_chart only reads it)."""
    return _path_strip(choice.digest, loaded.name, loaded.cache_key, block, lang, maps)


@st.cache_resource(show_spinner=False, max_entries=FIGURE_ENTRIES, ttl=3600)
def _channel_grid(digest: str, name: str, weights: str, block: int, stage: str, channels: tuple[int, ...],
                  normalise: str, title: str, _record: fm.StageRecord):
    """The grid of ``channels`` of one stage, drawn once per capture, stage, channels, colour scale and title."""
    return figs.channel_grid(_record, list(channels), normalise=normalise, title=title)


def channel_grid(choice, loaded, record: fm.StageRecord, channels: list[int], normalise: str, title: str):
    """:func:`explainer.figures.features.channel_grid` of a stage of ``capture(choice, loaded)``, shared."""
    return _channel_grid(choice.digest, loaded.name, loaded.cache_key, record.block, record.stage,
                         tuple(int(c) for c in channels), normalise, title, record)


@st.cache_resource(show_spinner=False, max_entries=FIGURE_ENTRIES, ttl=3600)
def _channel_figure(digest: str, name: str, weights: str, block: int, stage: str, channel: int, overlay: bool,
                    title: str, _maps: fm.FeatureMaps):
    """One channel enlarged (over the photo the network saw, or alone), drawn once per view."""
    return figs.channel_figure(_maps.record(block, stage), channel, photo=_maps.input_image if overlay else None,
                               title=title)


def channel_figure(choice, loaded, maps: fm.FeatureMaps, record: fm.StageRecord, channel: int, overlay: bool,
                   title: str):
    """Channel ``channel`` of ``record`` (a stage of ``maps``) enlarged, shared by every session that shows it."""
    return _channel_figure(choice.digest, loaded.name, loaded.cache_key, record.block, record.stage,
                           int(channel), bool(overlay), title, maps)
