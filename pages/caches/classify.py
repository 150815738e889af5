"""The Classify page's caches: a photo's result, a model's cost and the top-k chart, shared by all sessions."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from explainer.classify import Classification, classify_image, model_cost, tensor_to_image
from explainer.figures.classify import top_k_bar
from explainer.images import data_uri, jpeg_bytes
from explainer.labels import imagenet_label


@st.cache_data(show_spinner=False, max_entries=32)
def _cost(name: str, weights_id: str, width: float, input_size: int, _loaded) -> tuple[int, int, str]:
    """MACs, params and their source, once per model variant (the network itself is not hashed)."""
    cost = model_cost(_loaded)
    return cost.macs, cost.params, cost.source


def cost_of(loaded) -> tuple[int, int, str]:
    return _cost(loaded.name, loaded.weights_id, loaded.width, loaded.input_size, loaded)



@st.cache_data(show_spinner=False, max_entries=64, ttl=3600)
def _classified(digest: str, name: str, weights: str, top: int, _image, _loaded) -> tuple[Classification, str, int]:
    """One photo (by the sha256 of its bytes) through one model, once for all sessions.

    Returns the result without its input tensor, the tensor the network saw as a JPEG
    ``data:`` URI (shown without re-encoding) and its side in pixels.
    """
    result = classify_image(_image, _loaded, top)
    fed = data_uri(jpeg_bytes(tensor_to_image(result.input_tensor, _loaded)))
    return replace(result, input_tensor=None), fed, int(result.input_tensor.shape[-1])


def classified(choice, loaded, top: int) -> tuple[Classification, str, int]:
    """``choice``'s photo through ``loaded``: (result, the network's input as a JPEG data URI, its side)."""
    return _classified(choice.digest, loaded.name, loaded.cache_key, top, choice.image, loaded)


@st.cache_resource(show_spinner=False, max_entries=128, ttl=3600)
def _top_chart(digest: str, name: str, weights: str, lang: str, title: str, prob_label: str, height: int,
               _result: Classification):
    return top_k_bar(_result.predictions, title=title, prob_label=prob_label, height=height,
                     names=[imagenet_label(p.index, lang) for p in _result.predictions])


def top_chart(choice, loaded, result: Classification, lang: str, title: str, prob_label: str, height: int = 300):
    """The top-k chart of one cached result, built once per language (st.plotly_chart only reads it);
    class names in that language, the English ones on hover."""
    return _top_chart(choice.digest, loaded.name, loaded.cache_key, lang, title, prob_label, height, result)
