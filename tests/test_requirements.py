"""The installed packages are inside the ranges requirements*.txt pin (those were checked; see the comments there)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.requirements import Requirement

from tests.conftest import ROOT


def _requirements(name: str) -> list[Requirement]:
    found = []
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-r"):
            found.append(Requirement(line))
    return found


def test_streamlit_is_pinned_below_the_next_minor_release() -> None:
    """The load client and pages/legacy_folder.py read Streamlit's private parts: an upper bound is a must."""
    (streamlit,) = [r for r in _requirements("requirements.txt") if r.name == "streamlit"]
    assert any(spec.operator == "<" for spec in streamlit.specifier), "requirements.txt: streamlit needs an upper bound"
    assert not streamlit.specifier.contains("1.68.0")


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt"])
def test_installed_versions_are_in_the_pinned_ranges(name: str) -> None:
    outside = []
    for requirement in _requirements(name):
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            outside.append(f"{requirement.name}: not installed")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            outside.append(f"{requirement.name} {installed} is outside {requirement.specifier}")
    assert outside == [], f"{name}: " + "; ".join(outside)
