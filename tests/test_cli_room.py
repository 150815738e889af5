"""``python -m explainer room …``: the lecture from the command line (same core as the page)."""

from __future__ import annotations

import csv
import json
import re

import pytest
from sqlalchemy import func, select

from explainer.costs import depthwise_separable
from explainer.lecture import store
from tests.conftest import run_cli


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    yield url
    store.forget_engine(url)


def cli_json(capsys, *argv):
    status, out, err = run_cli(capsys, "room", *argv, "--json")
    assert status == 0, err
    return json.loads(out)


def fails(capsys, *argv) -> str:
    status, out, err = run_cli(capsys, "room", *argv)
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def table_rows(url: str) -> tuple:
    engine = store.engine_for(url)
    with engine.connect() as c:
        return tuple(c.execute(select(func.count()).select_from(t)).scalar()
                     for t in (store.rooms, store.rounds, store.answers)), \
            c.execute(select(store.rooms)).all()


def test_a_lecture_from_the_command_line(capsys, db, tmp_path):
    created = cli_json(capsys, "create", "--title", "MobileNets 101", "--db", db)
    room, key = created["room"], created["lecturer_key"]
    assert created["join_path"] == f"/lecture?room={room}" and len(room) == 6

    listed = cli_json(capsys, "questions", "--db", db)
    by_id = {q["id"]: q for q in listed}
    assert by_id["dsc_macs"]["answer"] == depthwise_separable(3, 32, 64, 112).macs
    assert by_id["v1_macs_kind"]["options"][by_id["v1_macs_kind"]["answer"]] == "The pointwise 1×1 convolutions"
    assert "answer" not in by_id["top1_chelsea"] and by_id["top1_chelsea"]["kind"] == "top1"
    assert all(set(q) >= {"id", "kind", "step", "text_en", "text_zh"} for q in listed)

    fails(capsys, "vote", room, "--participant", "student01", "--answer", "2", "--db", db)  # nothing open
    state = cli_json(capsys, "step", room, "--key", key, "--to", "5", "--db", db)
    assert state["step"] == 5
    assert cli_json(capsys, "ask", room, "--key", key, "--question", "v1_macs_kind", "--db", db)["open"]
    cli_json(capsys, "vote", room, "--participant", "student01", "--answer", "0", "--db", db)
    cli_json(capsys, "vote", room, "--participant", "student01", "--answer", "2", "--db", db)  # replaces
    cli_json(capsys, "vote", room, "--participant", "student02", "--answer", "1", "--db", db)
    assert "not revealed" in fails(capsys, "results", room, "--db", db)  # open: needs the key
    result = cli_json(capsys, "results", room, "--key", key, "--db", db)
    assert result["votes"] == 2 and result["counts"] == {"0": 0, "1": 1, "2": 1, "3": 0} and result["answer"] == 2
    assert result["question"] == "v1_macs_kind" and result["round"] == 1 and result["open"] is True
    cli_json(capsys, "close", room, "--key", key, "--db", db)
    cli_json(capsys, "reveal", room, "--key", key, "--db", db)
    assert cli_json(capsys, "results", room, "--db", db)["votes"] == 2  # revealed: anyone may see it

    cli_json(capsys, "ask", room, "--key", key, "--question", "dsc_macs", "--round", "2", "--db", db)
    cli_json(capsys, "vote", room, "--participant", "student01", "--answer", "3e7", "--db", db)
    numbers = cli_json(capsys, "results", room, "--question", "dsc_macs", "--round", "2", "--key", key, "--db", db)
    assert numbers["values"] == [3e7] and numbers["answer"] == 29_302_784

    out = tmp_path / "answers.csv"
    exported = cli_json(capsys, "export", room, "--key", key, "--csv", str(out), "--db", db)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert exported["answers"] == len(rows) == 3


def test_errors_are_one_line_and_change_nothing(capsys, db, tmp_path):
    created = cli_json(capsys, "create", "--db", db)
    room, key = created["room"], created["lecturer_key"]
    cli_json(capsys, "ask", room, "--key", key, "--question", "saving", "--db", db)
    cli_json(capsys, "vote", room, "--participant", "student01", "--answer", "8", "--db", db)
    before = table_rows(db)
    assert "lecturer key" in fails(capsys, "close", room, "--key", "guess", "--db", db)
    assert "lecturer key" in fails(capsys, "step", room, "--key", "guess", "--to", "2", "--db", db)
    assert "lecturer key" in fails(capsys, "ask", room, "--key", "", "--question", "saving", "--db", db)
    assert "lecturer key" in fails(capsys, "export", room, "--key", "x", "--csv", str(tmp_path / "x.csv"), "--db", db)
    assert not (tmp_path / "x.csv").exists()
    assert "no room" in fails(capsys, "close", "ABCDEF", "--key", key, "--db", db)
    assert "join code" in fails(capsys, "vote", "0OIL11", "--participant", "student01", "--answer", "1", "--db", db)
    assert "Unknown question" in fails(capsys, "ask", room, "--key", key, "--question", "nope", "--db", db)
    assert "Round" in fails(capsys, "ask", room, "--key", key, "--question", "saving", "--round", "3", "--db", db)
    assert "not on the path" in fails(capsys, "step", room, "--key", key, "--to", "99", "--db", db)
    assert "positive number" in fails(capsys, "vote", room, "--participant", "student01", "--answer", "-3",
                                      "--db", db)
    assert "participant" in fails(capsys, "vote", room, "--participant", "x", "--answer", "3", "--db", db)
    assert table_rows(db) == before
    assert "cannot be used" in fails(capsys, "create", "--db", "nosuchdriver://x")


def test_lecturer_keys_never_look_like_an_option():
    """``--key KEY`` must parse for every key: 5,000 fresh keys (with a leading "-" allowed, about 78 of them would
    start with one), all 32 URL-safe characters."""
    from explainer.lecture.rooms import new_lecturer_key

    keys = [new_lecturer_key() for _ in range(5000)]
    assert not [k for k in keys if k.startswith("-")]
    assert all(len(k) == 32 and re.fullmatch(r"[A-Za-z0-9_-]+", k) for k in keys) and len(set(keys)) == 5000


def test_room_is_listed_in_help(capsys):
    status, out, _ = run_cli(capsys, "--help")
    assert status == 0 and "room" in out
