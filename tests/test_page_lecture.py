"""The Lecture page (AppTest, through app.py): self-paced path, a lecturer and students in one room on a real
database file, the key never on a student's page, every step's link accepted by its page."""

from __future__ import annotations

from pathlib import Path

import pytest

from explainer.costs import depthwise_separable
from explainer.i18n import t
from explainer.lecture import store
from explainer.lecture.path import STEPS
from explainer.lecture.rooms import Lecture

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'page.sqlite3'}"
    monkeypatch.setenv(store.DATABASE_URL_ENV, url)
    yield url
    store.forget_engine(url)


def open_lecture(lang: str = "en", **params: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    if lang != "en":
        at.query_params["lang"] = lang
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page("pages/lecture.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def everything_shown(at) -> str:
    """Every text, value and label the page put in the browser (the element protos, serialised)."""
    return "\n".join(str(node.proto) for node in _walk(at._tree) if getattr(node, "proto", None) is not None)


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def run_ok(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_lecture_is_first_in_the_navigation():
    import ast

    tree = ast.parse((ROOT / "app.py").read_text())
    sections = next(n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                    and getattr(n.targets[0], "id", "") == "SECTIONS")
    first = sections.values[0].elts[0]
    assert first.args[0].value == "lecture"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_self_paced_path_and_a_checked_answer(db, lang):
    at = open_lecture(lang)
    assert at.title[0].value == t("hall.title", lang)
    assert any(t("hall.step_why_title", lang) in s.value for s in at.subheader)
    at.button[[b.label for b in at.button].index(t("hall.next", lang))].click()
    run_ok(at)
    at.button[[b.label for b in at.button].index(t("hall.next", lang))].click()
    run_ok(at)
    assert any(t("hall.step_separable_title", lang) in s.value for s in at.subheader)
    at.text_input(key="hall_self_dsc_macs").set_value("3e7")
    at.button(key="hall_check_dsc_macs").click()
    run_ok(at)
    truth = depthwise_separable(3, 32, 64, 112).macs
    assert any(f"{truth:,}" in m.value for m in at.info), [m.value for m in at.info]


def test_lecturer_and_students_in_one_room(db):
    teacher = open_lecture()
    teacher.radio(key="hall_mode").set_value("teach")
    run_ok(teacher)
    teacher.button[[b.label for b in teacher.button].index(t("hall.create", "en"))].click()
    run_ok(teacher)
    code = teacher.metric[0].value
    lecture = Lecture(db)
    assert lecture.state(code).step == 0
    key = teacher.session_state["hall_lead"][1]
    assert key in everything_shown(teacher)  # in the lecturer's own (collapsed) expander

    phone = open_lecture(room=code)
    assert phone.radio(key="hall_mode").value == "join"
    assert phone.text_input[0].value == code
    phone.button[0].click()
    run_ok(phone)
    zh = open_lecture("zh", room=code)
    zh.button[0].click()
    run_ok(zh)
    assert any(t("hall.step_why_title", "zh") in s.value for s in zh.subheader)

    # the lecturer moves the hall to step 6 (MobileNetV1) and opens a question
    teacher.button(key="hall_lead_next").click()
    run_ok(teacher)
    assert lecture.state(code).step == 1
    lecture.step(code, key, 5)
    run_ok(teacher)
    teacher.button(key="hall_ask_v1_macs_kind").click()
    run_ok(teacher)
    assert lecture.state(code).is_open and lecture.state(code).question == "v1_macs_kind"

    for student, choice in ((phone, 2), (zh, 1)):
        run_ok(student)  # the poll
        assert any(t("hall.step_v1_title", student.session_state["lang"]) in s.value for s in student.subheader)
        student.radio(key="hall_ans_v1_macs_kind_1").set_value(choice)
        student.button[[b.label for b in student.button].index(
            t("hall.send", student.session_state["lang"]))].click()
        run_ok(student)
        assert student.success, "the answer was acknowledged"
    assert lecture.answered(code, "v1_macs_kind", 1) == 2
    run_ok(teacher)
    assert any("2" in m.value for m in teacher.metric[1:]), [m.value for m in teacher.metric]

    teacher.button(key="hall_close_v1_macs_kind").click()
    run_ok(teacher)
    run_ok(phone)
    assert any(t("hall.closed", "en") in i.value for i in phone.info)  # results hidden until revealed
    assert not phone.get("plotly_chart")
    teacher.button(key="hall_reveal_v1_macs_kind").click()
    run_ok(teacher)
    assert teacher.get("plotly_chart")
    run_ok(phone)
    charts = phone.get("plotly_chart")
    assert charts and "The pointwise 1×1 convolutions" in str(charts[0].proto)
    for student in (phone, zh):
        shown = everything_shown(student)
        assert key not in shown and "hall_lead" not in student.session_state
        assert key not in str(student.query_params)


def test_a_student_with_a_bad_code_gets_one_line(db):
    at = open_lecture(room="ZZZZZZ")
    at.button[0].click()
    run_ok(at)
    assert at.error and "ZZZZZZ" in at.error[0].value
    at = open_lecture(room="<b>hi</b>")
    at.button[0].click()
    run_ok(at)
    assert at.error and len(at.error) == 1


LINKED = [s for s in STEPS if s.params and s.page in ("cost", "architectures")]


@pytest.mark.parametrize("step", LINKED, ids=[s.key for s in LINKED])
def test_each_steps_link_opens_its_page_in_that_state(step):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for k, v in step.params.items():
        at.query_params[k] = v
    at.switch_page(f"pages/{step.page}.py")
    at.run()
    assert not at.exception
    assert not [w.value for w in at.warning if "=" in w.value]  # no "could not be used" notice
    for k, v in step.params.items():
        value = at.session_state[k] if k in at.session_state else None
        if k == "model":
            assert any(getattr(s, "value", None) == v for s in at.selectbox)
        else:
            assert str(value) == v or float(value) == float(v)


@pytest.mark.slow
@pytest.mark.parametrize("step", [s for s in STEPS if s.page in ("classify", "feature_maps")],
                         ids=lambda s: s.key)
def test_photo_steps_open_with_that_photo(step, with_weights):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    for k, v in step.params.items():
        at.query_params[k] = v
    at.switch_page(f"pages/{step.page}.py")
    at.run()
    assert not at.exception
    assert not [w.value for w in at.warning if "=" in w.value]
    assert any(s.value == step.params["sample"] for s in at.selectbox)


def test_a_room_title_is_shown_as_text(db):
    lecture = Lecture(db)
    room = lecture.create("**bold** <b>x</b> [link](http://example.com)")
    phone = open_lecture(room=room.code)
    phone.button[0].click()
    run_ok(phone)
    assert "**bold** <b>x</b> [link](http://example.com)" in [e.value for e in phone.text]
    assert not any("example.com" in m.value for m in phone.markdown)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_step_renders_with_its_number_or_picture(db, lang):
    at = open_lecture(lang)
    for i, step in enumerate(STEPS):
        at.session_state["hall_step"] = i
        run_ok(at)
        assert any(t(f"hall.step_{step.key}_title", lang) in s.value for s in at.subheader)
        if step.number:
            assert at.metric and at.metric[0].label == t(f"hall.live_{step.number}", lang)
        else:
            assert at.get("image"), f"step {step.key}: no picture"
