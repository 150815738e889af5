"""The Compression page's caches: calibration photos, the int8 model per setting, Google's int8 model, and
the comparisons and layer views drawn from them, shared by all sessions."""

from __future__ import annotations

import hashlib

import streamlit as st

from explainer import images, samples
from explainer.errors import AssetError, ImageError


def files_digest(files: tuple[tuple[str, bytes], ...]) -> str:
    """One key for a set of calibration files (the sha256 of their contents' sha256s, in order)."""
    return hashlib.sha256(b"".join(hashlib.sha256(data).digest() for _, data in files)).hexdigest()


@st.cache_resource(show_spinner=False, max_entries=8)
def calibration(digest: str, _files: tuple[tuple[str, bytes], ...], weights_id: str, _loaded, copies: bool = False):
    """(batch, kept, skipped) of the calibration photos, one per set of files (by content hash): ``kept`` the
    positions of the photos in the batch, ``skipped`` (position, error) for the others. No file name is kept:
    the cache is shared, and a session shows its own names (by position). ``copies``: the files are
    :func:`explainer.quant.compare.calibration_copy` PNGs, decoded as they are (already at working size)."""
    from explainer.quant.compare import batch_of

    loaded_images, kept, skipped = [], [], []
    for position, (_name, data) in enumerate(_files):
        try:
            loaded_images.append(images.load_image(data, "image", min_side=None if copies else images.WORKING_MIN_SIDE))
            kept.append(position)
        except ImageError as err:
            skipped.append((position, err))
    return (batch_of(loaded_images, _loaded) if loaded_images else None), tuple(kept), tuple(skipped)


@st.cache_resource(show_spinner=False, max_entries=6)  # each holds an int8 (4 MB) and a fused float (14 MB) model
def quantized(scheme: str, observer: str, equalize: bool, digest: str, weights_id: str, _loaded, _batch):
    """The int8 model for these settings and calibration photos, with its latency and size (measured once)."""
    from explainer.quant.ptq import QuantSettings, compare_latency, quantize, state_dict_bytes

    result = quantize(_loaded.model, _batch, QuantSettings(scheme, observer, equalize), _loaded.name)
    latency = compare_latency(_loaded.model, result.model, runs=10)
    return result, latency, state_dict_bytes(_loaded.model), state_dict_bytes(result.model)


@st.cache_resource(show_spinner=False, max_entries=1)
def google():
    """Google's int8 .tflite model on LiteRT and its latency, or the error that says why not."""
    from explainer.quant.google import GOOGLE_MODEL, google_latency_ms
    from explainer.litert import load_tflite

    try:
        model = load_tflite(GOOGLE_MODEL)
    except AssetError as err:
        return None, err, 0.0
    return model, None, google_latency_ms(model, runs=10)


@st.cache_data(show_spinner=False, max_entries=64)
def predictions(photo_digest: str, settings_key: tuple, _image, _loaded, _int8, _google_model):
    """Top-5 of float, int8 (and Google's) for one photo, once per photo content and settings."""
    import torch

    from explainer.classify import Prediction, preprocess, top_k
    from explainer.quant.compare import logits_of
    from explainer.quant.google import google_scores

    batch = preprocess(_image, _loaded)
    fp32 = top_k(logits_of(_loaded.model, batch)[0], _loaded.categories, 5)
    int8 = top_k(logits_of(_int8, batch)[0], _loaded.categories, 5)
    google_top = None
    if _google_model is not None:
        scores, _ = google_scores(_google_model, _image, _loaded)
        probs = torch.tensor(scores)
        values, indices = torch.topk(probs, 5)
        google_top = [Prediction(int(i), _loaded.categories[int(i)], float(v)) for v, i in zip(values, indices)
                      if v > 0]
    return fp32, int8, google_top


@st.cache_data(show_spinner=False, max_entries=16)
def sample_agreement(settings_key: tuple, digest: str, _loaded, _int8, _google_model):
    """Float vs int8 (vs Google) on the bundled sample photos."""
    from explainer.quant.compare import batch_of, compare_models
    from explainer.quant.google import compare_google

    keys = samples.available_samples()
    photos = [images.load_image(samples.sample_bytes(k)[0], k, min_side=images.WORKING_MIN_SIDE) for k in keys]
    names = list(keys)
    agreement = compare_models(_loaded.model, _int8, batch_of(photos, _loaded), names, _loaded.categories)
    google_agreement = None
    if _google_model is not None:
        google_agreement = compare_google(_google_model, photos, names, _loaded,
                                          [r.fp32_index for r in agreement.images])
    return agreement, google_agreement


@st.cache_data(show_spinner=False, max_entries=16)
def sensitivity(settings_key: tuple, digest: str, _fused, _batch):
    """Each layer quantized alone, per tensor and per channel: how far the logits drift (6 calibration photos)."""
    from explainer.quant.layers import sensitivity as layer_sensitivity

    batch = _batch[:6]
    return {scheme: layer_sensitivity(_fused, batch, scheme) for scheme in ("per-tensor", "per-channel")}


@st.cache_data(show_spinner=False, max_entries=128)
def layer_view(settings_key: tuple, name: str, _fused, _batch, _info):
    """One layer's weights, ranges and SQNR per tensor and per channel."""
    from explainer.quant.layers import layer_view as view_of

    return view_of(_fused, _info, _batch[:6])
