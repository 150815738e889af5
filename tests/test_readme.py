"""The README is the front door: its commands are the real ones, its links resolve, and the benchmark log that
bench/run.py writes (bench/README.md) has the block the command replaces."""

from __future__ import annotations

import re
import sys

import pytest

from bench import run as bench_run
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, re.S)


def test_the_two_commands_and_the_test_command_are_the_ones_ci_runs() -> None:
    blocks = _code_blocks(README)
    assert blocks[0].splitlines() == ["pip install -r requirements.txt", "streamlit run app.py"]
    test_command = "pip install -r requirements-dev.txt && python -m pytest"
    assert test_command + "\n" in blocks
    ci = (ROOT / ".ci" / "run").read_text()
    assert "-r requirements-dev.txt" in ci and "\npython -m pytest\n" in ci


@pytest.mark.parametrize("name", ["README.md", "bench/README.md", "deploy/README.md", "tests/README.md",
                                  "docs/command-line.md"])
def test_relative_links_resolve(name: str) -> None:
    page = ROOT / name
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md":
            anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", file.read_text(encoding="utf-8"), re.M)}
            if anchor not in anchors:
                broken.append(target)
    assert broken == [], f"{name}: links that lead nowhere: {broken}"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_command_of_the_cli_is_in_the_readme() -> None:
    from explainer.cli import COMMANDS

    listed = set(re.findall(r"^python -m explainer (\w+)", README, re.M))
    assert set(COMMANDS) <= listed, f"commands missing from the README's list: {set(COMMANDS) - listed}"


def test_bench_readme_block_is_replaced_and_nothing_else() -> None:
    text = bench_run.README.read_text(encoding="utf-8")
    start, end = text.index(bench_run.BLOCK_START), text.index(bench_run.BLOCK_END)
    inside = text[start + len(bench_run.BLOCK_START):end].strip("\n")
    assert inside.startswith("Measured ") and "| figure | value |" in inside
    assert bench_run.replace_latest_run(text, inside) == text
    new = bench_run.replace_latest_run(text, "Measured now:\n\n| figure | value |")
    assert new[:start] == text[:start] and new.endswith(text[end:])
    assert "Measured now:" in new and inside not in new
    with pytest.raises(ValueError, match="expected one line"):
        bench_run.replace_latest_run(text.replace(bench_run.BLOCK_END, ""), "x")


def test_update_readme_refuses_a_partial_run(capsys: pytest.CaptureFixture[str]) -> None:
    for extra in (["--quick"], ["--only", "cost"], ["--no-load"]):
        with pytest.raises(SystemExit) as exit_:
            bench_run.main(["--update-readme", *extra])
        assert exit_.value.code == 2
    assert "full run" in capsys.readouterr().err


def test_markdown_report_is_what_the_block_holds() -> None:
    from bench.common import Figure

    report = bench_run.markdown_report([Figure("a figure", 2.0, "a baseline", 4.0)], {"cpu": "x"},
                                       "2026-01-01 00:00 UTC", quick=False, seconds=12)
    lines = report.splitlines()
    assert lines[0] == "Measured 2026-01-01 00:00 UTC with `python bench/run.py` (full run, 12 s):"
    assert "| a figure | 2.0 ms | a baseline | 4.0 ms | ×0.50 |  |  |" in lines
    assert lines[-1] == "- **cpu**: x"
    assert sys.modules["bench.run"] is bench_run
