"""One check for every cache: "changing X changes Y".

A cache keyed on less than its result depends on shows one student another input's result: features cached per
photo but not per model, a Streamlit cache whose ``_``-prefixed argument (never hashed) is the only one that
changed, two models whose weights keys are equal. :func:`assert_cache_follows` catches that kind of bug for any
cached function, whatever its key is made of: it fills the cache with a base call, then changes one input at a
time and expects what a fresh computation gives for the changed input — and makes sure the change matters at all
(a change that leaves the fresh result the same would test nothing, so the check refuses it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def assert_cache_follows(cached: Callable[..., Any], fresh: Callable[..., Any], base: Mapping[str, Any],
                         changes: Mapping[str, Any], project: Callable[[Any], Any] = lambda result: result) -> None:
    """``cached(**inputs)`` equals ``fresh(**inputs)`` for ``base`` and for ``base`` with each one input of
    ``changes`` changed, called in that order on the same cache.

    ``project`` reduces a result to what is compared (e.g. the top-5 indices of a classification, a figure's
    JSON). Each change must change the fresh result; otherwise the test names the change as useless.
    """
    expected_base = project(fresh(**base))
    assert project(cached(**base)) == expected_base, "the cached result of the base inputs is not the fresh one"
    for name, value in changes.items():
        inputs = {**base, name: value}
        expected = project(fresh(**inputs))
        assert expected != expected_base, f"changing {name!r} does not change the result: it tests nothing"
        got = project(cached(**inputs))
        assert got == expected, (f"after changing only {name!r} the cache returned the result of other inputs "
                                 "(its key misses what the result depends on)")
        assert project(cached(**base)) == expected_base, f"the base result was lost after changing {name!r}"


def page_panels(at, skip_metrics: tuple[str, ...] = (), skip_charts: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a finished AppTest run shows, panel by panel, for comparing two runs: metrics (label → value),
    tables (their values) and plotly charts (their data, by key); measured times are left out by the caller
    (``skip_metrics`` labels, ``skip_charts`` keys), since they differ from run to run."""
    import json

    panels: dict[str, Any] = {}
    for metric in at.metric:
        if metric.label not in skip_metrics:
            panels[f"metric {metric.label}"] = metric.value
    for index, frame in enumerate(at.dataframe):
        panels[f"table {index}"] = frame.value.to_dict("list")
    for index, chart in enumerate(at.get("plotly_chart")):
        spec = json.loads(chart.proto.spec)
        key = chart.proto.id or str(index)
        if not any(skip in key for skip in skip_charts):
            panels[f"chart {key}"] = json.dumps(spec.get("data"), sort_keys=True)
    return panels


def assert_page_follows_setting(open_page: Callable[[dict[str, str]], Any], change: Callable[[Any], None],
                                link: dict[str, str], **skip: tuple[str, ...]) -> None:
    """Changing one setting on an open page shows exactly what a page opened fresh with that setting shows.

    ``open_page(params)`` runs the page with those URL parameters; ``change(at)`` moves the control on the open
    page; ``link`` is the same setting as URL parameters. Every process-wide cache is emptied before the fresh
    page runs, so a panel cached under a key that misses the setting shows as a difference.
    """
    import streamlit as st

    at = open_page({})
    before = page_panels(at, **skip)
    change(at)
    assert not at.exception, [e.value for e in at.exception]
    changed = page_panels(at, **skip)
    assert changed != before, ("the setting changed no panel: either it changes nothing (no test) or every panel "
                              "kept a result cached under a key that misses the setting")
    st.cache_data.clear()
    st.cache_resource.clear()
    fresh = page_panels(open_page(link), **skip)
    differing = sorted(name for name in set(changed) | set(fresh) if changed.get(name) != fresh.get(name))
    assert not differing, f"after the change these panels still show another setting's result: {differing}"
