"""The lecture core (explainer/lecture): rooms, keys, rounds, tallies, CSV — on SQLite and a real PostgreSQL.

The PostgreSQL runs come from the session fixture ``postgres_url`` (a throwaway cluster, tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from explainer.costs import depthwise_separable, inverted_residual, standard_conv
from explainer.counting import count_module
from explainer.errors import InvalidInputError
from explainer.lecture import path, questions, rooms, store
from explainer.lecture.rooms import CODE_ALPHABET, Lecture

PARTICIPANTS = 120


@pytest.fixture(params=["sqlite", "postgresql"])
def lecture(request, tmp_path) -> Lecture:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'lecture.sqlite3'}"
        yield Lecture(url)
        store.forget_engine(url)
    else:
        url = request.getfixturevalue("postgres_url")
        yield Lecture(url)


def pid(i: int) -> str:
    return f"p{i:08d}"


# --- the store -----------------------------------------------------------------------------------------------


def test_sqlite_file_is_in_wal_mode_with_a_busy_timeout(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'x.sqlite3'}"
    engine = store.engine_for(url)
    try:
        with engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == store.BUSY_TIMEOUT_MS
            assert c.execute(select(store.schema_version.c.version)).scalar() == store.SCHEMA_VERSION
    finally:
        store.forget_engine(url)


def test_default_database_is_a_file_in_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(store.DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(store.DATA_HOME_ENV, str(tmp_path))
    assert store.default_url() == f"sqlite:///{tmp_path / store.DB_FILE}"
    monkeypatch.setenv(store.DATABASE_URL_ENV, "postgresql+psycopg://u@h:5/db")
    assert store.default_url() == "postgresql+psycopg://u@h:5/db"


def test_a_newer_schema_is_refused_and_migration_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    engine = store.make_engine(url)
    assert store.migrate(engine) == store.SCHEMA_VERSION  # a second start changes nothing
    with engine.begin() as c:
        c.execute(store.schema_version.update().values(version=store.SCHEMA_VERSION + 1))
    engine.dispose()
    with pytest.raises(InvalidInputError, match="schema version"):
        store.make_engine(url)


def test_an_unreachable_database_is_one_line_without_password():
    with pytest.raises(InvalidInputError) as info:
        store.make_engine("postgresql+psycopg://user:secret@127.0.0.1:1/db")
    assert "secret" not in str(info.value) and "\n" not in str(info.value)


# --- rooms and keys ------------------------------------------------------------------------------------------


def test_join_codes_are_random_and_unambiguous(lecture):
    codes = [lecture.create().code for _ in range(40)]
    assert len(set(codes)) == 40
    assert all(len(c) == 6 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("01OIL") & set(CODE_ALPHABET)
    # secrets-random, not sequential: the characters used spread over the alphabet
    assert len(set("".join(codes))) > 20


def test_the_key_is_stored_hashed_and_checked(lecture):
    room = lecture.create("Hall 1")
    with lecture.engine.connect() as c:
        row = c.execute(select(store.rooms).where(store.rooms.c.code == room.code)).one()
    assert room.key not in row.key_hash and len(room.key) >= 32
    for wrong in ("", "x", room.key[:-1], None):
        with pytest.raises(InvalidInputError, match="lecturer key"):
            lecture.step(room.code, wrong, 3)
    assert lecture.state(room.code).step == 0


@pytest.mark.parametrize("action", ["step", "ask", "close", "reveal", "export", "delete", "results"])
def test_students_cannot_control_a_room(lecture, action):
    room = lecture.create()
    lecture.ask(room.code, room.key, "dsc_macs")
    lecture.vote(room.code, pid(1), "29e6")
    before = lecture.state(room.code)
    other = lecture.create()  # a key of another room is not this room's key
    calls = {"step": lambda k: lecture.step(room.code, k, 4), "ask": lambda k: lecture.ask(room.code, k, "saving"),
             "close": lambda k: lecture.close(room.code, k), "reveal": lambda k: lecture.reveal(room.code, k),
             "export": lambda k: lecture.export_csv(room.code, k), "delete": lambda k: lecture.delete(room.code, k),
             "results": lambda k: lecture.results(room.code, key=k)}
    for key in (other.key, pid(1), "", room.code):
        with pytest.raises(InvalidInputError, match="lecturer key"):
            calls[action](key)
    assert lecture.state(room.code) == before
    with pytest.raises(InvalidInputError, match="not revealed"):
        lecture.results(room.code)  # no key: hidden until revealed


def test_expiry_and_delete(lecture, monkeypatch):
    monkeypatch.setenv(rooms.EXPIRY_DAYS_ENV, "1")
    old = lecture.create(now=1_000_000.0)
    assert lecture.state(old.code, now=1_000_000.0 + 3600).code == old.code
    with pytest.raises(InvalidInputError, match="no room"):
        lecture.state(old.code, now=1_000_000.0 + 86400 + 1)
    assert lecture.purge_expired() >= 1
    with pytest.raises(InvalidInputError, match="no room"):
        lecture.state(old.code)
    room = lecture.create()
    lecture.ask(room.code, room.key, "saving")
    lecture.vote(room.code, pid(1), "9")
    lecture.delete(room.code, room.key)
    with pytest.raises(InvalidInputError, match="no room"):
        lecture.state(room.code)
    with lecture.engine.connect() as c:
        assert c.execute(select(store.answers).where(store.answers.c.room == room.code)).first() is None


def test_bad_codes_are_one_line_errors(lecture):
    for code in ("", "abc", "ABCDE0", "ABCDEFG", "<b>x</b>"):
        with pytest.raises(InvalidInputError):
            lecture.state(code)
    code = lecture.create().code
    assert lecture.state(code.lower()).code == code  # typed in lower case on a phone


# --- rounds and tallies --------------------------------------------------------------------------------------


def test_one_answer_per_participant_per_round_and_changes_replace(lecture):
    room = lecture.create()
    with pytest.raises(InvalidInputError, match="No question is open"):
        lecture.vote(room.code, pid(1), "1")
    lecture.ask(room.code, room.key, "v1_macs_kind")
    for _ in range(30):  # a participant cannot stuff the count
        lecture.vote(room.code, pid(1), "0")
    lecture.vote(room.code, pid(1), "2")
    lecture.vote(room.code, pid(2), "1")
    assert lecture.answered(room.code, "v1_macs_kind", 1) == 2
    result = lecture.results(room.code, key=room.key)
    assert result.votes == 2 and result.counts == {0: 0, 1: 1, 2: 1, 3: 0} and result.is_open
    for bad in ("4", "-1", "1.0", "two", "", "01"):
        with pytest.raises(InvalidInputError, match="not an option"):
            lecture.vote(room.code, pid(3), bad)
    for bad in ("x" * 65, "a b", "p1", "<script>", "p0000001;DROP"):
        with pytest.raises(InvalidInputError, match="participant"):
            lecture.vote(room.code, bad, "1")
    assert lecture.answered(room.code, "v1_macs_kind", 1) == 2
    lecture.close(room.code, room.key)
    with pytest.raises(InvalidInputError, match="No question is open"):
        lecture.vote(room.code, pid(4), "1")
    with pytest.raises(InvalidInputError, match="not revealed"):
        lecture.results(room.code)
    lecture.reveal(room.code, room.key)
    shown = lecture.results(room.code)
    assert shown.revealed and shown.counts == {0: 0, 1: 1, 2: 1, 3: 0} and shown.answer == 2
    # round 2 after discussion: a fresh tally beside the first
    lecture.ask(room.code, room.key, "v1_macs_kind", 2)
    assert lecture.state(room.code).round == 2 and not lecture.state(room.code).revealed
    lecture.vote(room.code, pid(1), "2")
    assert lecture.results(room.code, "v1_macs_kind", 2, key=room.key).votes == 1
    assert lecture.results(room.code, "v1_macs_kind", 1).votes == 2  # round 1 stays revealed
    with pytest.raises(InvalidInputError, match="not revealed"):
        lecture.results(room.code, "v1_macs_kind", 2)
    assert [(q, r) for q, r, *_ in lecture.asked(room.code)] == [("v1_macs_kind", 1), ("v1_macs_kind", 2)]


def test_numbers_are_checked_and_stepping_closes_the_question(lecture):
    room = lecture.create()
    lecture.ask(room.code, room.key, "dsc_macs")
    for bad in ("0", "-5", "nan", "inf", "1e16", "lots", ""):
        with pytest.raises(InvalidInputError, match="positive number"):
            lecture.vote(room.code, pid(1), bad)
    assert lecture.vote(room.code, pid(1), "29,302,784")[1] == "29302800.0"  # 6 significant digits kept
    state = lecture.step(room.code, room.key, 5)
    assert state.step == 5 and not state.is_open and state.question is None
    with pytest.raises(InvalidInputError, match="not on the path"):
        lecture.step(room.code, room.key, len(path.STEPS))
    assert lecture.results(room.code, "dsc_macs", key=room.key).values == [29302800.0]


def test_csv_export_has_every_answer(lecture):
    room = lecture.create()
    lecture.ask(room.code, room.key, "v1_params_kind")
    for i in range(5):
        lecture.vote(room.code, pid(i), str(i % 4))
    lecture.ask(room.code, room.key, "fp32_mb")
    lecture.vote(room.code, pid(0), "14")
    rows = list(csv.DictReader(io.StringIO(lecture.export_csv(room.code, room.key))))
    assert len(rows) == 6
    assert {r["question"] for r in rows} == {"v1_params_kind", "fp32_mb"}
    assert rows[-1]["true_answer"] == "14.02" or any(r["true_answer"] == "14.02" for r in rows)
    choice = [r for r in rows if r["question"] == "v1_params_kind"]
    assert {r["true_answer"] for r in choice} == {"The pointwise 1×1 convolutions"}


def test_120_participants_at_once_counted_exactly_once(lecture):
    """120 threads answer at the same moment, then all change their answer: every answer counted once."""
    room = lecture.create()
    lecture.ask(room.code, room.key, "v1_macs_kind")
    errors: list[BaseException] = []

    def wave(choice_of) -> None:
        barrier = threading.Barrier(PARTICIPANTS)

        def one(i: int) -> None:
            try:
                barrier.wait(timeout=120)
                lecture.vote(room.code, pid(i), str(choice_of(i)))
            except BaseException as error:  # noqa: BLE001 - collected and reported below
                errors.append(error)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(PARTICIPANTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    wave(lambda i: i % 4)
    assert not errors, errors[:3]
    assert lecture.answered(room.code, "v1_macs_kind", 1) == PARTICIPANTS
    wave(lambda i: (i + 1) % 4)  # everyone changes their mind
    assert not errors, errors[:3]
    result = lecture.results(room.code, key=room.key)
    assert result.votes == PARTICIPANTS
    assert result.counts == dict(Counter((i + 1) % 4 for i in range(PARTICIPANTS)))
    with lecture.engine.connect() as c:
        stored = dict(c.execute(select(store.answers.c.participant, store.answers.c.value)
                                .where(store.answers.c.room == room.code)).all())
    assert stored == {pid(i): str((i + 1) % 4) for i in range(PARTICIPANTS)}


def test_votes_racing_a_close_never_land_after_it(lecture):
    room = lecture.create()
    lecture.ask(room.code, room.key, "saving")
    accepted: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(41)

    def voter(i: int) -> None:
        barrier.wait(timeout=120)
        try:
            lecture.vote(room.code, pid(i), "8")
            with lock:
                accepted.append(pid(i))
        except InvalidInputError:
            pass

    threads = [threading.Thread(target=voter, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    barrier.wait(timeout=120)
    lecture.close(room.code, room.key)
    for t in threads:
        t.join()
    result = lecture.results(room.code, key=room.key)
    assert result.votes == len(accepted)  # acknowledged ⇔ counted


# --- questions and path: true answers from the core ----------------------------------------------------------


def test_true_answers_come_from_the_core():
    q = questions.question
    assert q("dsc_macs").answer() == 3 * 3 * 32 * 112 * 112 + 32 * 64 * 112 * 112 == depthwise_separable(
        3, 32, 64, 112).macs
    assert q("std_macs").answer() == 3 * 3 * 32 * 64 * 112 * 112 == standard_conv(3, 32, 64, 112).macs
    assert q("saving").answer() == round((9 * 512 * 512) / (9 * 512 + 512 * 512), 2) == 8.84
    assert q("v2_block_macs").answer() == inverted_residual(3, 24, 24, 56, 6).macs == 56 * 56 * (
        24 * 144 + 9 * 144 + 144 * 24)
    assert q("v2_macs").answer() == 300_774_272  # the README's table (FlopCounterMode / 2)
    assert q("fp32_mb").answer() == round(3_504_872 * 4 / 1e6, 2)


def test_dominant_layer_type_matches_pytorch_modules():
    """Independent of the counter's kinds: sum PyTorch's own modules of MobileNetV1 by groups/kernel."""
    import torch
    from torch import nn

    from explainer.models import build_model

    model = build_model("mobilenet_v1").eval()
    params = Counter()
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            kind = "depthwise" if m.groups > 1 else ("pointwise" if m.kernel_size == (1, 1) else "standard")
            params[kind] += sum(p.numel() for p in m.parameters())
        elif isinstance(m, nn.Linear):
            params["linear"] += sum(p.numel() for p in m.parameters())
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 224, 224))
    total = counter.get_total_flops() // 2
    by_kind = count_module(model).by_kind()
    assert sum(c.macs for c in by_kind.values()) == total
    pointwise_share = by_kind["pointwise"].macs / total
    assert pointwise_share > 0.9  # the V1 paper's Table 2: 94.86 %
    q_macs, q_params = questions.question("v1_macs_kind"), questions.question("v1_params_kind")
    assert q_macs.options[q_macs.answer()] == "pointwise"
    assert q_params.options[q_params.answer()] == max(params, key=params.get) == "pointwise"


def test_top1_truth_is_the_networks_own_answer(with_weights):
    from explainer.classify import classify_source
    from explainer.samples import sample_bytes
    from explainer.weights import load_pretrained

    q = questions.question("top1_chelsea")
    truth = questions.top1_truth(q)
    loaded = load_pretrained("mobilenet_v2", download=False)
    top = classify_source(sample_bytes("chelsea")[0], loaded, top=1).predictions[0].label
    assert truth.label == top and truth.index == q.options.index(top)


def test_every_question_belongs_to_a_step_and_parses_its_options():
    for q in questions.QUESTIONS:
        assert q.step in path.STEP_KEYS and q.kind in questions.KINDS
        assert q.text("en") and q.text("zh") and q.text("en") != q.text("zh")
        if q.kind != "number":
            assert len(q.option_labels("zh")) == len(q.options) >= 2
            assert q.parse(str(len(q.options) - 1)) == str(len(q.options) - 1)
    assert 10 <= len(path.STEPS) <= 14
    with pytest.raises(InvalidInputError, match="Unknown question"):
        questions.question("nope")


def test_room_creation_has_a_budget(lecture, monkeypatch):
    monkeypatch.setattr(rooms, "MAX_ROOMS", 3)
    with lecture.engine.connect() as c:
        existing = c.execute(select(store.rooms.c.code)).all()
    for _ in range(max(0, 3 - len(existing))):
        lecture.create()
    with pytest.raises(InvalidInputError, match="already has 3 rooms"):
        lecture.create()


def test_histogram_marks_the_true_value_on_a_log_axis():
    import math

    from explainer.figures.hall import choices_figure, estimates_figure, log_bins

    values = [1e6, 2e6, 3e7, 3.1e7, 2.9e7, 5e8]
    edges, counts = log_bins(values, 29_302_784)
    assert sum(counts) == len(values) and edges[0] <= 6 and edges[-1] > math.log10(5e8)
    fig = estimates_figure(values, 29_302_784, title="t", x_title="x", y_title="y", truth_label="true value")
    line = [s for s in fig.layout.shapes if s.type == "line"][0]
    assert line.x0 == pytest.approx(math.log10(29_302_784))
    assert fig.layout.annotations[0].text == "true value: 29,302,784"
    bar_counts = list(fig.data[0].y)
    i = next(k for k, (a, b) in enumerate(zip(edges, edges[1:])) if a <= math.log10(3e7) < b)
    assert bar_counts[i] == 3  # the three estimates near 30 M share the true value's bin
    bars = choices_figure(["a", "b", "c"], [1, 5, 2], 1, title="t", x_title="n", right_label="right")
    assert list(bars.data[0].x) == [1, 5, 2] and "right" in bars.data[0].y[1]
    assert bars.data[0].marker.color[1] != bars.data[0].marker.color[0]


def test_every_step_has_a_live_number_or_a_picture():
    from torch import nn

    from explainer.samples import SAMPLE_KEYS

    for step in path.STEPS:
        assert step.number or step.picture in SAMPLE_KEYS, step.key
        if step.number:
            kind, value = path.live_number(step.number)
            assert kind in ("int", "ratio", "mb") and value > 0
    assert path.live_number("v1_twin_ratio")[1] == pytest.approx(4_867_293_184 / 568_740_352)  # README's table
    assert path.live_number("transfer_params")[1] == sum(p.numel() for p in nn.Linear(1280, 2).parameters())
    assert path.live_number("v2_weights_mb")[1] == 3_504_872 * 4 / 1e6
