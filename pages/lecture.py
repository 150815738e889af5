"""Page "Lecture": the guided path through the story — alone, or in a lecturer's room with live questions.

Everything a hall shares (the room, its step, the open question, the answers) is in the database through
``explainer.lecture`` (never in this process: each worker behind nginx has its own memory). A student's phone
polls one row (the room's state) from a fragment every :data:`POLL_S` seconds; only that fragment reruns. The
lecturer key lives in the lecturer's own session only: never in a URL, never on a student's page.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

import streamlit as st

from explainer.errors import ExplainerError
from explainer.figures.hall import choices_figure, estimates_figure
from explainer.i18n import t
from explainer.images import jpeg_bytes, load_image, preview
from explainer.lecture.path import STEPS, live_number
from explainer.lecture.questions import Question, question, top1_truth
from explainer.lecture.rooms import POLL_S, Lecture, new_participant, normalise_code
from explainer.lecture.store import default_url
from explainer.samples import sample_bytes
from pages.charts import shared_chart
from pages.share import qr_markdown
from pages.ui import LANG_KEY, current_language, fmt_int, show_error
from pages.url_state import PUBLIC_URL_ENV

#: How often the lecturer's screen refreshes the answer count and charts.
COUNT_POLL_S = 2.0

MODES = ("self", "join", "teach")
PID = "hall_pid"  # this session's anonymous participant id
JOINED = "hall_room"  # the room this student joined
LEAD = "hall_lead"  # (code, key): the room this session teaches; the key never leaves this session
STEP = "hall_step"  # the self-paced step
SENT = "hall_sent"  # (room, question, round) -> the stored answer
ERROR = "hall_error"  # an error from a button's callback, shown once on the next run

lang = current_language()


def T(key: str, **params) -> str:
    """``key`` in this run's language (callbacks too: ``pages.ui.tr`` may restart a run from a callback)."""
    return t(key, lang, **params)


@st.cache_resource(show_spinner=False)
def lecture_for(url: str) -> Lecture:
    return Lecture(url)


def lecture() -> Lecture:
    return lecture_for(default_url())


@st.cache_data(show_spinner=False, max_entries=16)
def photo_jpeg(key: str) -> bytes:
    data, name = sample_bytes(key)
    return jpeg_bytes(preview(load_image(data, name), 480), quality=85)


@st.cache_data(show_spinner=False, max_entries=512, ttl=60)
def revealed(code: str, qid: str, round_: int, version: int) -> dict:
    """A revealed round's results, read once per room version for all the sessions of this process."""
    return lecture().results(code, qid, round_).as_dict()


def number_text(kind: str, value: float) -> str:
    if kind == "ratio":
        return T("hall.number_ratio", value=value)
    if kind == "mb":
        return f"{value:,.2f} MB"
    return fmt_int(int(value))


def truth_text(q: Question, answer) -> str:
    if answer is None:
        return "?"
    if q.kind == "number":
        unit = T(f"hall.unit_{q.unit}") if q.unit else ""
        shown = fmt_int(answer) if isinstance(answer, int) else f"{answer:,g}"
        return f"{shown} {unit}".strip()
    if q.kind == "choice":
        return q.option_labels(lang)[int(answer)]
    return str(answer)


def show_step(index: int) -> None:
    """One step: title, idea, the live number, the button that opens the page in the right state."""
    step = STEPS[index]
    st.caption(T("hall.step_of", n=index + 1, total=len(STEPS)))
    st.subheader(T(f"hall.step_{step.key}_title"))
    st.markdown(T(f"hall.step_{step.key}_idea"))
    cols = st.columns([2, 1])
    if step.number:
        kind, value = live_number(step.number)
        cols[0].metric(T(f"hall.live_{step.number}"), number_text(kind, value))
    elif step.picture:
        cols[0].image(photo_jpeg(step.picture), width=320)
    link = step.link + (("&" if "?" in step.link else "?") + f"{LANG_KEY}={lang}" if lang != "en" else "")
    cols[1].link_button(f"↗ {T('hall.open_page')}: {T(f'nav.{step.page}')}", link, width="stretch")


def show_photo(q: Question) -> None:
    if q.kind == "top1":
        st.image(photo_jpeg(q.params["photo"]), caption=T("hall.photo_caption"), width=320)


def answer_widget(q: Question, key: str):
    """The input for one answer: a number as text (accepts 3e7, 29,302,784) or one option."""
    if q.kind == "number":
        unit = T(f"hall.unit_{q.unit}") if q.unit else ""
        return st.text_input(f"{T('hall.your_estimate')} ({unit})" if unit else T("hall.your_estimate"), key=key,
                             max_chars=24, placeholder="3e7")
    labels = q.option_labels(lang)
    choice = st.radio(T("hall.your_choice"), range(len(labels)), format_func=lambda i: labels[i], index=None,
                      key=key)
    return None if choice is None else str(choice)


def results_chart(q: Question, data: dict, title: str):
    if q.kind == "number":
        return shared_chart(estimates_figure, list(data.get("values", [])),
                            data["answer"] if data.get("answer") is not None else None, title=title,
                            x_title=T("hall.log_axis"), y_title=T("hall.participants"),
                            truth_label=T("hall.true_value"))
    right = data["answer"] if q.kind == "choice" else data.get("answer_index")
    counts = [int(data["counts"][str(i)]) for i in range(len(q.options))]
    return shared_chart(choices_figure, q.option_labels(lang), counts, right, title=title,
                        x_title=T("hall.participants"), right_label=T("hall.right_option"))


# --- self-paced ----------------------------------------------------------------------------------------------


def _check(q: Question) -> None:
    """The "check my answer" callback: the verdict is kept for this run to show."""
    given = st.session_state.get(f"hall_self_{q.id}")
    try:
        stored = q.parse(given if given is not None else "")
    except ExplainerError as error:
        st.session_state[f"hall_fb_{q.id}"] = ("error", error.public_message(lang))
        return
    if q.kind == "top1":
        truth = top1_truth(q)
        if truth.label is None:
            st.session_state[f"hall_fb_{q.id}"] = ("warning", T("hall.truth_unknown", reason=truth.reason))
            return
        answer, right = truth.label, truth.index
        shown = q.option_labels(lang)[right] if right is not None else truth.label
    else:
        answer = right = q.answer()
        shown = truth_text(q, answer)
    if q.kind == "number":
        factor = max(float(stored), float(answer)) / min(float(stored), float(answer))
        verdict = ("info", T("hall.close_to", truth=shown, factor=f"{factor:.3g}"))
    elif right is not None and int(stored) == int(right):
        verdict = ("success", T("hall.right", truth=shown))
    else:
        verdict = ("error", T("hall.wrong", truth=shown))
    st.session_state[f"hall_fb_{q.id}"] = verdict


def self_check(q: Question, n: int) -> None:
    st.markdown(f"**{T('hall.question_n', n=n)}.** {q.text(lang)}")
    show_photo(q)
    answer_widget(q, f"hall_self_{q.id}")
    st.button(T("hall.check"), key=f"hall_check_{q.id}", on_click=_check, args=(q,))
    verdict = st.session_state.pop(f"hall_fb_{q.id}", None)
    if verdict is not None:
        kind, text = verdict
        getattr(st, kind)(text)


def self_paced() -> None:
    index = int(st.session_state.get(STEP, 0))
    show_step(index)
    qs = STEPS[index].questions()
    if qs:
        st.markdown(f"#### {T('hall.questions')}")
        for n, q in enumerate(qs, 1):
            self_check(q, n)
    left, _, right = st.columns([1, 3, 1])
    left.button(T("hall.prev"), disabled=index == 0, width="stretch", key="hall_prev", on_click=go_to,
                args=(index - 1,))
    right.button(T("hall.next"), disabled=index == len(STEPS) - 1, width="stretch", key="hall_next", on_click=go_to,
                 args=(index + 1,))


def go_to(index: int) -> None:
    st.session_state[STEP] = index


# --- student -------------------------------------------------------------------------------------------------


def _join() -> None:
    try:
        st.session_state[JOINED] = lecture().state(normalise_code(st.session_state.get("hall_code", ""))).code
    except ExplainerError as error:
        st.session_state[ERROR] = error


def join_form(prefill: str) -> None:
    with st.form("hall_join", border=False):
        st.text_input(T("hall.join_code"), value=prefill, max_chars=8, help=T("hall.join_code_help"),
                      key="hall_code")
        st.form_submit_button(T("hall.join"), type="primary", on_click=_join)


def _send(code: str, key: str) -> None:
    """The "send" callback: one vote through the core (refused if the question closed meanwhile)."""
    given = st.session_state.get(key)
    try:
        state, stored = lecture().vote(code, st.session_state[PID], "" if given is None else given)
    except ExplainerError as error:
        st.session_state[ERROR] = error
        return
    st.session_state.setdefault(SENT, {})[(code, state.question, state.round)] = stored


@st.fragment(run_every=POLL_S)
def student_live(code: str) -> None:
    """What the phone shows; reruns alone every POLL_S seconds and reads one row."""
    try:
        state = lecture().state(code)
    except ExplainerError as error:
        show_error(error)
        return
    if state.title:
        st.text(state.title)  # as text, never Markdown: a title is user input
    show_step(state.step)
    if state.question is None:
        st.info(T("hall.waiting"))
        return
    q = question(state.question)
    st.markdown(f"#### {T('hall.round', round=state.round)}")
    st.markdown(f"**{q.text(lang)}**")
    show_photo(q)
    sent = st.session_state.get(SENT, {}).get((code, q.id, state.round))
    if state.is_open:
        key = f"hall_ans_{q.id}_{state.round}"
        with st.form(f"hall_vote_{q.id}_{state.round}", border=False):
            answer_widget(q, key)
            st.form_submit_button(T("hall.send"), type="primary", on_click=_send, args=(code, key))
        failed = st.session_state.pop(ERROR, None)
        if failed is not None:
            show_error(failed)
        if sent is not None:
            shown = sent if q.kind == "number" else q.option_labels(lang)[int(sent)]
            st.success(T("hall.answered_as", value=shown))
    elif state.revealed:
        data = revealed(code, q.id, state.round, state.version)
        st.plotly_chart(results_chart(q, data, T("hall.votes", n=data["votes"])), width="stretch",
                        key=f"hall_student_chart_{q.id}_{state.round}")
    else:
        st.info(T("hall.closed"))


def student(prefill: str) -> None:
    st.session_state.setdefault(PID, new_participant())
    code = st.session_state.get(JOINED)
    if not code:
        join_form(prefill)
        return
    top = st.columns([3, 1])
    top[0].success(T("hall.joined", code=code) + " " + T("hall.following"))
    top[1].button(T("hall.leave"), width="stretch", on_click=lambda: st.session_state.pop(JOINED, None))
    student_live(code)


# --- lecturer ------------------------------------------------------------------------------------------------


def join_link(code: str) -> str | None:
    configured = os.environ.get(PUBLIC_URL_ENV, "").strip().rstrip("/")
    address = f"{configured}/lecture" if configured else (st.context.url or "")
    if not address:
        return None
    return f"{address}?room={code}" + (f"&{LANG_KEY}={lang}" if lang != "en" else "")


def _create() -> None:
    try:
        created = lecture().create(st.session_state.get("hall_title", ""))
    except ExplainerError as error:
        st.session_state[ERROR] = error
        return
    st.session_state[LEAD] = (created.code, created.key)


def _resume() -> None:
    try:
        code = normalise_code(st.session_state.get("hall_resume_code", ""))
        key = st.session_state.get("hall_resume_key", "")
        lecture().check_key(code, key)
    except ExplainerError as error:
        st.session_state[ERROR] = error
        return
    st.session_state[LEAD] = (code, key)
    st.session_state["hall_resume_key"] = ""


def lecturer_start() -> None:
    st.info(T("hall.no_room"))
    with st.form("hall_create", border=False):
        st.text_input(T("hall.room_title"), max_chars=120, key="hall_title")
        st.form_submit_button(T("hall.create"), type="primary", on_click=_create)
    with st.expander(T("hall.resume")), st.form("hall_resume", border=False):
        st.text_input(T("hall.join_code"), max_chars=8, key="hall_resume_code")
        st.text_input(T("hall.key"), type="password", key="hall_resume_key")
        st.form_submit_button(T("hall.take_control"), on_click=_resume)


def control(action: str, *args) -> None:
    code, key = st.session_state[LEAD]
    try:
        getattr(lecture(), action)(code, key, *args)
    except ExplainerError as error:
        st.session_state[ERROR] = error


@st.fragment(run_every=COUNT_POLL_S)
def lecturer_live(code: str) -> None:
    """The projector's live part: how many answered (not what), and the revealed results, round 1 beside 2."""
    try:
        state = lecture().state(code)
    except ExplainerError as error:
        show_error(error)
        return
    if state.question is None:
        return
    q = question(state.question)
    if state.is_open:
        st.metric(T("hall.now_open", question=q.id, round=state.round),
                  T("hall.answered", n=lecture().answered(code, q.id, state.round)))
        return
    key = st.session_state[LEAD][1]
    shown = [(r, revealed_or_none(code, q.id, r, key)) for r in (1, 2)]
    shown = [(r, data) for r, data in shown if data is not None and (data["revealed"] or r == state.round)]
    if not state.revealed:
        st.metric(T("hall.closed"), T("hall.answered", n=shown[-1][1]["votes"] if shown else 0))
        return
    cols = st.columns(len(shown)) if shown else []
    for col, (r, data) in zip(cols, shown):
        with col:
            title = f"{T('hall.round', round=r)} · {T('hall.votes', n=data['votes'])}"
            st.plotly_chart(results_chart(q, data, title), width="stretch", key=f"hall_lead_chart_{q.id}_{r}")
    answer = shown[-1][1]["answer"] if shown else None
    if q.kind == "top1" and answer is None and shown:
        st.warning(T("hall.truth_unknown", reason=shown[-1][1].get("answer_note", "")))
    else:
        st.success(f"{T('hall.true_value')}: {truth_text(q, answer)}")


def revealed_or_none(code: str, qid: str, round_: int, key: str) -> dict | None:
    try:
        return lecture().results(code, qid, round_, key).as_dict()
    except ExplainerError:
        return None  # that round was never asked


def _delete() -> None:
    code = st.session_state[LEAD][0]
    control("delete")
    if ERROR not in st.session_state:
        del st.session_state[LEAD]
        st.session_state["hall_deleted"] = code


def lecturer() -> None:
    deleted = st.session_state.pop("hall_deleted", None)
    if deleted:
        st.success(T("hall.deleted", code=deleted))
    if LEAD not in st.session_state:
        lecturer_start()
        return
    code, key = st.session_state[LEAD]
    try:
        state = lecture().state(code)
    except ExplainerError as error:
        show_error(error)
        del st.session_state[LEAD]
        return
    head = st.columns([1, 2])
    head[0].metric(T("hall.join_code"), code)
    link = join_link(code)
    with head[1]:
        if link:
            st.caption(T("hall.join_link"))
            st.code(link, language=None, wrap_lines=True)
            if st.toggle(T("hall.show_qr"), key="hall_qr"):
                st.markdown(qr_markdown(link, max_width_px=360), unsafe_allow_html=True)
    with st.expander(f"🔑 {T('hall.key')}"):
        st.caption(T("hall.key_note"))
        st.code(key, language=None)

    nav = st.columns([1, 3, 1])
    nav[0].button(T("hall.prev"), disabled=state.step == 0, width="stretch", on_click=control,
                  args=("step", state.step - 1), key="hall_lead_prev")
    nav[1].selectbox(T("hall.step_control"), range(len(STEPS)), index=state.step, key=f"hall_lead_step_{state.version}",
                     format_func=lambda i: f"{i + 1}. {T(f'hall.step_{STEPS[i].key}_title')}",
                     on_change=lambda: control("step", st.session_state[f"hall_lead_step_{state.version}"]))
    nav[2].button(T("hall.next"), disabled=state.step == len(STEPS) - 1, width="stretch", on_click=control,
                  args=("step", state.step + 1), key="hall_lead_next")
    show_step(state.step)

    qs = STEPS[state.step].questions()
    if qs:
        st.markdown(f"#### {T('hall.questions')}")
    for q in qs:
        current = state.question == q.id
        st.markdown(f"**{q.id}** — {q.text(lang)}")
        show_photo(q)
        if q.kind != "number":
            st.caption(" · ".join(f"{i}. {label}" for i, label in enumerate(q.option_labels(lang))))
        b = st.columns(4)
        b[0].button(T("hall.ask"), key=f"hall_ask_{q.id}", on_click=control, args=("ask", q.id, 1),
                    disabled=current and state.is_open and state.round == 1, type="primary", width="stretch")
        b[1].button(T("hall.ask_round2"), key=f"hall_ask2_{q.id}", on_click=control, args=("ask", q.id, 2),
                    disabled=not current or state.is_open or state.round == 2, width="stretch")
        b[2].button(T("hall.close"), key=f"hall_close_{q.id}", on_click=control, args=("close",),
                    disabled=not (current and state.is_open), width="stretch")
        b[3].button(T("hall.reveal"), key=f"hall_reveal_{q.id}", on_click=control, args=("reveal",),
                    disabled=not current or state.revealed, width="stretch")
        if current:
            lecturer_live(code)

    st.divider()
    end = st.columns(2)
    end[0].download_button(T("hall.csv"), data=lambda: lecture().export_csv(code, key), file_name=f"room-{code}.csv",
                           mime="text/csv", width="stretch", on_click="ignore")
    end[1].button(f"🗑 {T('hall.delete')}", width="stretch", on_click=_delete, key="hall_delete")
    expires = datetime.fromtimestamp(state.expires_at, timezone.utc).strftime("%Y-%m-%d %H:%M")
    st.caption(T("hall.expires", date=expires))


# --- the page ------------------------------------------------------------------------------------------------

st.title(T("hall.title"))
st.markdown(T("hall.intro"))

room_param = str(st.query_params.get("room", ""))[:12]
if "hall_mode" not in st.session_state:
    st.session_state["hall_mode"] = "join" if room_param else "self"
mode = st.radio(T("hall.mode"), MODES, key="hall_mode", horizontal=True,
                format_func=lambda m: t(f"hall.mode_{m}", lang))
pending = st.session_state.pop(ERROR, None)
if pending is not None:
    show_error(pending)
try:
    if mode == "self":
        self_paced()
    elif mode == "join":
        student(room_param)
    else:
        lecturer()
except ExplainerError as error:  # e.g. the database cannot be reached: one line, the page keeps working
    show_error(error)
