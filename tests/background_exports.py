"""The ExecuTorch exports of ``tests/test_export.py``, made in a second process while other tests run.

Lowering a network is minutes of single-threaded Python (``shared/notes/measured-facts.md``); the test
process spends much of its time on one core (page scripts, browser waits), so the session starts this
worker (``tests/conftest.py``, :func:`start`) as soon as ``test_export.py`` is among the collected tests.
It computes exactly what the tests' session fixtures computed in the test process — same settings, same
weights, same photos, same ``runs`` — and the real command line's export, and writes each result to its own
file as soon as it is done. The fixtures take the results (:func:`result`), waiting for the worker when it
is not done yet; they never skip an export: if the worker did not run or failed, they say so.

Run as ``python -m tests.background_exports FOLDER WEIGHTS_DIR IMAGES_DIR TASK…`` (``FOLDER``: where the results
go; tasks: ``fp32``, ``int8``, ``cli``).
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The exports, in the order the tests need them: (file stem, dtype) of MobileNetV2 α = 1.0 at 224.
PRETRAINED = (("fp32", "float32"), ("int8", "int8"))
#: Timed runs of eager vs ``.pte`` (as in the tests).
RUNS = 3
#: The command line's export (``test_cli_exports_untrained_alpha_half_at_160``).
CLI_ARGS = ("export", "--width", "0.5", "--resolution", "160", "--runs", str(RUNS))
CLI_FILE = "v2_0.5_160.pte"


def shared_photos(images_dir: Path) -> list[Path]:
    """The shared photos of ``expected.json``, sorted by path (as the ``shared_images`` fixture lists them)."""
    data = json.loads((images_dir / "expected.json").read_text())
    return sorted((images_dir / name for name in data if not name.startswith("_")), key=str)


def _write(folder: Path, name: str, payload: object) -> None:
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(pickle.dumps(payload))
    tmp.replace(folder / name)  # appears complete or not at all


def cli_env(folder: Path) -> dict[str, str]:
    """The ``offline`` fixture's environment: no weights folder, empty caches, downloads off."""
    env = {k: v for k, v in os.environ.items() if k != "EXPLAINER_WEIGHTS_DIR"}
    env.update(TORCH_HOME=str(folder / "cli" / "torch_home"), EXPLAINER_CACHE_DIR=str(folder / "cli" / "cache"),
               EXPLAINER_OFFLINE="1")
    return env


#: The running worker of this test session: ``{"process": Popen, "folder": Path}`` (tests/conftest.py).
WORKER: dict = {}
#: Task name -> the fixture of tests/test_export.py that takes its result.
FIXTURES = {"fp32": "fp32_result", "int8": "int8_result", "cli": "cli_export_run"}


def work(folder: Path, weights_dir: Path, images_dir: Path, tasks: list[str]) -> None:
    from explainer.deploy import pte as deploy
    from explainer.images import load_image

    for stem, dtype in PRETRAINED:
        if stem not in tasks:
            continue
        try:
            paths = shared_photos(images_dir)
            names, images = [p.name for p in paths], [load_image(str(p), p.name) for p in paths]
            settings = deploy.check_settings(width=1.0, resolution=224, dtype=dtype)
            network = deploy.load_network(settings, weights_dir, download=False)
            result = deploy.export_and_measure(network, settings, network.batch(images), names, runs=RUNS)
            payload = {"exported": result.exported, "measurement": result.measurement,
                       "pretrained": result.pretrained, "weights": result.weights, "weights_id": result.weights_id}
        except Exception:  # noqa: BLE001 - handed to the test that needs it
            payload = {"error": traceback.format_exc()}
        _write(folder, f"{stem}.pkl", payload)
    if "cli" not in tasks:
        return
    # The real command (`python -m explainer export`), as an untrained α = 0.5 network needs no weights.
    out = folder / "cli" / CLI_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "explainer", *CLI_ARGS, "--out", str(out), "--json"], check=False,
                          cwd=ROOT, env=cli_env(folder), capture_output=True, text=True, timeout=3600)
    _write(folder, "cli.pkl", {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
                               "out": str(out)})


def start(folder: Path, weights_dir: Path, images_dir: Path, tasks: list[str]) -> subprocess.Popen:
    """Start the worker (it lowers its own CPU priority: it should take the core the tests leave idle)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "worker.log", "wb") as log:  # the child keeps its own copy of the handle
        return subprocess.Popen([sys.executable, "-m", "tests.background_exports", str(folder), str(weights_dir),
                                 str(images_dir), *tasks], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                     os.environ.get("PYTHONPATH")]))},
                                start_new_session=True)  # its own process group: see stop()


def stop(process: subprocess.Popen) -> None:
    """Stop the worker and the command it may be running (its process group), by the worker's PID."""
    import signal

    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def result(process: subprocess.Popen, folder: Path, name: str, timeout_s: float = 3600) -> dict:
    """The worker's ``name`` result, waiting for it (a condition, polled); raises if the worker gave none."""
    path = folder / name
    if not path.exists():  # the tests wait for it now: back to normal priority (allowed to root only; else as is)
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PGRP, process.pid, 0)
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if process.poll() is not None and not path.exists():
            log = (folder / "worker.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the export worker exited ({process.returncode}) without {name}:\n{log}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the export worker did not write {name} within {timeout_s:.0f} s")
        time.sleep(0.2)
    payload = pickle.loads(path.read_bytes())
    if "error" in payload:
        raise RuntimeError(f"the export worker failed on {name}:\n{payload['error']}")
    return payload


if __name__ == "__main__":
    os.nice(5)
    work(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:])
