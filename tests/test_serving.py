"""``python -m explainer serve``: the generated nginx config, the CLI's errors, and two real workers behind nginx.

The slow part starts the real command (2 workers + Debian's nginx on 127.0.0.1)
once for the module and checks stickiness from nginx's own access log and the
``X-Explainer-Worker`` header, that a killed worker is restarted, and that
SIGTERM stops every process it started. Without nginx these tests skip, unless
``EXPLAINER_REQUIRE_E2E=1`` (``.ci/run``, which installs nginx).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from bench.server import free_port
from explainer import serving
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]


def _need_nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None)
    if found is None:
        reason = "nginx not installed (apt-get install nginx)"
        if os.environ.get("EXPLAINER_REQUIRE_E2E") == "1":
            pytest.fail(f"{reason}; EXPLAINER_REQUIRE_E2E=1: the serving tests must run", pytrace=False)
        pytest.skip(reason)
    return found


def _active(config: str) -> str:
    """The configuration without comments."""
    return "\n".join(line.split("#", 1)[0] for line in config.splitlines())


@pytest.fixture
def config(tmp_path: Path) -> str:
    return serving.render_nginx_config(listen="127.0.0.1:9000", worker_ports=[9101, 9102], run_dir=tmp_path,
                                       static_dir=serving.streamlit_static_dir(),
                                       max_upload_mb=serving.upload_limit_mb())


def test_upload_limit_is_the_apps(config: str) -> None:
    """nginx lets through what the app accepts (config.toml's maxUploadSize), plus the multipart envelope."""
    with (ROOT / ".streamlit" / "config.toml").open("rb") as handle:
        app_limit = tomllib.load(handle)["server"]["maxUploadSize"]
    assert serving.upload_limit_mb() == app_limit
    body = re.search(r"client_max_body_size\s+(\d+)m;", _active(config))
    assert body is not None
    assert app_limit < int(body.group(1)) <= app_limit + 2


def test_config_is_sticky_by_cookie_not_by_address(config: str) -> None:
    active = _active(config)
    assert "ip_hash" not in active  # would send every loopback client (or a hall behind one NAT) to one worker
    upstream = re.search(r"upstream explainer_workers \{(.*?)\}", active, re.S).group(1)
    assert re.search(r"hash \$route_key consistent;", upstream)
    assert re.findall(r"server 127\.0\.0\.1:(\d+)", upstream) == ["9101", "9102"]
    # One failed request must not take a worker out of the hash (its sessions would move to a worker without them),
    # and nginx must drop idle connections to a worker before the worker does (uvicorn: 5 s).
    assert re.findall(r"server 127\.0\.0\.1:\d+ max_fails=0;", upstream) and "fail_timeout" not in upstream
    assert int(re.search(r"keepalive_timeout (\d+)s;", upstream).group(1)) < 5
    assert re.search(r'map \$cookie_route \$route_key \{\s*""\s+\$request_id;\s*default\s+\$cookie_route;', active)
    assert 'Set-Cookie "route=$route_key;' in active


def test_config_passes_websockets_with_a_long_timeout(config: str) -> None:
    active = _active(config)
    assert "proxy_http_version 1.1;" in active
    assert "proxy_set_header Upgrade $http_upgrade;" in active
    assert "proxy_set_header Connection $connection_upgrade;" in active
    timeout = int(re.search(r"proxy_read_timeout (\d+)s;", active).group(1))
    assert timeout >= 3600


def test_config_serves_the_frontend_files_itself(config: str) -> None:
    alias = Path(re.search(r"location /static/ \{\s*alias ([^;]+);", _active(config)).group(1))
    html = (alias.parent / "index.html").read_text()
    entry = re.search(r'src="\./static/(js/index\.[^"]+\.js)"', html).group(1)
    assert (alias / entry).is_file()
    assert "{{" not in config and "}}" not in config


def test_template_placeholders_must_all_be_filled() -> None:
    with pytest.raises(KeyError, match="port"):
        serving.fill_template("listen {{port}}; $request_id", listen="x")


def test_cli_rejects_bad_worker_counts(capsys: pytest.CaptureFixture[str]) -> None:
    _need_nginx()
    status, out, err = run_cli(capsys, "serve", "--workers", "0", "--port", str(free_port()))
    assert status == 2
    assert err.strip().splitlines() == ["error: --workers must be between 1 and 32, not 0"]


def test_cli_refuses_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    _need_nginx()
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        status, out, err = run_cli(capsys, "serve", "--workers", "1", "--port", str(port))
    assert status == 2
    assert err.strip().splitlines() == [f"error: port {port} on 127.0.0.1 is already in use"]


def test_nginx_accepts_the_generated_config(config: str, tmp_path: Path) -> None:
    nginx = _need_nginx()
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "tmp" / sub).mkdir(parents=True)
    path = tmp_path / "nginx.conf"
    path.write_text(config)
    done = subprocess.run([nginx, "-t", "-c", str(path), "-p", str(tmp_path), "-e", str(tmp_path / "e.log")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --- two real workers behind nginx ----------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """``python -m explainer serve --workers 2 --json`` on 127.0.0.1; yields (process, status, run dir)."""
    _need_nginx()
    run_dir = tmp_path_factory.mktemp("serve")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "explainer", "serve", "--workers", "2", "--port", str(port), "--run-dir",
         str(run_dir), "--json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()  # the command prints one JSON line when everything is ready
        if not line:
            pytest.fail(f"serve exited with {process.wait(timeout=30)}: {process.stderr.read()[-2000:]}")
        yield process, json.loads(line), run_dir
    finally:
        serving.stop_process(process, timeout=60)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _access_log(run_dir: Path) -> list[dict[str, str]]:
    entries = []
    for line in (run_dir / "nginx-access.log").read_text().splitlines():
        request = re.search(r'"(\S+) (\S+) [^"]*"', line)
        fields = dict(re.findall(r"(\w+)=(\S+)", line))
        if request:
            entries.append({"method": request.group(1), "path": request.group(2), **fields})
    return entries


@pytest.mark.slow
def test_a_sessions_requests_stay_on_one_worker(cluster) -> None:
    """Each browser's requests (and its websocket) land on one worker; browsers spread over both."""
    from bench.stclient import StreamlitSession

    _, status, run_dir = cluster
    url = status["url"]
    workers_seen = {}
    for _ in range(16):  # 16 fresh browsers: all on one worker by chance has probability 2**-15
        with requests.Session() as browser:
            first = browser.get(f"{url}/_stcore/health", timeout=30)
            route = browser.cookies.get("route")
            assert first.status_code == 200 and route, "nginx gave no route cookie"
            second = browser.get(f"{url}/_stcore/host-config", timeout=30)
            third = browser.get(f"{url}/_stcore/health", timeout=30)
            assert first.headers["X-Explainer-Worker"] == second.headers["X-Explainer-Worker"] \
                == third.headers["X-Explainer-Worker"]
            workers_seen[route] = first.headers["X-Explainer-Worker"]
    assert set(workers_seen.values()) == {"w1", "w2"}

    async def one_session() -> str:
        session = StreamlitSession(url)
        try:
            await session.connect()  # GET /_stcore/health (cookies), then the websocket with them
            result = await session.rerun(page="", query="lang=en")
            assert result.status == "FINISHED_SUCCESSFULLY"
            return session.http.cookies.get("route")
        finally:
            await session.close()

    # In a thread of its own: an earlier test in the same process may have left an event loop running here.
    with ThreadPoolExecutor(max_workers=1) as pool:
        route = pool.submit(asyncio.run, one_session()).result(timeout=120)
    # nginx writes the websocket's line when it closes, a moment after the client closed it: wait for it
    deadline = time.monotonic() + 30
    while True:
        mine = [e for e in _access_log(run_dir) if e.get("route") == route]
        if any(e["path"].startswith("/_stcore/stream") for e in mine) or time.monotonic() > deadline:
            break
        time.sleep(0.1)  # poll interval
    assert any(e["path"].startswith("/_stcore/stream") for e in mine), mine
    assert len({e["worker"] for e in mine}) == 1, f"one session reached several workers: {mine}"
    # The log agrees with the header for the plain requests.
    for seen_route, worker in workers_seen.items():
        assert {e["worker"] for e in _access_log(run_dir) if e.get("route") == seen_route} == {worker}


@pytest.mark.slow
def test_a_killed_worker_is_restarted_and_sigterm_stops_everything(cluster) -> None:
    process, status, run_dir = cluster
    victim = status["workers"][0]
    os.kill(victim["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 120
    restarted = None
    while time.monotonic() < deadline:
        now = json.loads((run_dir / "serve.json").read_text())
        if now["workers"][0]["pid"] != victim["pid"] and serving.health(f"http://127.0.0.1:{victim['port']}"):
            restarted = now
            break
        time.sleep(0.5)
    assert restarted is not None, "the killed worker was not restarted on its port"
    assert restarted["workers"][1]["pid"] == status["workers"][1]["pid"]  # the other one was left alone
    assert serving.health(status["url"])
    pids = [restarted["nginx_pid"]] + [w["pid"] for w in restarted["workers"]]
    assert all(_alive(pid) for pid in pids)

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert not [pid for pid in pids if _alive(pid)], "serve left processes running"
    assert not serving.health(status["url"], timeout=1.0)
