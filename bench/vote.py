"""Lecture-hall vote load test: N phones in one room follow a step change and answer a question.

    python bench/loadtest.py --scenario vote -n 120 --workers 2 --json

Each simulated phone is a Streamlit websocket session (:mod:`bench.stclient`) doing what the browser does on the
Lecture page: open ``/lecture?room=CODE``, press "Join", then poll the page's ``st.fragment(run_every=…)`` at the
interval the server asked for (the ``auto_rerun`` message), exactly as the frontend does. The lecturer acts
through the core on the same database (``explainer.lecture``): moves the room to step 3, then opens a number
question. Measured:

* ``follow_p95_s`` — from the lecturer's step change until each phone's poll shows the new step;
* ``answer_p95_s`` — from pressing "Send" until the acknowledgement is on the phone;
* ``answers_sent`` / ``answers_counted`` — submissions vs. the participants the database counted;
* ``idle_cpu_s_per_participant_min`` — server CPU (all workers) per participant per minute while every phone only
  polls (the question open, nothing changing).

The store is an SQLite file in a temporary folder shared by the workers (the default set-up), or with
``--postgres`` a throwaway PostgreSQL cluster (``explainer.lecture.pgcluster``). Everything is stopped by PID.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stclient import FINISHED_OK, StreamlitSession
from explainer.i18n import t

STEP_TO = 2  # "Depthwise separable convolution"
QUESTION = "dsc_macs"
PHASE_TIMEOUT_S = 120.0
IDLE_WINDOW_S = 30.0
TARGETS = {"follow_p95_s": 3.0, "answer_p95_s": 2.0}


class Phone(StreamlitSession):
    """A session that also remembers the fragment the server asked it to rerun periodically."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.auto: tuple[str, float] | None = None

    def _absorb(self, msg, result) -> None:
        if msg.WhichOneof("type") == "auto_rerun":
            self.auto = (msg.auto_rerun.fragment_id, float(msg.auto_rerun.interval))
        super()._absorb(msg, result)

    def drop_triggers(self) -> None:
        """A button press is sent once (as the browser does), not with every following rerun."""
        for wid in [w for w, s in self.widget_states.items() if s.WhichOneof("value") == "trigger_value"]:
            del self.widget_states[wid]

    async def poll(self):
        """One rerun of the polling fragment, as the frontend's timer sends it."""
        assert self.auto is not None, "the page set up no polling fragment"
        self._fragment_id = self.auto[0]
        return await self.rerun()


@dataclass
class PhoneOutcome:
    index: int
    error: str = ""
    joined: bool = False
    follow_s: float = float("nan")
    answer_s: float = float("nan")
    sent: bool = False
    polls: int = 0


@dataclass
class Hall:
    """What the phones wait for: times set by the lecturer's actions."""

    step_at: float = 0.0
    stepped: asyncio.Event = field(default_factory=asyncio.Event)
    asked: asyncio.Event = field(default_factory=asyncio.Event)
    idle_done: asyncio.Event = field(default_factory=asyncio.Event)
    followed: int = 0  # phones that showed the new step


def _button(result, label: str):
    for proto in result.widgets.get("button", []):
        if proto.label.strip() == label:
            return proto
    return None


def _text_input(result, key_part: str):
    for proto in result.widgets.get("text_input", []):
        if key_part in proto.id:
            return proto
    return None


async def phone(base_url: str, index: int, code: str, hall: Hall, joined: asyncio.Queue) -> PhoneOutcome:
    out = PhoneOutcome(index)
    session = Phone(base_url, timeout=PHASE_TIMEOUT_S)
    step_title = t("hall.step_separable_title", "en")
    saved = t("hall.answered_as", "en", value="\0").split("\0")[0]
    try:
        await session.connect()
        first = await session.rerun(page="lecture", query=f"room={code}")
        if first.status not in FINISHED_OK or first.exceptions:
            raise RuntimeError(f"open: {first.status} {first.exceptions[:1]}")
        code_box = _text_input(first, "hall_code")
        join = _button(first, t("hall.join", "en"))
        if code_box is None or join is None:
            raise RuntimeError("no join form on /lecture?room=…")
        session.set_widget(code_box.id, string_value=code)
        session.set_widget(join.id, trigger_value=True)
        result = await session.rerun()
        session.drop_triggers()
        if not result.has_text(t("hall.joined", "en", code=code)) or session.auto is None:
            raise RuntimeError("joining did not show the room")
        out.joined = True
        await joined.put(index)
        interval = session.auto[1]
        # from now on the phone polls at the server's interval (random phase: phones joined at different
        # moments), never sooner because something happened: as the browser's timer does
        await asyncio.sleep(random.uniform(0, interval))
        while True:  # follow the step change
            stepped = hall.stepped.is_set()
            result = await session.poll()
            out.polls += 1
            if stepped and result.has_text(step_title):
                out.follow_s = time.monotonic() - hall.step_at
                hall.followed += 1
                break
            if stepped and time.monotonic() - hall.step_at > PHASE_TIMEOUT_S:
                raise RuntimeError("the step change never showed")
            await asyncio.sleep(interval)
        while True:  # the answer form appears on a poll after the lecturer opened the question
            await asyncio.sleep(interval)
            result = await session.poll()
            out.polls += 1
            box = _text_input(result, f"hall_ans_{QUESTION}_1")
            send = _button(result, t("hall.send", "en"))
            if box is not None and send is not None:
                break
        estimate = f"{random.uniform(1e6, 1e9):.4g}"
        session.set_widget(box.id, string_value=estimate)
        session.set_widget(send.id, trigger_value=True)
        out.sent = True
        start = time.monotonic()
        result = await session.rerun()
        session.drop_triggers()
        if not result.has_text(saved):
            raise RuntimeError(f"the answer was not acknowledged ({result.status}, {result.exceptions[:1]})")
        out.answer_s = time.monotonic() - start
        # idle: keep polling like an open phone until the window closes
        while not hall.idle_done.is_set():
            await asyncio.sleep(interval)
            await session.poll()
            out.polls += 1
    except Exception as error:  # noqa: BLE001 - every failure is one counted error with its reason
        out.error = f"phone {index}: {type(error).__name__}: {error}"[:300]
    finally:
        await session.close()
    return out


def percentile(values: list[float], q: float) -> float:
    from bench.loadtest import percentile as p

    return p(values, q)


async def _hall(base_url: str, url: str, sessions: int, cpu, log) -> dict:
    from explainer.lecture.rooms import Lecture

    lecture = Lecture(url)
    room = lecture.create("load test")
    hall = Hall()
    joined: asyncio.Queue = asyncio.Queue()
    tasks = [asyncio.create_task(phone(base_url, i, room.code, hall, joined)) for i in range(sessions)]
    deadline = time.monotonic() + 600
    count = 0
    while count < sessions and time.monotonic() < deadline and not all(t.done() for t in tasks):
        try:
            await asyncio.wait_for(joined.get(), timeout=5)
            count += 1
        except asyncio.TimeoutError:
            pass
    log(f"{count} of {sessions} phones joined room {room.code}")
    await asyncio.sleep(3)  # every phone polling in its own rhythm
    hall.step_at = time.monotonic()
    lecture.step(room.code, room.key, STEP_TO)
    hall.stepped.set()
    # wait until every joined phone saw it (or failed)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if all(t.done() for t in tasks):
            break
        if hall.followed + sum(1 for t in tasks if t.done()) >= sessions:
            break
    lecture.ask(room.code, room.key, QUESTION)
    hall.asked.set()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        answered = lecture.answered(room.code, QUESTION, 1)
        if answered >= count or all(t.done() for t in tasks):
            break
    await asyncio.sleep(3)  # the last acknowledgements
    cpu_start, idle_start = cpu(), time.monotonic()
    await asyncio.sleep(IDLE_WINDOW_S)
    idle_cpu, idle_s = cpu() - cpu_start, time.monotonic() - idle_start
    hall.idle_done.set()
    outcomes = await asyncio.gather(*tasks)
    counted = lecture.answered(room.code, QUESTION, 1)
    lecture.delete(room.code, room.key)
    errors = [o.error for o in outcomes if o.error]
    follow = [o.follow_s for o in outcomes if o.follow_s == o.follow_s]
    answer = [o.answer_s for o in outcomes if o.answer_s == o.answer_s]
    polling = max(1, sum(1 for o in outcomes if o.joined and not o.error))
    return {
        "sessions": sessions, "errors": len(errors),
        "answers_sent": sum(1 for o in outcomes if o.sent), "answers_counted": counted,
        "follow_p50_s": round(percentile(follow, 0.5), 3), "follow_p95_s": round(percentile(follow, 0.95), 3),
        "follow_max_s": round(max(follow, default=float("nan")), 3),
        "answer_p50_s": round(percentile(answer, 0.5), 3), "answer_p95_s": round(percentile(answer, 0.95), 3),
        "idle_window_s": round(idle_s, 1), "idle_server_cpu_s": round(idle_cpu, 2),
        "idle_cpu_s_per_participant_min": round(idle_cpu / polling / (idle_s / 60), 4),
        "idle_cpu_share_of_one_core": round(idle_cpu / idle_s, 3),
        "error_samples": errors[:5],
    }


def run_vote(sessions: int, workers: int, postgres: bool, log=print) -> dict:
    from bench.loadtest import _cpu, serving

    cluster = None
    folder = Path(tempfile.mkdtemp(prefix="explainer-vote-"))
    try:
        if postgres:
            from explainer.lecture.pgcluster import start_cluster

            cluster = start_cluster()
            url = cluster.url
        else:
            url = f"sqlite:///{folder / 'lecture.sqlite3'}"
        env = {"EXPLAINER_DATABASE_URL": url}
        with serving(workers, f"loadtest-vote-{sessions}" + (f"-w{workers}" if workers else ""), env) as (
                base_url, worker_pids, balancer_pids, worker_urls):
            summary = asyncio.run(_hall(base_url, url, sessions, lambda: _cpu(worker_pids()), log))
        summary.update({"workers": workers, "database": "postgresql" if postgres else "sqlite",
                        "load_average": [round(x, 2) for x in os.getloadavg()], "cpu_count": os.cpu_count()})
        summary["meets_target"] = (summary["errors"] == 0 and summary["answers_counted"] == summary["answers_sent"]
                                   and all(summary[k] <= v for k, v in TARGETS.items()))
        return summary
    finally:
        from explainer.lecture.store import forget_engine

        if cluster is not None:
            forget_engine(cluster.url)
            cluster.stop()
        else:
            forget_engine(f"sqlite:///{folder / 'lecture.sqlite3'}")
        shutil.rmtree(folder, ignore_errors=True)


def format_summary(s: dict) -> str:
    return (f"{s['sessions']} phones, {s['workers']} worker(s), {s['database']}: {s['errors']} errors; answers "
            f"{s['answers_counted']} counted of {s['answers_sent']} sent; step followed p50 {s['follow_p50_s']} s, "
            f"p95 {s['follow_p95_s']} s (max {s['follow_max_s']} s); answer acknowledged p50 {s['answer_p50_s']} s, "
            f"p95 {s['answer_p95_s']} s; idle polling {s['idle_cpu_s_per_participant_min']} CPU-s per participant "
            f"per minute ({s['idle_cpu_share_of_one_core']:.0%} of one core for the hall); load average "
            f"{s['load_average']} on {s['cpu_count']} cores — "
            + ("meets" if s["meets_target"] else "MISSES") + " the targets (0 errors, all counted, follow p95 ≤ 3 s, "
            "answer p95 ≤ 2 s)")


def main(sessions: int, workers: int, postgres: bool, as_json: bool) -> int:
    log = (lambda line: print(line, file=sys.stderr)) if as_json else print
    summary = run_vote(sessions, workers, postgres, log)
    log(format_summary(summary))
    for sample in summary["error_samples"]:
        log(f"  error: {sample}")
    if as_json:
        print(json.dumps(summary))
    return 0 if summary["meets_target"] else 1
