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
