"""Models shared by every session: loaded once per process with ``st.cache_resource``.

``get_model(name) -> LoadedModel`` is what the Classify and Feature-maps pages
call. It resolves the weights (``EXPLAINER_WEIGHTS_DIR`` folder, the cache,
download — see :mod:`explainer.weights` and :mod:`explainer.catalogue`), shows
:mod:`pages.downloads`' progress bar while downloading, and falls back to untrained weights when none are
available; ``LoadedModel.pretrained`` / ``.problem`` tell the page to show
the "untrained" banner and what to do about it. The model objects are shared
by all sessions, so memory does not grow with the number of users. Loaded
models are in eval mode; run them under ``torch.inference_mode()``.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import streamlit as st

from explainer.classify import reference_latency_ms
from explainer.errors import AssetError, ExplainerError, WeightsError
from explainer.models import DISPLAY_NAMES, MODEL_NAMES
from explainer.weights import WEIGHTS_DIR_ENV, LoadedModel, fetch, load_pretrained, resolve, untrained
from pages.downloads import download
from pages.setup_notes import for_lecturer, not_installed, runnable_models
from pages.ui import tr
from pages.url_state import coded


def freeze_long_lived_objects() -> None:
    """Exempt what is loaded so far (libraries, models) from Python's garbage collector.

    By default Streamlit runs ``gc.collect()`` after every script run (switched
    off in ``.streamlit/config.toml``, ``runner.postScriptGC``), and Python's own
    full collections still come every so often. With torch, torchvision and
    plotly in memory each full collection re-walks that whole start-up heap:
    measured here about 0.23 s of the 0.29 s of server CPU per run, holding the
    GIL. ``gc.freeze()`` moves the objects alive now into a permanent generation
    that collections skip; garbage made later is still collected as before.
    With 60 students at once, p95 upload→result fell from 17.6 s to 3.6 s,
    memory growth unchanged (bench/loadtest.py).
    """
    gc.collect()
    gc.freeze()


#: Freeze again once this many modules were imported since the last freeze (plotly alone brings hundreds).
FREEZE_AFTER_NEW_MODULES = 25
_freeze_lock = threading.Lock()
_heap = {"models_loaded": 0, "frozen_modules": 0, "frozen_models": -1, "freezes": 0}  # per process


def freeze_when_heap_grew() -> bool:
    """:func:`freeze_long_lived_objects` after a script run that left new long-lived objects (``app.py``).

    Called at the end of every run; it freezes only when libraries were imported
    (``len(sys.modules)`` grew by :data:`FREEZE_AFTER_NEW_MODULES`) or a model was
    loaded since the last freeze — a handful of times per process: after the first
    page, after the first page that imports plotly, after each model's first load.
    Freezing only after the first page served was not enough: when that page is Home
    (as for most first visitors) the models and plotly are loaded later and every
    collection walked them again (0.3 s of CPU per visit, bench/profile_visit.py).
    Memory: a frozen object is still freed by reference counting; only cyclic
    garbage among the objects alive at a freeze (e.g. another session's half-run
    script at that instant) is never collected, a bounded, one-time amount.
    Returns whether it froze (for tests).
    """
    modules = len(sys.modules)
    if (modules - _heap["frozen_modules"] < FREEZE_AFTER_NEW_MODULES
            and _heap["models_loaded"] == _heap["frozen_models"]):
        return False
    with _freeze_lock:
        modules = len(sys.modules)
        if (modules - _heap["frozen_modules"] < FREEZE_AFTER_NEW_MODULES
                and _heap["models_loaded"] == _heap["frozen_models"]):
            return False
        freeze_long_lived_objects()
        _heap.update(frozen_modules=modules, frozen_models=_heap["models_loaded"], freezes=_heap["freezes"] + 1)
        return True


#: Bytes per read when the server sends a static file or image (Starlette's default is 64 KB).
STATIC_CHUNK_BYTES = 1 << 20


@st.cache_resource(show_spinner=False)
def tune_static_files() -> bool:
    """Send static files (the frontend's 7.7 MB per first visit) in 1 MB reads instead of 64 KB.

    Streamlit serves its JavaScript, fonts and images with Starlette's ``FileResponse``,
    which reads each file in ``chunk_size`` pieces, each read a hop to a worker thread
    and back: the 4.7 MB plotly bundle alone took 72. Behind ``python -m explainer
    serve`` nginx serves ``/static/`` itself and this matters less.
    """
    try:
        from starlette.responses import FileResponse
    except ImportError:  # another server implementation: nothing to tune
        return False
    if getattr(FileResponse, "chunk_size", 0) < STATIC_CHUNK_BYTES:
        FileResponse.chunk_size = STATIC_CHUNK_BYTES
    return True


def _warm_up(loaded: LoadedModel) -> LoadedModel:
    """Warm the model up and time it once per process: ``reference_ms`` (the stopwatch's median, see
    :func:`explainer.classify.reference_latency_ms`)."""
    loaded.reference_ms = reference_latency_ms(loaded)
    with _freeze_lock:
        _heap["models_loaded"] += 1  # the next run's end freezes it (freeze_when_heap_grew)
    return loaded


_loaded_once: set[tuple[str, str, str]] = set()  # (name, weights folder, kind) loaded in this process


@st.cache_resource(show_spinner=False, max_entries=16)
def _load(name: str, weights_dir: str, kind: str) -> LoadedModel:
    """One model per (name, weights folder, source kind), shared by all sessions."""
    return _warm_up(load_pretrained(name, weights_dir or None, download=False, fallback=True))


@st.cache_resource(show_spinner=False, max_entries=8)
def _untrained(name: str) -> LoadedModel:
    return _warm_up(untrained(name))


DEFAULT_MODEL = "mobilenet_v2"


def model_choice(label: str, key: str, names: Sequence[str] = MODEL_NAMES, *, coded_as: str | None = "model",
                 help: str | None = None) -> tuple[str, list[ExplainerError]]:
    """The model choice of the Classify, Feature-maps and Teach pages (MobileNetV2 first chosen; ``?model=``), and
    why the models not offered are not (for the lecturer: pass them to :func:`untrained_banner`).

    Offers only the models of ``names`` this server can run with ImageNet weights (:mod:`pages.setup_notes`),
    with one neutral line for students about the others. With none at all it offers MobileNetV2, which then
    runs with random weights under :func:`untrained_banner`. ``coded_as``: the URL parameter that keeps the
    choice (``None``: not in the URL)."""
    usable, problems = runnable_models(names)
    options = usable or [DEFAULT_MODEL]
    default = DEFAULT_MODEL if DEFAULT_MODEL in options else options[0]
    if key in st.session_state and st.session_state[key] not in options:  # e.g. its weights' download failed
        del st.session_state[key]
    in_url = coded(coded_as, options, default, key=key) if coded_as else {"key": key}
    name = st.selectbox(label, options, index=options.index(default), format_func=DISPLAY_NAMES.__getitem__,
                        help=help, **in_url)
    if usable:
        not_installed(len(names) - len(usable))
    else:
        st.caption(tr("setup.none_trained"))
    return name, [problem for n, problem in problems.items() if n not in options]


def model_selector(label: str, key: str, names: Sequence[str] = MODEL_NAMES, **options) -> str:
    """:func:`model_choice` with the lecturer's set-up notes shown right below it."""
    name, problems = model_choice(label, key, names, **options)
    for_lecturer(problems)
    return name


def get_model(name: str) -> LoadedModel:
    """``name`` with the best weights available (pretrained if at all possible), shared by all sessions.

    Never raises for missing weights: the result is then untrained and carries the
    reason in ``.problem`` (also for a broken weights file or folder), which
    :func:`untrained_banner` shows the lecturer.
    """
    weights_dir = os.environ.get(WEIGHTS_DIR_ENV, "").strip()
    try:
        where = resolve(name, weights_dir or None)
        if where.kind == "download":
            problem = download(where.path.name, lambda progress: fetch(name, progress))
            if problem is not None:
                loaded = _untrained(name)
                return replace(loaded, problem=problem)
            where = resolve(name, weights_dir or None)
        key = (name, weights_dir, where.kind)
        if key in _loaded_once:  # no spinner (it starts a thread per call) once the model is in memory
            return _load(*key)
        with st.spinner(tr("weights.loading", model=DISPLAY_NAMES[name])):
            loaded = _load(*key)
        _loaded_once.add(key)
        return loaded
    except (WeightsError, AssetError) as err:  # a broken file or folder: untrained_banner tells the lecturer
        loaded = _untrained(name)
        return replace(loaded, problem=err)


def untrained_banner(loaded: LoadedModel, also: Sequence[ExplainerError] = ()) -> None:
    """The prominent warning for a model running with random weights; what to do about it (and about ``also``,
    e.g. the models :func:`model_choice` did not offer) is for the lecturer (presenter mode,
    :func:`pages.setup_notes.for_lecturer`), never set-up instructions for students."""
    if not loaded.pretrained:
        st.warning(tr("weights.untrained_banner", model=DISPLAY_NAMES[loaded.name]), icon="⚠️")
        if loaded.name == "mobilenet_v1" and (loaded.problem is None or loaded.problem.key == "weights.v1_untrained"):
            st.caption(tr("setup.v1_note"))
    for_lecturer(([loaded.problem] if loaded.problem is not None and not loaded.pretrained else []) + list(also))


def source_text(loaded: LoadedModel) -> str:
    """Where the weights came from, in the user's language: named, never the server's path (that is the
    CLI's ``weights status``)."""
    if loaded.kind == "file":
        return tr("weights.source_file", path=Path(loaded.source).name)
    if loaded.kind in ("cache", "download"):
        return tr(f"weights.source_{loaded.kind}", weights_id=loaded.weights_id)
    return tr("weights.source_untrained")
