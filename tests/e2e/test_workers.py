"""Two workers behind nginx (``python -m explainer serve``'s setup), driven by Chromium through the balancer.

The page is opened through nginx on 127.0.0.1, Classify gets ``cat.jpg``
through the real file input and must show a cat label; every answer that came
from a worker (HTML, health, host-config, upload, images; the websocket too)
must come from the same one (the ``X-Explainer-Worker`` header nginx adds).
"""

from __future__ import annotations

import json
import re
import time

import pytest

from bench.server import free_port
from explainer.i18n import t
from tests.e2e.helpers import ARTIFACTS, RENDER_TIMEOUT_MS, VIEWPORT, Tab, patience, unavailable

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def balanced(browser, real_weights):
    from explainer.errors import ExplainerError
    from explainer.serving import Cluster

    try:
        cluster = Cluster(workers=2, port=free_port(), host="127.0.0.1", run_dir=ARTIFACTS / "e2e-serve",
                          extra_env={"EXPLAINER_WEIGHTS_DIR": str(real_weights), "EXPLAINER_OFFLINE": "1"})
    except ExplainerError as error:  # no nginx
        unavailable(error.message("en"))
    with cluster:
        yield cluster


@pytest.mark.parametrize("lang", ["en"])
def test_classify_through_nginx_with_two_workers(browser, balanced, lang: str, photos_dir) -> None:
    accepted = json.loads((photos_dir / "expected.json").read_text())["cat.jpg"]["top5_any"]
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(RENDER_TIMEOUT_MS)
    workers = []
    page.on("response", lambda r: workers.append((r.url, r.headers.get("x-explainer-worker", "-"))))
    tab = Tab(page=page, base_url=balanced.url).watch_console()
    log_start = balanced.access_log.stat().st_size if balanced.access_log.exists() else 0  # earlier runs' lines
    try:
        tab.open("classify", lang)
        page.get_by_text(t("images.source_upload", lang), exact=True).first.click()
        file_input = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
        file_input.wait_for(state="attached")
        tab.wait_idle()
        file_input.set_input_files(str(photos_dir / "cat.jpg"))
        pattern = "|".join(re.escape(label) for label in accepted)
        page.wait_for_function(
            "re => new RegExp(re).test(document.querySelector('[data-testid=\"stMainBlockContainer\"]').innerText)",
            arg=pattern, timeout=patience(120_000))
        tab.wait_idle()
        tab.screenshot(f"classify_two_workers_{lang}")
        assert tab.exceptions() == []
        assert tab.real_console_errors() == []
    finally:
        context.close()
    from_workers = {worker for url, worker in workers if "/static/" not in url and worker != "-"}
    assert len(from_workers) == 1, f"one browser reached several workers: {workers}"
    assert any("/_stcore/upload_file/" in url for url, _ in workers)
    # The websocket went to that worker too (nginx's access log names the worker of every request).
    # nginx writes a websocket's line when it closes, which can come a moment after the browser closed it.
    deadline = time.monotonic() + 15
    while True:
        with balanced.access_log.open("rb") as handle:
            handle.seek(log_start)
            log = handle.read().decode("utf-8", "replace")
        streams = {m.group(1) for m in re.finditer(r'"GET /_stcore/stream[^"]*" 101 \d+ worker=(\w+)', log)}
        if streams or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert streams <= from_workers and streams, log[-2000:]
