"""Rooms, the current step, voting rounds and tallies — every operation one short transaction on the store.

A lecturer creates a room and gets its join code (6 characters from :data:`CODE_ALPHABET`, drawn with
:mod:`secrets`) and a lecturer key (a 192-bit random token, shown once, stored only as its SHA-256). Every
lecturer operation (step, ask, close, reveal, results of an unrevealed round, export, delete) checks the key here,
in the core, so no page or command can forget it. Students need no account: a participant id per session.

One answer per participant per round (the table's primary key): answering again replaces the answer. A vote is
a single conditional upsert — it is written only if that very question and round is still open, so a vote racing
a close can never land after it.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, delete, func, insert, select, update

from explainer.errors import InvalidInputError
from explainer.lecture.path import STEPS, step_at
from explainer.lecture.questions import Question, question, top1_truth
from explainer.lecture.store import answers, engine_for, rooms, rounds

#: Join codes: no 0/O, 1/I/L (easy to misread on a projector or type on a phone).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
EXPIRY_DAYS_ENV = "EXPLAINER_ROOM_DAYS"
DEFAULT_EXPIRY_DAYS = 7.0
MAX_TITLE = 120
#: A participant id as the app makes them (and the only form the store accepts).
PARTICIPANT_RE = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
#: Budget: answers stored per round (a hall is a few hundred; this bounds what a crafted client can add).
MAX_ANSWERS_PER_ROUND = 5000
#: Budget: rooms alive at once in one database (anyone may create one; expired rooms are purged first).
MAX_ROOMS = 2000
ROUNDS = (1, 2)
#: How often a student's page asks for the room's state (one row): a step change shows within this.
POLL_S = 1.5


def new_lecturer_key() -> str:
    """A fresh lecturer key: 24 random bytes, URL-safe (32 characters), never starting with "-". The lecturer
    types it on the command line (``room ask CODE --key KEY``), where a leading "-" reads as an option: one key in
    64 did (a CI run met one)."""
    while True:
        key = secrets.token_urlsafe(24)
        if not key.startswith("-"):
            return key


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_participant() -> str:
    """An anonymous participant id (kept for a browser session)."""
    return "p" + secrets.token_hex(8)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def expiry_days() -> float:
    raw = os.environ.get(EXPIRY_DAYS_ENV, "").strip()
    try:
        days = float(raw) if raw else DEFAULT_EXPIRY_DAYS
    except ValueError:
        days = DEFAULT_EXPIRY_DAYS
    return days if 0 < days <= 3650 else DEFAULT_EXPIRY_DAYS


def normalise_code(code: object) -> str:
    """A typed join code as stored (upper case, spaces and dashes removed); a malformed one is an error."""
    text = re.sub(r"[\s-]", "", str(code or "")).upper()
    if len(text) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in text):
        raise InvalidInputError("lecture.bad_code", code=str(code)[:20])
    return text


@dataclass(frozen=True)
class RoomState:
    """What a phone polls: one row."""

    code: str
    title: str
    step: int
    question: str | None
    round: int
    is_open: bool
    revealed: bool
    version: int
    expires_at: float

    def as_dict(self) -> dict[str, Any]:
        return {"room": self.code, "title": self.title, "step": self.step, "question": self.question,
                "round": self.round, "open": self.is_open, "revealed": self.revealed, "version": self.version}


@dataclass(frozen=True)
class Created:
    code: str
    key: str  # the lecturer key: shown once, never stored

    @property
    def join_path(self) -> str:
        return f"/lecture?room={self.code}"


@dataclass(frozen=True)
class Results:
    question: Question
    round: int
    is_open: bool
    revealed: bool
    votes: int
    counts: dict[int, int] | None  # choice / top1: option index → participants
    values: list[float] | None  # number: every estimate
    answer: float | int | str | None  # the truth: value, option index, or (top1) the class name
    answer_index: int | None = None  # top1: the truth's option index (None: not among the options)
    answer_note: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"question": self.question.id, "kind": self.question.kind, "round": self.round,
                               "open": self.is_open, "revealed": self.revealed, "votes": self.votes,
                               "answer": self.answer}
        if self.counts is not None:
            out["options"] = self.question.option_labels("en")
            out["counts"] = {str(i): n for i, n in self.counts.items()}  # option index → participants
        if self.values is not None:
            out["values"] = self.values
        if self.question.kind == "top1":
            out["answer_index"] = self.answer_index
            if self.answer_note:
                out["answer_note"] = self.answer_note
        return out


class Lecture:
    """The rooms of one database (``url`` or the default store)."""

    def __init__(self, url: str | None = None, engine: Engine | None = None) -> None:
        self.engine = engine or engine_for(url)

    # --- transactions ---------------------------------------------------------------------------------------

    def _write(self):
        """A write transaction (SQLite: ``BEGIN IMMEDIATE``)."""
        connection = self.engine.connect().execution_options(write=True)
        return _Tx(connection)

    def _read(self):
        return _Tx(self.engine.connect())

    # --- rooms ----------------------------------------------------------------------------------------------

    def create(self, title: str = "", now: float | None = None) -> Created:
        title = " ".join(str(title or "").split())[:MAX_TITLE]
        now = time.time() if now is None else now
        key = new_lecturer_key()
        self.purge_expired(now)
        for _ in range(20):
            code = new_code()
            with self._write() as c:
                if c.execute(select(func.count()).select_from(rooms)).scalar() >= MAX_ROOMS:
                    raise InvalidInputError("lecture.too_many_rooms", limit=MAX_ROOMS)
                if c.execute(select(rooms.c.code).where(rooms.c.code == code)).first() is not None:
                    continue
                c.execute(insert(rooms).values(code=code, title=title, key_hash=_hash(key), created_at=now,
                                               expires_at=now + expiry_days() * 86400, step=0, question=None,
                                               round=1, is_open=False, revealed=False, version=0))
            return Created(code, key)
        raise RuntimeError("no free join code after 20 draws")  # 887 million codes: never in practice

    def purge_expired(self, now: float | None = None) -> int:
        """Delete rooms past their expiry with all their answers; returns how many."""
        now = time.time() if now is None else now
        with self._write() as c:
            old = [r.code for r in c.execute(select(rooms.c.code).where(rooms.c.expires_at < now))]
            for code in old:
                self._delete_rows(c, code)
        return len(old)

    @staticmethod
    def _delete_rows(c, code: str) -> None:
        c.execute(delete(answers).where(answers.c.room == code))
        c.execute(delete(rounds).where(rounds.c.room == code))
        c.execute(delete(rooms).where(rooms.c.code == code))

    def state(self, code: object, now: float | None = None) -> RoomState:
        """The room's current state (the one cheap row a phone polls); unknown or expired → error."""
        code = normalise_code(code)
        with self._read() as c:
            row = c.execute(select(rooms.c.code, rooms.c.title, rooms.c.step, rooms.c.question, rooms.c.round,
                                   rooms.c.is_open, rooms.c.revealed, rooms.c.version, rooms.c.expires_at)
                            .where(rooms.c.code == code)).first()
        now = time.time() if now is None else now
        if row is None or row.expires_at < now:
            raise InvalidInputError("lecture.unknown_room", code=code)
        return RoomState(row.code, row.title, row.step, row.question, row.round, bool(row.is_open),
                         bool(row.revealed), row.version, row.expires_at)

    def _locked_room(self, c, code: object, key: object):
        """The room row, locked for this transaction, after checking the lecturer key."""
        code = normalise_code(code)
        query = select(rooms).where(rooms.c.code == code)
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update()
        row = c.execute(query).first()
        if row is None or row.expires_at < time.time():
            raise InvalidInputError("lecture.unknown_room", code=code)
        if not hmac.compare_digest(row.key_hash, _hash(str(key or ""))):
            raise InvalidInputError("lecture.wrong_key")
        return row

    def check_key(self, code: object, key: object) -> None:
        with self._read() as c:
            self._locked_room(c, code, key)

    def delete(self, code: object, key: object) -> None:
        """Delete the room and every answer in it."""
        with self._write() as c:
            row = self._locked_room(c, code, key)
            self._delete_rows(c, row.code)

    # --- the lecturer's controls ----------------------------------------------------------------------------

    def step(self, code: object, key: object, to: object) -> RoomState:
        """Move the hall to step ``to`` (0-based); an open question is closed."""
        index = STEPS.index(step_at(to))
        with self._write() as c:
            row = self._locked_room(c, code, key)
            if row.is_open:
                c.execute(update(rounds).where(and_(rounds.c.room == row.code, rounds.c.question == row.question,
                                                    rounds.c.round == row.round)).values(is_open=False))
            c.execute(update(rooms).where(rooms.c.code == row.code).values(
                step=index, question=None, is_open=False, revealed=False, version=rooms.c.version + 1))
        return self.state(code)

    def ask(self, code: object, key: object, question_id: object, round_: object = 1) -> RoomState:
        """Open voting on a question (round 1, or 2 after discussion; asking again reopens the round)."""
        q = question(str(question_id))
        r = _round(round_)
        with self._write() as c:
            row = self._locked_room(c, code, key)
            if row.is_open and (row.question, row.round) != (q.id, r):
                c.execute(update(rounds).where(and_(rounds.c.room == row.code, rounds.c.question == row.question,
                                                    rounds.c.round == row.round)).values(is_open=False))
            where = and_(rounds.c.room == row.code, rounds.c.question == q.id, rounds.c.round == r)
            if c.execute(select(rounds.c.round).where(where)).first() is None:
                c.execute(insert(rounds).values(room=row.code, question=q.id, round=r, is_open=True, revealed=False,
                                                opened_at=time.time()))
            else:
                c.execute(update(rounds).where(where).values(is_open=True, revealed=False))
            c.execute(update(rooms).where(rooms.c.code == row.code).values(
                question=q.id, round=r, is_open=True, revealed=False, version=rooms.c.version + 1))
        return self.state(code)

    def close(self, code: object, key: object) -> RoomState:
        """Stop voting on the open question (its answers stay; results still hidden until revealed)."""
        with self._write() as c:
            row = self._locked_room(c, code, key)
            if not row.is_open:
                raise InvalidInputError("lecture.nothing_open", code=row.code)
            c.execute(update(rounds).where(and_(rounds.c.room == row.code, rounds.c.question == row.question,
                                                rounds.c.round == row.round)).values(is_open=False))
            c.execute(update(rooms).where(rooms.c.code == row.code).values(is_open=False,
                                                                            version=rooms.c.version + 1))
        return self.state(code)

    def reveal(self, code: object, key: object) -> RoomState:
        """Show the current question's results (and the true answer) to everyone; closes it first if open."""
        with self._write() as c:
            row = self._locked_room(c, code, key)
            if row.question is None:
                raise InvalidInputError("lecture.nothing_asked", code=row.code)
            c.execute(update(rounds).where(and_(rounds.c.room == row.code, rounds.c.question == row.question,
                                                rounds.c.round == row.round)).values(is_open=False, revealed=True))
            c.execute(update(rooms).where(rooms.c.code == row.code).values(is_open=False, revealed=True,
                                                                            version=rooms.c.version + 1))
        return self.state(code)

    # --- students -------------------------------------------------------------------------------------------

    def vote(self, code: object, participant: object, value: object) -> tuple[RoomState, str]:
        """Answer the open question as ``participant``: ``(state, stored value)``; refused when nothing is open.

        One statement: insert, or replace this participant's answer of this round, only while that question
        and round is still the open one (checked inside the same statement)."""
        participant = str(participant or "")
        if not PARTICIPANT_RE.match(participant):
            raise InvalidInputError("lecture.bad_participant")
        state = self.state(code)
        if not state.is_open or state.question is None:
            raise InvalidInputError("lecture.not_open", code=state.code)
        q = question(state.question)
        stored = q.parse(value)
        open_now = (select(rooms.c.code).where(and_(rooms.c.code == state.code, rooms.c.question == q.id,
                                                     rooms.c.round == state.round, rooms.c.is_open.is_(True)))
                    .exists())
        with self._write() as c:
            count = c.execute(select(func.count()).select_from(answers).where(and_(
                answers.c.room == state.code, answers.c.question == q.id, answers.c.round == state.round))).scalar()
            if count >= MAX_ANSWERS_PER_ROUND:
                raise InvalidInputError("lecture.full", limit=MAX_ANSWERS_PER_ROUND)
            written = _upsert(c, self.engine.dialect.name, state.code, q.id, state.round, participant, stored,
                              open_now)
        if not written:
            raise InvalidInputError("lecture.not_open", code=state.code)
        return state, stored

    def my_answer(self, code: object, participant: str, question_id: str, round_: int) -> str | None:
        with self._read() as c:
            return c.execute(select(answers.c.value).where(and_(
                answers.c.room == normalise_code(code), answers.c.question == question_id,
                answers.c.round == round_, answers.c.participant == participant))).scalar()

    # --- tallies --------------------------------------------------------------------------------------------

    def answered(self, code: object, question_id: str, round_: int) -> int:
        """How many participants have answered (not what): the projector's live count."""
        with self._read() as c:
            return int(c.execute(select(func.count()).select_from(answers).where(and_(
                answers.c.room == normalise_code(code), answers.c.question == question_id,
                answers.c.round == round_))).scalar() or 0)

    def results(self, code: object, question_id: object = None, round_: object = None,
                key: object = None, weights_dir: str | None = None) -> Results:
        """A round's tally. Without the lecturer key only a revealed round (results stay hidden until then)."""
        state = self.state(code)
        qid = str(question_id) if question_id is not None else state.question
        if qid is None:
            raise InvalidInputError("lecture.nothing_asked", code=state.code)
        q = question(qid)
        r = _round(round_) if round_ is not None else (state.round if q.id == state.question else 1)
        with self._read() as c:
            if key is not None:
                self._locked_room(c, state.code, key)
            info = c.execute(select(rounds.c.is_open, rounds.c.revealed).where(and_(
                rounds.c.room == state.code, rounds.c.question == q.id, rounds.c.round == r))).first()
            if info is None:
                raise InvalidInputError("lecture.not_asked", question=q.id, round=r)
            if key is None and not info.revealed:
                raise InvalidInputError("lecture.hidden", question=q.id, round=r)
            values = [v for (v,) in c.execute(select(answers.c.value).where(and_(
                answers.c.room == state.code, answers.c.question == q.id, answers.c.round == r)))]
        counts = numbers = None
        if q.kind == "number":
            numbers = sorted(float(v) for v in values)
        else:
            counts = {i: 0 for i in range(len(q.options))}
            for v in values:
                counts[int(v)] += 1
        if q.kind == "top1":
            truth = top1_truth(q, weights_dir)
            return Results(q, r, bool(info.is_open), bool(info.revealed), len(values), counts, numbers, truth.label,
                           truth.index, truth.reason)
        return Results(q, r, bool(info.is_open), bool(info.revealed), len(values), counts, numbers, q.answer())

    def asked(self, code: object) -> list[tuple[str, int, bool, bool]]:
        """Every round asked in the room: ``(question, round, open, revealed)`` in the order opened."""
        with self._read() as c:
            return [(r.question, r.round, bool(r.is_open), bool(r.revealed)) for r in c.execute(
                select(rounds).where(rounds.c.room == normalise_code(code)).order_by(rounds.c.opened_at))]

    def export_csv(self, code: object, key: object) -> str:
        """Every answer in the room as CSV (participants are anonymous ids): for the lecturer only."""
        with self._read() as c:
            row = self._locked_room(c, code, key)
            data = c.execute(select(answers).where(answers.c.room == row.code).order_by(
                answers.c.question, answers.c.round, answers.c.answered_at)).all()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["room", "question", "kind", "round", "participant", "answer", "answer_label", "true_answer",
                         "answered_at_utc"])
        for a in data:
            q = question(a.question)
            label = a.value if q.kind == "number" else q.option_labels("en")[int(a.value)]
            truth = q.answer() if q.kind != "top1" else top1_truth(q).label
            if q.kind == "choice" and truth is not None:
                truth = q.option_labels("en")[int(truth)]
            writer.writerow([a.room, a.question, q.kind, a.round, a.participant, a.value, label,
                             "" if truth is None else truth,
                             time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(a.answered_at))])
        return out.getvalue()


def _round(value: object) -> int:
    try:
        r = int(str(value))
    except ValueError:
        r = 0
    if r not in ROUNDS:
        raise InvalidInputError("lecture.bad_round", round=str(value)[:10])
    return r


def _upsert(c, dialect: str, room: str, qid: str, round_: int, participant: str, value: str, open_now) -> bool:
    """INSERT … SELECT … WHERE <still open> ON CONFLICT DO UPDATE; True if a row was written."""
    from sqlalchemy import literal

    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    now = time.time()
    source = select(literal(room), literal(qid), literal(round_), literal(participant), literal(value),
                    literal(now)).where(open_now)
    statement = dialect_insert(answers).from_select(
        ["room", "question", "round", "participant", "value", "answered_at"], source)
    statement = statement.on_conflict_do_update(
        index_elements=[answers.c.room, answers.c.question, answers.c.round, answers.c.participant],
        set_={"value": statement.excluded.value, "answered_at": statement.excluded.answered_at})
    # RETURNING rather than rowcount: psycopg reports -1 for an INSERT … SELECT
    return c.execute(statement.returning(answers.c.participant)).first() is not None


class _Tx:
    """``with`` a connection and its transaction: commit on success, roll back on error, always close."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def __enter__(self):
        self.transaction = self.connection.begin()
        return self.connection

    def __exit__(self, kind, value, tb) -> None:
        try:
            if kind is None:
                self.transaction.commit()
            else:
                self.transaction.rollback()
        finally:
            self.connection.close()
