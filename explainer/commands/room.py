"""``python -m explainer room …``: run a lecture room from the command line (the same core as the Lecture page).

Subcommands: ``create``, ``questions``, ``ask``, ``close``, ``reveal``, ``step``, ``vote``, ``results``, ``export``,
``delete``. Each takes ``--db URL`` (default ``$EXPLAINER_DATABASE_URL``, else the app's SQLite file) and ``--json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from explainer.errors import InvalidInputError


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, metavar="URL",
                        help="database URL (default: $EXPLAINER_DATABASE_URL, else the app's SQLite file)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from explainer.cli import OneLineParser

    room = subparsers.add_parser(
        "room", help="lecture rooms: create, ask questions, move the hall, vote, results, CSV",
        description="A lecture room on the shared database, as the Lecture page runs it: the lecturer creates "
        "a room (join code + secret lecturer key), moves the hall through the steps, opens a question, closes "
        "and reveals it; students vote with an anonymous participant id.")
    sub = room.add_subparsers(dest="room_command", metavar="ACTION", parser_class=OneLineParser)
    sub.required = True

    p = sub.add_parser("create", help="create a room: join code, lecturer key, join path")
    p.add_argument("--title", default="", help="a title shown to students (optional)")
    _common(p)
    p.set_defaults(run=run_create)

    p = sub.add_parser("questions", help="the lecture's questions with their true answers")
    _common(p)
    p.set_defaults(run=run_questions)

    for name, helptext, fn in (("ask", "open a question for answers (lecturer)", run_ask),
                               ("close", "close the open question (lecturer)", run_close),
                               ("reveal", "show the current question's results to everyone (lecturer)", run_reveal),
                               ("step", "move the hall to step N (lecturer)", run_step),
                               ("delete", "delete the room and all its answers (lecturer)", run_delete),
                               ("export", "write the room's answers to a CSV file (lecturer)", run_export)):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("room", help="the join code")
        p.add_argument("--key", required=True, help="the lecturer key printed by 'room create'")
        if name == "ask":
            p.add_argument("--question", required=True, help="a question id (see 'room questions')")
            p.add_argument("--round", default="1", help="1, or 2 after discussion (default 1)")
        if name == "step":
            p.add_argument("--to", required=True, help="the step number, 0 to 12")
        if name == "export":
            p.add_argument("--csv", required=True, metavar="FILE", help="where to write the CSV")
        _common(p)
        p.set_defaults(run=fn)

    p = sub.add_parser("vote", help="answer the open question as a student would")
    p.add_argument("room", help="the join code")
    p.add_argument("--participant", required=True, help="an anonymous participant id (6-64 letters, digits, - or _)")
    p.add_argument("--answer", required=True, help="a number, or the option's index (0, 1, …)")
    _common(p)
    p.set_defaults(run=run_vote)

    p = sub.add_parser("results", help="a round's tally (needs the key until revealed)")
    p.add_argument("room", help="the join code")
    p.add_argument("--question", default=None, help="a question id (default: the current one)")
    p.add_argument("--round", default=None, help="1 or 2 (default: the current round)")
    p.add_argument("--key", default=None, help="the lecturer key (needed while the round is not revealed)")
    _common(p)
    p.set_defaults(run=run_results)


def _lecture(args: argparse.Namespace):
    from explainer.lecture.rooms import Lecture

    return Lecture(args.db)


def _print(args: argparse.Namespace, data: Any, text: str) -> int:
    print(json.dumps(data, ensure_ascii=False) if args.json else text)
    return 0


def run_create(args: argparse.Namespace) -> int:
    created = _lecture(args).create(args.title)
    data = {"room": created.code, "lecturer_key": created.key, "join_path": created.join_path}
    return _print(args, data, f"room {created.code}\nlecturer key {created.key} (keep it secret)\n"
                              f"students join at {created.join_path}")


def run_questions(args: argparse.Namespace) -> int:
    from explainer.lecture.questions import QUESTIONS

    data = [q.as_dict() for q in QUESTIONS]
    lines = []
    for d in data:
        answer = d.get("answer", "(computed from the photo)")
        lines.append(f"{d['id']:<16} {d['kind']:<7} step {d['step']:>2}  {d['text_en']}  → {answer}")
    return _print(args, data, "\n".join(lines))


def _state_text(state) -> str:
    what = f"question {state.question} round {state.round} {'open' if state.is_open else 'closed'}" \
        if state.question else "no question"
    return f"room {state.code}: step {state.step}, {what}" + (", revealed" if state.revealed else "")


def run_ask(args: argparse.Namespace) -> int:
    state = _lecture(args).ask(args.room, args.key, args.question, args.round)
    return _print(args, state.as_dict(), _state_text(state))


def run_close(args: argparse.Namespace) -> int:
    state = _lecture(args).close(args.room, args.key)
    return _print(args, state.as_dict(), _state_text(state))


def run_reveal(args: argparse.Namespace) -> int:
    state = _lecture(args).reveal(args.room, args.key)
    return _print(args, state.as_dict(), _state_text(state))


def run_step(args: argparse.Namespace) -> int:
    state = _lecture(args).step(args.room, args.key, args.to)
    return _print(args, state.as_dict(), _state_text(state))


def run_delete(args: argparse.Namespace) -> int:
    lecture = _lecture(args)
    code = lecture.state(args.room).code
    lecture.delete(code, args.key)
    return _print(args, {"room": code, "deleted": True}, f"room {code} deleted with its answers")


def run_vote(args: argparse.Namespace) -> int:
    state, stored = _lecture(args).vote(args.room, args.participant, args.answer)
    data = {"room": state.code, "question": state.question, "round": state.round, "participant": args.participant,
            "answer": stored}
    return _print(args, data, f"answer {stored} to {state.question} (round {state.round}) saved")


def run_results(args: argparse.Namespace) -> int:
    result = _lecture(args).results(args.room, args.question, args.round, args.key)
    data = result.as_dict()
    if result.values is not None:
        shown = ", ".join(f"{v:g}" for v in result.values)
    else:
        shown = ", ".join(f"{label}: {data['counts'][str(i)]}" for i, label in enumerate(data["options"]))
    return _print(args, data, f"{result.question.id} round {result.round}: {result.votes} answers"
                              f" ({'open' if result.is_open else 'closed'}); {shown}; true answer {result.answer}")


def run_export(args: argparse.Namespace) -> int:
    text = _lecture(args).export_csv(args.room, args.key)
    target = Path(args.csv)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InvalidInputError("lecture.cannot_write", file=str(target), reason=error.strerror or str(error))
    rows = max(text.count("\n") - 1, 0)
    return _print(args, {"room": args.room.upper(), "file": str(target), "answers": rows},
                  f"{rows} answers written to {target}")
