"""Shared fixtures: where the real test weights, photos and data sets are, and AppTest helpers.

Shared test data lives beside the checkout in ``../shared/`` (never
committed), or in the folder ``EXPLAINER_SHARED_DIR`` names:
``weights/`` (``mobilenet_v2.pth``, the V1 ``.npz``, the ``.tflite`` files),
``images/`` (photos + ``expected.json``) and ``datasets/`` (``ants_bees``).
``EXPLAINER_WEIGHTS_DIR`` and ``EXPLAINER_DATA_DIR`` override the weights and
data-set folders.

Normally a test whose shared data is absent **skips** with a reason that
starts with ``shared data missing:``. With ``EXPLAINER_REQUIRE_SHARED=1``
(``.ci/run`` sets it when it found ``../shared``) the same test **fails**:
every fixture here goes through :func:`require_shared`, and a safety net
(:func:`pytest_runtest_makereport`) turns any other skip whose reason is
about shared data (weights, ``.npz``/``.pth``/``.tflite`` files, photos,
data sets) into a failure. The end of every run prints how many tests
skipped and why, and how many passed tests used each kind of shared data
(written as JSON to ``EXPLAINER_SHARED_REPORT`` when set, which ``.ci/run``
checks).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EXPLAINER_SHARED_DIR") or ROOT.parent / "shared")
#: ``1`` = shared data is required: a missing file fails the test instead of skipping it.
REQUIRE_ENV = "EXPLAINER_REQUIRE_SHARED"
#: Where to write the end-of-run summary of skips and shared-data use (JSON), when set.
REPORT_ENV = "EXPLAINER_SHARED_REPORT"
#: Every skip for missing shared data starts with this.
MISSING = "shared data missing:"
#: A skip reason matching this is about shared data (also skips written without :func:`require_shared`).
SHARED_REASON = re.compile(
    r"shared|weights|\.npz|\.pth|\.tflite|photo|dataset|data set|ants_bees|EXPLAINER_(?:WEIGHTS|DATA|SHARED)_DIR",
    re.IGNORECASE,
)
#: Fixtures that hand out shared data, by kind (a passed test that requested one "used" that kind).
SHARED_FIXTURES: dict[str, str] = {
    "weights_dir": "weights", "with_weights": "weights", "v1_npz": "weights", "real_weights": "weights",
    "shared_images": "photos", "photos_dir": "photos", "datasets_dir": "datasets", "with_all_models": "weights",
}
V1_NPZ = "mobilenet_v1_0.75_192_imagenet.npz"


def shared_required() -> bool:
    """Whether this run must use the shared data (``EXPLAINER_REQUIRE_SHARED=1``)."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def missing_shared(detail: str) -> None:
    """Skip for missing shared data — or fail, when the run requires it."""
    if shared_required():
        pytest.fail(f"{MISSING} {detail} ({REQUIRE_ENV}=1: tests that need shared data must run)", pytrace=False)
    pytest.skip(f"{MISSING} {detail}")


def require_shared(path: str | Path, what: str) -> Path:
    """``path`` if it exists; else skip (normally) or fail (``EXPLAINER_REQUIRE_SHARED=1``) naming ``what``."""
    path = Path(path)
    if not path.exists():
        missing_shared(f"{what} not found at {path}")
    return path


def weights_folder() -> Path:
    """``EXPLAINER_WEIGHTS_DIR`` if set, else ``<shared>/weights`` (it may not exist)."""
    configured = os.environ.get("EXPLAINER_WEIGHTS_DIR")
    return Path(configured) if configured else SHARED / "weights"


def data_folder() -> Path:
    """``EXPLAINER_DATA_DIR`` if set, else ``<shared>/datasets`` (it may not exist)."""
    configured = os.environ.get("EXPLAINER_DATA_DIR")
    return Path(configured) if configured else SHARED / "datasets"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    """The folder with the real weights (``mobilenet_v2.pth``; the V1 ``.npz`` and ``.tflite`` files beside it).

    Tests needing another file of this folder check it with :func:`require_shared` (or use ``v1_npz``)."""
    folder = weights_folder()
    require_shared(folder / "mobilenet_v2.pth",
                   "real ImageNet weights mobilenet_v2.pth (set EXPLAINER_WEIGHTS_DIR or EXPLAINER_SHARED_DIR)")
    return folder


@pytest.fixture(scope="session")
def v1_npz(weights_dir: Path) -> Path:
    """Google's released MobileNetV1 0.75/192 weights (``.npz``) in the weights folder."""
    return require_shared(weights_dir / V1_NPZ, f"V1 weights {V1_NPZ}")


@pytest.fixture(scope="session")
def shared_images() -> dict[str, dict]:
    """``{file path: expected entry}`` from ``<shared>/images/expected.json``; every listed photo must exist."""
    folder = SHARED / "images"
    expected = require_shared(folder / "expected.json", "shared test photos (set EXPLAINER_SHARED_DIR)")
    data = json.loads(expected.read_text())
    photos = {str(folder / name): entry for name, entry in data.items() if not name.startswith("_")}
    for path in photos:
        require_shared(path, "shared test photo")
    return photos


@pytest.fixture(scope="session")
def photos_dir(shared_images: dict[str, dict]) -> Path:
    """The folder of the shared test photos (``cat.jpg``, ``bird.jpg`` …; every photo in ``expected.json`` exists)."""
    return SHARED / "images"


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The folder with the shared data sets (``ants_bees/train/{ants,bees}``)."""
    folder = data_folder()
    require_shared(folder / "ants_bees" / "train", "the ants/bees data set (set EXPLAINER_DATA_DIR or EXPLAINER_SHARED_DIR)")
    return folder


@pytest.fixture(autouse=True, scope="session")
def _app_test_like_a_server():
    """AppTest runs every page through ``app.py``, as a server does after its first visit.

    (AppTest switches Streamlit's legacy ``pages/`` mode back on before every run; pages/legacy_folder.py.)
    tests/test_legacy_folder.py checks the first visit to a fresh server without this.
    """
    from pages.legacy_folder import like_a_server

    with like_a_server():
        yield


def navigation(lang: str = "en") -> dict[str, list[str]]:
    """``app.py``'s menu as a visitor gets it: ``{section title: [URL path of each page, in order]}``."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    menu = at.session_state[f"_menu_{lang}"]  # app.py's menu(): made once per session and language
    return {section: [page.url_path for page in pages] for section, pages in menu.items()}


def only_v2_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, weights_dir: Path) -> Path:
    """A weights folder holding only MobileNetV2 (the other MobileNets missing), downloads off, empty caches."""
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "mobilenet_v2.pth").symlink_to(weights_dir / "mobilenet_v2.pth")
    monkeypatch.setenv("EXPLAINER_WEIGHTS_DIR", str(folder))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("EXPLAINER_OFFLINE", "1")
    return folder


def run_page(path: str, lang: str = "en", timeout: float = 60, **state):
    """Run one page script with AppTest in ``lang``; extra ``state`` goes into session state."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / path), default_timeout=timeout)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    return at


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No weights folder, an empty cache (ours and torchvision's), downloads switched off."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("EXPLAINER_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("EXPLAINER_OFFLINE", "1")
    return tmp_path


@pytest.fixture
def with_weights(weights_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real weights folder in EXPLAINER_WEIGHTS_DIR, downloads switched off."""
    monkeypatch.setenv("EXPLAINER_WEIGHTS_DIR", str(weights_dir))
    monkeypatch.setenv("EXPLAINER_OFFLINE", "1")
    return weights_dir


@pytest.fixture(scope="session")
def all_models_folder(weights_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weights folder with a file for every taught MobileNet: the shared files (MobileNetV2, the released V1
    ``.npz``, the ``.tflite`` files) plus seeded random ``mobilenet_v3_{large,small}.pth`` in torchvision's
    layout (a user's own file), for pages that offer only the models whose weights are installed."""
    import torch

    from explainer.models import build_model

    folder = tmp_path_factory.mktemp("all_models")
    for file in weights_dir.iterdir():
        (folder / file.name).symlink_to(file)
    for name in ("mobilenet_v3_large", "mobilenet_v3_small"):
        torch.manual_seed(0)
        torch.save(build_model(name).state_dict(), folder / f"{name}.pth")
    return folder


@pytest.fixture
def with_all_models(all_models_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """:func:`all_models_folder` in EXPLAINER_WEIGHTS_DIR, downloads switched off, empty caches."""
    monkeypatch.setenv("EXPLAINER_WEIGHTS_DIR", str(all_models_folder))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("EXPLAINER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("EXPLAINER_OFFLINE", "1")
    return all_models_folder


@pytest.fixture
def mirror(tmp_path: Path):
    """A local HTTP server on 127.0.0.1 serving the folder it returns (``(folder, base URL)``), stopped after
    the test: the download mirror of the catalogue's tests (``EXPLAINER_DOWNLOAD_MIRROR``)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    folder = tmp_path / "mirror"
    folder.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``python -m explainer`` in-process; return (exit status, stdout, stderr)."""
    from explainer.cli import main

    try:
        status = main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse errors
        status = int(exit_.code)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --------------------------------------------------------------------------
# Skips that would hide: fail them under EXPLAINER_REQUIRE_SHARED=1, count them always
# --------------------------------------------------------------------------


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


_USED: dict[str, set[str]] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        if shared_required() and SHARED_REASON.search(reason):
            report.outcome = "failed"
            report.longrepr = (f"{reason}\n{REQUIRE_ENV}=1: this test needs shared data the run was given "
                               "and must not skip")
    elif report.when == "call" and report.passed:
        for name in getattr(item, "fixturenames", ()):
            kind = SHARED_FIXTURES.get(name)
            if kind:
                _USED.setdefault(kind, set()).add(item.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if not hasattr(r, "wasxfail")]
    shared = [r for r in skipped if SHARED_REASON.search(_skip_reason(r))]
    used = {kind: len(_USED.get(kind, ())) for kind in ("weights", "photos", "datasets")}
    mode = "required" if shared_required() else "optional"
    terminalreporter.write_sep("-", "skips and shared data")
    terminalreporter.write_line(f"skipped: {len(skipped)} tests, {len(shared)} of them for missing shared data "
                                f"(shared data {mode}; {REQUIRE_ENV}=1 turns those skips into failures)")
    terminalreporter.write_line("passed tests that used shared data: "
                                + ", ".join(f"{kind} {n}" for kind, n in used.items()))
    report_path = os.environ.get(REPORT_ENV)
    if report_path:
        Path(report_path).parent.mkdir(parents=True, exist_ok=True)
        Path(report_path).write_text(json.dumps({
            "skipped": len(skipped), "skipped_shared": len(shared), "required": shared_required(), "used": used,
            "skip_reasons": sorted({_skip_reason(r) for r in skipped}),
        }, indent=1))


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster for the session (``explainer.lecture.pgcluster``), stopped at the end.

    Skipped with the reason when PostgreSQL is not installed, unless ``EXPLAINER_REQUIRE_E2E=1`` (CI): then it
    fails."""
    from explainer.lecture import pgcluster

    if pgcluster.binaries() is None:
        reason = "PostgreSQL is not installed (initdb/pg_ctl; Debian package postgresql)"
        if os.environ.get("EXPLAINER_REQUIRE_E2E", "").strip() in ("1", "true", "yes"):
            pytest.fail(f"{reason}; EXPLAINER_REQUIRE_E2E=1 requires it", pytrace=False)
        pytest.skip(reason)
    cluster = pgcluster.start_cluster()
    try:
        yield cluster.url
    finally:
        from explainer.lecture.store import forget_engine

        forget_engine(cluster.url)
        cluster.stop()


# --------------------------------------------------------------------------
# ExecuTorch exports made beside the tests (tests/background_exports.py)
# --------------------------------------------------------------------------

def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the export worker as soon as the tests that need its results are collected, so that its minutes
    of lowering overlap the tests before them."""
    from tests import background_exports

    wanted = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    tasks = [task for task, fixture in background_exports.FIXTURES.items() if fixture in wanted]
    if not tasks or session.config.option.collectonly:
        return
    from explainer.deploy.pte import executorch_available

    if not executorch_available():
        return  # the tests skip themselves
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="explainer-exports-"))
    # Kept in tests.background_exports: pytest loads this file as `conftest`, the tests import `tests.conftest`.
    background_exports.WORKER.update(folder=folder, process=background_exports.start(
        folder, weights_folder(), SHARED / "images", tasks))


def background_export(name: str) -> dict:
    """The export worker's result ``name`` (``fp32.pkl``, ``int8.pkl``, ``cli.pkl``), waiting until it is there."""
    from tests import background_exports

    worker = background_exports.WORKER
    if "process" not in worker:
        pytest.fail("the export worker was not started (tests/conftest.py, pytest_collection_finish)", pytrace=False)
    return background_exports.result(worker["process"], worker["folder"], name)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from tests import background_exports

    process = background_exports.WORKER.pop("process", None)
    if process is not None:
        import shutil

        background_exports.stop(process)  # still running only when the run ended early (-x, Ctrl-C)
        shutil.rmtree(background_exports.WORKER.pop("folder"), ignore_errors=True)
