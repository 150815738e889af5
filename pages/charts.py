"""Charts built once for every session: ``shared_chart(builder, *args, **kwargs)``.

Most students look at the same view (the page's defaults, the lecturer's link),
and building a plotly figure costs far more than showing it (Architectures'
layer chart: about 0.1–0.3 s of CPU). ``shared_chart`` keeps each figure in a
process-wide cache keyed by the builder and the hash of its arguments (data and
already-translated labels, so one entry per language), bounded in entries and
age. ``st.plotly_chart`` only reads a figure (it serialises a copy), so sharing
one object between sessions is safe; never change a figure you got from here.
"""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st


@st.cache_resource(show_spinner=False, max_entries=512, ttl=3600)
def _shared(name: str, args: tuple, kwargs: dict, _builder: Callable[..., Any]) -> Any:
    return _builder(*args, **kwargs)


def shared_chart(builder: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``builder(*args, **kwargs)``, built once per distinct arguments for all sessions of this process."""
    return _shared(f"{builder.__module__}.{builder.__qualname__}", args, kwargs, builder)
