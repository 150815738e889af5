"""The load test's simulated student costs the server what a real Chromium tab costs it.

One Chromium visit and one simulated visit (``bench.stclient`` in browser-like
mode, as ``bench/loadtest.py`` uses it) do the same thing on the same warm
server: open ``/classify?lang=en`` (its sample photo is classified), choose
Upload, upload ``cat.jpg``, see the result. They must make the same number of
script runs, send the same widgets on the last rerun, and make about the same
HTTP requests (the page, its scripts, stylesheet, fonts, component chunks,
probes, the upload and the images): at most 3 or 5 % apart.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench.stclient import StreamlitSession
from explainer.i18n import t
from tests.e2e.helpers import RENDER_TIMEOUT_MS, VIEWPORT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NOT_RUNNING = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def _normal(path: str) -> str:
    """One name for what differs from visit to visit (media file names, upload ids)."""
    path = re.sub(r"/media/[0-9a-f]+\.", "/media/<file>.", path)
    return re.sub(r"/_stcore/upload_file/.*", "/_stcore/upload_file/<id>", path)


def _widget_keys(states) -> set[str]:
    return {state.id.rsplit("-", 1)[-1] for state in states}


def _chromium_visit(browser, base_url: str, accepted: list[str], cat: Path) -> dict:
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    requests, reruns, finished, fragments = [], [], [], []
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(RENDER_TIMEOUT_MS)

    def on_request(request) -> None:
        if request.url.startswith(base_url):
            requests.append((request.method, _normal(request.url[len(base_url):].split("?")[0])))

    def on_websocket(ws) -> None:
        def sent(payload) -> None:
            if isinstance(payload, (bytes, bytearray)):
                msg = BackMsg()
                msg.ParseFromString(payload)
                if msg.WhichOneof("type") == "rerun_script":
                    reruns.append(_widget_keys(msg.rerun_script.widget_states.widgets))
                    fragments.append(bool(msg.rerun_script.fragment_id))

        def received(payload) -> None:
            if isinstance(payload, (bytes, bytearray)):
                msg = ForwardMsg()
                msg.ParseFromString(payload)
                if msg.WhichOneof("type") == "script_finished":
                    finished.append(ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished))

        ws.on("framesent", sent)
        ws.on("framereceived", received)

    page.on("request", on_request)
    page.on("websocket", on_websocket)
    try:
        page.goto(f"{base_url}/classify?lang=en")
        page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')
        page.wait_for_selector(NOT_RUNNING)
        page.get_by_text(t("images.source_upload", "en"), exact=True).first.click()
        file_input = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
        file_input.wait_for(state="attached")
        page.wait_for_selector(NOT_RUNNING)
        file_input.set_input_files(str(cat))
        pattern = "|".join(re.escape(label) for label in accepted)
        page.wait_for_function(
            "re => new RegExp(re).test(document.querySelector('[data-testid=\"stMainBlockContainer\"]').innerText)"
            " && [...document.querySelectorAll('[data-testid=\"stImage\"] img')].every(i => i.complete)",
            arg=pattern)
        page.wait_for_selector(NOT_RUNNING)
        page.wait_for_load_state("networkidle")  # anything the page still fetches after rendering
    finally:
        context.close()
    return {"requests": requests, "reruns": reruns, "fragments": fragments, "finished": [s for s in finished
                                                                 if s != "FINISHED_EARLY_FOR_RERUN"]}


async def _simulated_visit(base_url: str, accepted: list[str], cat: Path) -> dict:
    session = StreamlitSession(base_url, timeout=180, browser_like=True)
    sent, fragments = [], []
    original = session._send

    async def recording_send(msg) -> None:
        if msg.WhichOneof("type") == "rerun_script":
            sent.append(_widget_keys(msg.rerun_script.widget_states.widgets))
            fragments.append(bool(msg.rerun_script.fragment_id))
        await original(msg)

    session._send = recording_send
    try:
        opened = await session.open("classify", "en")
        radio = next(r for r in opened.widgets["radio"] if r.id.endswith("classify_source"))
        session.set_widget(radio.id, string_value=t("images.source_upload", "en"))
        waiting = await session.rerun()
        shown = await session.upload(waiting.widget("file_uploader").id, cat.name, cat.read_bytes())
        assert any(shown.has_text(label) for label in accepted), "the simulated student saw no cat label"
    finally:
        await session.close()
    return {"requests": [(m, _normal(p)) for m, p, _ in session.requests], "reruns": sent, "fragments": fragments,
            "script_runs": session.script_runs}


def test_simulated_visit_matches_a_chromium_visit(browser, app_server, real_weights, photos_dir) -> None:
    accepted = json.loads((photos_dir / "expected.json").read_text())["cat.jpg"]["top5_any"]
    real = _chromium_visit(browser, app_server.base_url, accepted, photos_dir / "cat.jpg")
    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's sync API owns this thread's event loop
        simulated = pool.submit(asyncio.run, _simulated_visit(app_server.base_url, accepted, photos_dir / "cat.jpg")).result(timeout=300)

    # Script runs: open, choose Upload, the upload.
    assert len(real["reruns"]) == len(real["finished"]) == 3, real["finished"]
    assert simulated["script_runs"] == len(simulated["reruns"]) == len(real["reruns"])
    # Every rerun carries the state of every widget shown, as the browser's does, and reruns a fragment alone
    # exactly where the browser does.
    assert simulated["reruns"] == real["reruns"], (simulated["reruns"], real["reruns"])
    assert simulated["fragments"] == real["fragments"], (simulated["fragments"], real["fragments"])

    # HTTP requests: the same count within 3 or 5 %, and nearly the same requests.
    n_real, n_sim = len(real["requests"]), len(simulated["requests"])
    assert n_real > 80, f"Chromium made only {n_real} requests: the recording missed the page's assets"
    assert abs(n_real - n_sim) <= max(3, 0.05 * n_real), (n_real, n_sim)
    only_real = Counter(real["requests"]) - Counter(simulated["requests"])
    only_sim = Counter(simulated["requests"]) - Counter(real["requests"])
    assert sum(only_real.values()) <= 3 and sum(only_sim.values()) <= 3, (only_real, only_sim)
    for kind in ("/static/js/", "/static/css/", "/static/media/", "/media/", "/_stcore/upload_file/"):
        assert any(kind in path for _, path in simulated["requests"]), f"the simulated visit loads no {kind}"
