"""Several Streamlit workers behind nginx: the configuration and the supervisor of ``python -m explainer serve``.

One Streamlit process runs every session's script in threads of one Python
process (one GIL), so more cores need more processes, and a balancer in front
that keeps each browser on the process holding its session and websocket.

- :func:`render_nginx_config` fills ``deploy/nginx.conf.template``: sticky
  sessions by a ``route`` cookie with ``hash $route_key consistent`` (a fresh
  ``$request_id`` on a browser's first request; ``ip_hash`` would pin a whole
  hall behind one NAT address to one worker), websocket upgrade, a long read
  timeout, ``client_max_body_size`` from the app's own upload limit, the
  frontend's ``/static/`` files served by nginx itself, and which worker
  answered in the access log and the ``X-Explainer-Worker`` header.
- :class:`Cluster` starts the workers (``streamlit run app.py`` on
  127.0.0.1, one shared cookie secret through ``STREAMLIT_SERVER_COOKIE_SECRET``,
  ``--server.fileWatcherType none``), waits until each answers
  ``/_stcore/health``, starts nginx (unprivileged: ``daemon off``, its own pid
  file, logs and temp folders in the run folder), restarts a worker or nginx
  that died, and stops everything by PID.
- With ``upstreams`` (``serve --upstream HOST:PORT …``) it runs only nginx, in front of workers started by someone
  else: compose services, systemd units (``deploy/``). The same template, the same stickiness.

No Streamlit import here: the workers are separate processes.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
import re
from typing import Callable

from explainer.errors import ExplainerError

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
STREAMLIT_CONFIG = ROOT / ".streamlit" / "config.toml"
#: Streamlit's own default upload limit (MB) when the config file sets none.
STREAMLIT_DEFAULT_UPLOAD_MB = 200
#: Extra room above the upload limit for the multipart envelope (MB).
BODY_MARGIN_MB = 1
#: A student's websocket may stay idle for a whole lecture.
READ_TIMEOUT_S = 3600
#: nginx closes idle connections to a worker after this long, before the worker's own 5 s keep-alive timeout.
UPSTREAM_KEEPALIVE_S = 3
MAX_WORKERS = 32
#: A worker that dies this many times within RESTART_WINDOW_S is not restarted again.
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0


class ServeError(ExplainerError):
    """Serving could not start (no nginx, a busy port, a worker that never became ready)."""


#: Environment variable with the default number of workers (e.g. in a container whose CPU quota is not
#: visible as CPU affinity).
WORKERS_ENV = "EXPLAINER_WORKERS"


def default_workers() -> int:
    """``EXPLAINER_WORKERS`` if set, else one worker per usable core."""
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def upload_limit_mb(config: Path = STREAMLIT_CONFIG) -> int:
    """``server.maxUploadSize`` of the app's ``.streamlit/config.toml`` (Streamlit's default if unset)."""
    try:
        with config.open("rb") as handle:
            value = tomllib.load(handle).get("server", {}).get("maxUploadSize")
    except FileNotFoundError:
        value = None
    return int(value) if value else STREAMLIT_DEFAULT_UPLOAD_MB


def streamlit_static_dir() -> Path:
    """The folder Streamlit serves under ``/static/`` (inside the installed package)."""
    spec = find_spec("streamlit")
    if spec is None or spec.origin is None:
        raise ServeError("serve.no_template", path="streamlit (not installed)")
    return Path(spec.origin).parent / "static" / "static"


def find_nginx(explicit: str | None = None) -> str:
    candidates = [explicit] if explicit else [shutil.which("nginx"), "/usr/sbin/nginx", "/usr/local/sbin/nginx"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ServeError("serve.no_nginx", where=explicit or "PATH, /usr/sbin, /usr/local/sbin")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def worker_name(index: int) -> str:
    return f"w{index + 1}"


_UPSTREAM = re.compile(r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?):(?P<port>\d{1,5})$")


def parse_upstream(text: str) -> str:
    """``HOST:PORT`` of a worker run elsewhere (a compose service, a systemd unit); a ServeError otherwise.

    Only a host name or IPv4 address and a port: the text goes into the nginx configuration.
    """
    match = _UPSTREAM.match(text.strip())
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise ServeError("serve.bad_upstream", value=text)
    return f"{match['host']}:{int(match['port'])}"


def render_nginx_config(*, listen: str, worker_ports: list[int], run_dir: Path, static_dir: Path,
                        max_upload_mb: int, template: Path = TEMPLATE, run_as_root: bool | None = None,
                        upstreams: list[str] | None = None) -> str:
    """The nginx configuration for these workers (ports on 127.0.0.1, or ``upstreams`` as ``HOST:PORT``)."""
    if not template.is_file():
        raise ServeError("serve.no_template", path=str(template))
    if run_as_root is None:
        run_as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    # As root nginx would switch its worker to "nobody", who may not read the run folder or the
    # package folder (e.g. under /root): keep the current user. Unprivileged, nginx needs no user line.
    user_line = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if run_as_root else "# (not root: no user switch)"
    # max_fails=0: one failed request (e.g. a worker busy with a crowd resetting a connection) must not take the
    # worker out of the hash for everyone: its browsers would be sent to another worker that has no session.
    addresses = [parse_upstream(u) for u in upstreams] if upstreams else [f"127.0.0.1:{port}" for port in worker_ports]
    servers = "\n".join(f"        server {address} max_fails=0;" for address in addresses)
    # $upstream_addr is an IP:port; a host name resolved at start cannot be named here (the header says "-").
    names = "\n".join(f'        "{address}" {worker_name(i)};' for i, address in enumerate(addresses))
    return fill_template(
        template.read_text(),
        generated_note=f"{len(addresses)} workers",
        user_line=user_line,
        run_dir=str(run_dir),
        worker_map=names,
        upstream_servers=servers,
        listen=listen,
        max_upload_mb=max_upload_mb,
        client_max_body_mb=max_upload_mb + BODY_MARGIN_MB,
        static_dir=str(static_dir),
        frontend_dir=str(static_dir.parent),  # index.html and favicon.png, beside the /static/ folder
        read_timeout_s=READ_TIMEOUT_S,
        upstream_keepalive_s=UPSTREAM_KEEPALIVE_S,
    )


_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def fill_template(text: str, **values: object) -> str:
    """Replace every ``{{name}}`` (nginx keeps its own ``$variables``); a name without a value is an error."""
    missing = sorted({name for name in _PLACEHOLDER.findall(text) if name not in values})
    if missing:
        raise KeyError(f"no value for template placeholder(s) {missing}")
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)


def streamlit_command(app: str, port: int) -> list[str]:
    """One Streamlit server for ``app`` on 127.0.0.1:``port``: headless, no file watcher, no usage statistics."""
    return [
        sys.executable, "-m", "streamlit", "run", app,
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]


def health(url: str, timeout: float = 2.0) -> bool:
    """Whether ``<url>/_stcore/health`` answers ``ok``."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


@dataclass
class Worker:
    index: int
    port: int
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)  # monotonic times of restarts

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None else 0


def stop_process(process: subprocess.Popen | None, timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
    """Stop one child by its PID: ``sig``, then SIGKILL after ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    try:
        process.send_signal(sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass


class Cluster:
    """N Streamlit workers + nginx on ``host:port``; ``start()``, ``supervise()``, ``stop()``.

    Everything it starts is a child process it stops by PID. ``status_file``
    (``<run_dir>/serve.json``) lists the PIDs and ports for tools such as the load test.
    """

    def __init__(self, workers: int, port: int, host: str = "127.0.0.1", run_dir: Path | None = None,
                 nginx: str | None = None, app: str = "app.py", extra_env: dict[str, str] | None = None,
                 log: Callable[[str], None] | None = None, startup_timeout: float = 180.0,
                 upstreams: list[str] | None = None) -> None:
        # upstreams: workers run elsewhere (HOST:PORT); then this runs only nginx in front of them.
        self.upstreams = [parse_upstream(u) for u in upstreams or []]
        if self.upstreams:
            workers = 0
        elif not 1 <= workers <= MAX_WORKERS:
            raise ServeError("serve.bad_workers", max=MAX_WORKERS, value=workers)
        if not 1 <= port <= 65535:
            raise ServeError("serve.bad_port", value=port)
        self.host, self.port, self.app = host, port, app
        self.nginx_path = find_nginx(nginx)
        self.run_dir = Path(run_dir) if run_dir else None
        self.extra_env = dict(extra_env or {})
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.startup_timeout = startup_timeout
        self.workers = [Worker(i, 0) for i in range(workers)]
        self.nginx: subprocess.Popen | None = None
        self.cookie_secret = os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32)
        self._stopping = threading.Event()
        self._own_run_dir = False
        self._logs: list = []

    # --- paths -----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{shown}:{self.port}"

    @property
    def config_path(self) -> Path:
        assert self.run_dir is not None
        return self.run_dir / "nginx.conf"

    @property
    def access_log(self) -> Path:
        assert self.run_dir is not None
        return self.run_dir / "nginx-access.log"

    @property
    def status_file(self) -> Path:
        assert self.run_dir is not None
        return self.run_dir / "serve.json"

    # --- processes ---------------------------------------------------------------------------------
    def _worker_command(self, worker: Worker) -> list[str]:
        return streamlit_command(self.app, worker.port)

    def _start_worker(self, worker: Worker) -> None:
        env = dict(os.environ)
        env.update(self.extra_env)
        # One secret for all workers: XSRF cookies must be valid whichever worker checks them.
        # (Streamlit refuses --server.cookieSecret on the command line; the environment works.)
        env["STREAMLIT_SERVER_COOKIE_SECRET"] = self.cookie_secret
        assert self.run_dir is not None
        log = open(self.run_dir / f"worker-{worker_name(worker.index)}.log", "ab")
        self._logs.append(log)
        worker.process = subprocess.Popen(
            self._worker_command(worker), cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,  # Ctrl-C reaches us; we stop the workers in order
        )

    def _wait_ready(self, worker: Worker) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline and not self._stopping.is_set():
            if worker.process is None or worker.process.poll() is not None:
                code = worker.process.returncode if worker.process else "?"
                raise ServeError("serve.worker_failed", index=worker.index + 1, port=worker.port,
                                 detail=f"exited with status {code} (log: {self.run_dir}/worker-"
                                        f"{worker_name(worker.index)}.log)")
            if health(worker.url, timeout=1.0):
                return
            time.sleep(0.1)
        raise ServeError("serve.worker_failed", index=worker.index + 1, port=worker.port,
                         detail=f"no answer from /_stcore/health within {self.startup_timeout:g} s")

    def _start_nginx(self) -> None:
        assert self.run_dir is not None
        self.nginx = subprocess.Popen(
            [self.nginx_path, "-c", str(self.config_path), "-p", str(self.run_dir), "-e",
             str(self.run_dir / "nginx-error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        # Own workers are ready before nginx starts; workers run elsewhere may still be starting.
        wait_s = self.startup_timeout if self.upstreams else 30
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.nginx.poll() is not None:
                detail = (self.nginx.stderr.read() or b"").decode(errors="replace").strip().splitlines()
                raise ServeError("serve.nginx_failed",
                                 detail=detail[-1] if detail else f"status {self.nginx.returncode}")
            if health(self.url, timeout=1.0):
                return
            time.sleep(0.1)
        raise ServeError("serve.nginx_failed", detail=f"{self.url}/_stcore/health did not answer within {wait_s:g} s")

    def _write_status(self) -> None:
        status = {
            "url": self.url, "nginx_pid": self.nginx.pid if self.nginx else 0,
            "workers": [{"name": worker_name(w.index), "port": w.port, "pid": w.pid} for w in self.workers],
            "upstreams": self.upstreams,
            "config": str(self.config_path), "access_log": str(self.access_log),
        }
        tmp = self.status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(status, indent=2))
        tmp.replace(self.status_file)

    def check_config(self) -> None:
        """``nginx -t`` on the generated file: a template mistake is one clear error, before anything runs."""
        done = subprocess.run([self.nginx_path, "-t", "-q", "-c", str(self.config_path), "-p", str(self.run_dir),
                               "-e", str(self.run_dir / "nginx-error.log")], capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise ServeError("serve.bad_config", detail=lines[-1] if lines else f"status {done.returncode}")

    def start(self) -> "Cluster":
        """Workers first (each ready on its health endpoint), then nginx; writes ``serve.json``."""
        if not port_is_free(self.host, self.port):
            raise ServeError("serve.port_busy", host=self.host, port=self.port)
        if self.run_dir is None:
            import tempfile

            self.run_dir = Path(tempfile.mkdtemp(prefix="explainer-serve-"))
            self._own_run_dir = True
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.run_dir / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        for worker in self.workers:
            worker.port = free_port()
        self.config_path.write_text(render_nginx_config(
            listen=f"{self.host}:{self.port}", worker_ports=[w.port for w in self.workers], run_dir=self.run_dir,
            static_dir=streamlit_static_dir(), max_upload_mb=upload_limit_mb(), upstreams=self.upstreams))
        try:
            self.check_config()
            for worker in self.workers:
                self._start_worker(worker)
            for worker in self.workers:
                self._wait_ready(worker)
                self.log(f"worker {worker_name(worker.index)} ready on 127.0.0.1:{worker.port} (pid {worker.pid})")
            self._start_nginx()
            self._write_status()
        except BaseException:
            self.stop()
            raise
        return self

    def supervise(self, poll_s: float = 0.5, until: Callable[[], bool] | None = None) -> int:
        """Restart what dies until :meth:`request_stop` (or ``until()``); 0, or 1 if a worker keeps dying."""
        while not self._stopping.is_set() and not (until and until()):
            for worker in self.workers:
                if worker.process is not None and worker.process.poll() is not None and not self._stopping.is_set():
                    now = time.monotonic()
                    worker.restarts = [t for t in worker.restarts if now - t < RESTART_WINDOW_S] + [now]
                    if len(worker.restarts) > MAX_RESTARTS:
                        self.log(f"worker {worker_name(worker.index)} died {len(worker.restarts)} times within "
                                 f"{RESTART_WINDOW_S:g} s: giving up")
                        return 1
                    self.log(f"worker {worker_name(worker.index)} (pid {worker.pid}) exited with status "
                             f"{worker.process.returncode}: restarting it")
                    self._start_worker(worker)
                    self._write_status()
            if self.nginx is not None and self.nginx.poll() is not None and not self._stopping.is_set():
                self.log(f"nginx (pid {self.nginx.pid}) exited with status {self.nginx.returncode}: restarting it")
                self._start_nginx()
                self._write_status()
            self._stopping.wait(poll_s)
        return 0

    def request_stop(self, *_: object) -> None:
        self._stopping.set()

    def stop(self) -> None:
        """nginx first (no new requests), then every worker: SIGTERM by PID, SIGKILL after 10 s."""
        self._stopping.set()
        stop_process(self.nginx)  # SIGTERM: nginx closes at once (a graceful SIGQUIT would wait for every websocket)
        threads = [threading.Thread(target=stop_process, args=(w.process,)) for w in self.workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for log in self._logs:
            log.close()
        self._logs = []

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
