"""The lightweight-family page's caches: the zoo table, the one background latency measurement, the per-layer
times and the machine's roofs, one per process and shared by all sessions."""

from __future__ import annotations

import os

import streamlit as st

from explainer import registry
from explainer.singleflight import SingleFlight
from explainer.zoo import latency

#: ``EXPLAINER_ZOO_LATENCY=off`` switches the background latency measurement off (the table then shows no times).
LATENCY_ENV = "EXPLAINER_ZOO_LATENCY"


@st.cache_resource(show_spinner=False)
def static_rows() -> tuple[latency.ZooRow, ...]:
    """Counts, sizes and published accuracy of every model: once per process."""
    return tuple(latency.static_row(name) for name in registry.MODEL_NAMES)


@st.cache_resource(show_spinner=False)
def latency_runner() -> latency.BackgroundZoo | None:
    """The one background measurement of this process (roofs, then every model), started on first use."""
    if os.environ.get(LATENCY_ENV, "on").strip().lower() in ("0", "off", "no", "false"):
        return None
    import torch

    runner = latency.BackgroundZoo(threads=torch.get_num_threads())  # the app's setting (explainer.threads)
    runner.start()
    return runner


@st.cache_resource(show_spinner=False)
def layer_time_store() -> SingleFlight[dict[str, float]]:
    """Per-layer times by model, measured once per process (shared: one student's click serves all; students
    who press "Measure" while it runs wait for that measurement instead of starting their own)."""
    return SingleFlight(serial=True)


@st.cache_resource(show_spinner=False)
def machine_now():
    """The roofs, measured here when the background measurement is switched off."""
    from explainer.zoo.roofline import measure_machine

    return measure_machine()


def live_rows() -> tuple[list[latency.ZooRow], int, int, bool]:
    """(rows with the latencies measured so far, measured, total, still measuring)."""
    runner = latency_runner()
    measured = runner.snapshot() if runner is not None else {}
    rows = [latency.with_latency(row, measured.get(row.model)) for row in static_rows()]
    total = runner.total if runner is not None else 0
    return rows, len(measured), total, runner is not None and not runner.done
