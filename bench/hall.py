"""The lecture room under a hall of phones (bench/vote.py): step followed, answers acknowledged and counted,
server CPU of idle polling — against the page's poll interval and one vote through the core alone."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Figure


def core_vote_ms(repeats: int = 50) -> float:
    """Median time of one vote (one short transaction) on an SQLite file, no server in between."""
    from explainer.lecture.rooms import Lecture
    from explainer.lecture.store import forget_engine

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        lecture = Lecture(url)
        room = lecture.create()
        lecture.ask(room.code, room.key, "dsc_macs")
        times = []
        for i in range(repeats):
            start = time.perf_counter()
            lecture.vote(room.code, f"bench{i:04d}", "3e7")
            times.append((time.perf_counter() - start) * 1000)
        forget_engine(url)
    return statistics.median(times)


def run(quick: bool = False) -> list[Figure]:
    from bench.vote import TARGETS, run_vote
    from explainer.lecture.rooms import POLL_S

    sessions, workers = (20, 1) if quick else (120, 2)
    s = run_vote(sessions, workers, postgres=False, log=lambda line: print(line, file=sys.stderr))
    crowd = f"lecture room: {sessions} phones, {workers} worker{'s' if workers > 1 else ''} + nginx"
    poll_ms = POLL_S * 1000
    return [
        Figure(f"{crowd}: step change followed p95", s["follow_p95_s"] * 1000, "the page's poll interval", poll_ms,
               target=f"p95 ≤ {TARGETS['follow_p95_s']:g} s", ok=s["follow_p95_s"] <= TARGETS["follow_p95_s"]),
        Figure(f"{crowd}: answer acknowledged p95", s["answer_p95_s"] * 1000, "one vote through the core alone",
               core_vote_ms(), target=f"p95 ≤ {TARGETS['answer_p95_s']:g} s",
               ok=s["answer_p95_s"] <= TARGETS["answer_p95_s"]),
        Figure(f"{crowd}: answers counted", s["answers_counted"], "answers sent", s["answers_sent"], unit="",
               target="all counted, 0 errors",
               ok=s["answers_counted"] == s["answers_sent"] and s["errors"] == 0),
        Figure(f"{crowd}: idle polling, server CPU per participant-minute", s["idle_cpu_s_per_participant_min"] * 1000,
               "one minute", 60_000.0),
    ]
