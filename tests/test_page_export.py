"""The "Export to a phone" page (AppTest): nothing is exported on a plain run, the button exports once for
everyone (in the background, with progress), the result shows in both languages, a missing ExecuTorch is one line."""

from __future__ import annotations

import threading

import pytest

from explainer.deploy import pte as deploy
from explainer.i18n import t
from tests.conftest import run_page

PAGE = "pages/export.py"
#: The smallest network the page offers: its export is the cheapest (untrained, α = 0.35 at 96×96).
SMALL = {"w": 0.35, "res": 96}

needs_executorch = pytest.mark.skipif(not deploy.executorch_available(), reason="executorch is not installed")


def _key(width: float, resolution: int, dtype: str = "float32") -> tuple:
    return deploy.cache_key(deploy.check_settings(width=width, resolution=resolution, dtype=dtype), "untrained")


def _wait_finished(key: tuple, timeout_s: float = 900) -> deploy.ExportResult:
    job = deploy.exports().job(key)
    assert job is not None
    done = threading.Event()
    for _ in range(int(timeout_s / 0.05)):  # wait for the condition (polled), not for a fixed time
        if job.finished:
            break
        done.wait(0.05)
    assert job.finished and job.error is None, job.error
    result = deploy.exports().peek(key)
    assert result is not None
    return result


@needs_executorch
def test_plain_runs_never_export(with_weights) -> None:
    key = _key(0.5, 112)
    before = deploy.exports().computations
    at = run_page(PAGE, "en", timeout=120, w=0.5, res=112)
    assert not at.exception, at.exception
    assert at.title[0].value == t("export.title", "en")
    assert any(t("export.weights_untrained", "en") in w.value for w in at.warning)
    assert any(c.value == t("export.press", "en") for c in at.caption)
    at.run()
    at.run()
    assert not at.exception
    assert deploy.exports().job(key) is None and deploy.exports().peek(key) is None
    assert deploy.exports().computations == before


@needs_executorch
@pytest.mark.slow
def test_button_exports_once_and_shows_the_result_in_both_languages(with_weights) -> None:
    key = _key(SMALL["w"], SMALL["res"])
    at = run_page(PAGE, "en", timeout=120, **SMALL)
    assert not at.exception, at.exception
    at.button(key="export_go").click().run()
    assert not at.exception, at.exception
    job = deploy.exports().job(key)
    assert job is not None
    # A second student pressing now gets the same job (or the finished result), never a second export.
    other = run_page(PAGE, "zh", timeout=120, **SMALL)
    assert not other.exception, other.exception
    if deploy.exports().peek(key) is None:  # still running: the button is there, and pressing it joins the job
        other.button(key="export_go").click().run()
    assert deploy.exports().job(key) is job
    result = _wait_finished(key)
    computations = deploy.exports().computations
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[t("export.m_size", "en")] == f"{result.exported.size_bytes / 2**20:.2f} MB"
    m = result.measurement
    assert metrics[t("export.m_agree", "en")] == f"{m.agreeing} / {len(m.photos)}"
    assert m.agreeing == len(m.photos) >= 4  # float32: the file answers like eager on every sample photo
    assert metrics[t("export.m_time", "en")] == f"{m.latency_ms:.1f} ms"
    download = at.get("download_button")
    assert len(download) == 1
    why = "\n".join(md.value for md in at.markdown)
    assert t("export.why_delegated", "en", xnn=result.exported.lowering.delegated_nodes,
             calls=result.exported.lowering.delegate_calls, portable=0) in why
    assert t("export.why_folded", "en", bn=52) in why
    # The student's photo (a sample by default) is classified by the .pte: one top-5 chart.
    assert len(at.get("plotly_chart")) == 1
    # Chinese, another session: the result is there at once, nothing exported again.
    zh = run_page(PAGE, "zh", timeout=120, **SMALL)
    assert not zh.exception, zh.exception
    assert zh.title[0].value == t("export.title", "zh")
    assert t("export.m_size", "zh") in {m.label for m in zh.metric}
    assert deploy.exports().computations == computations


def test_without_executorch_the_page_says_so_in_one_line(monkeypatch) -> None:
    monkeypatch.setattr(deploy, "executorch_available", lambda: False)
    at = run_page(PAGE, "zh", timeout=60)
    assert not at.exception, at.exception
    assert [i.value for i in at.info] == [t("errors.export.no_executorch", "zh")]
    assert not at.button
