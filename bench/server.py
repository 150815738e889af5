"""Start and stop one local Streamlit server for the browser tests, the load test and the benchmarks.

The server always listens on 127.0.0.1 only, on a free port, with the file
watcher off (``--server.fileWatcherType none``: new sessions are about 3x
faster). It is stopped by its own PID, never by name.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from explainer.serving import free_port, health, stop_process, streamlit_command  # the same command and checks as `serve`

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EXPLAINER_SHARED_DIR", ROOT.parent / "shared"))


def weights_dir() -> Path | None:
    """``EXPLAINER_WEIGHTS_DIR`` if set, else ``../shared/weights`` when it exists."""
    configured = os.environ.get("EXPLAINER_WEIGHTS_DIR")
    candidate = Path(configured) if configured else SHARED / "weights"
    return candidate if candidate.is_dir() else None


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` has used so far, in seconds (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class StreamlitServer:
    """``python -m streamlit run app.py`` on 127.0.0.1:<free port>; use as a context manager.

    ``started_at`` / ``ready_at`` are ``time.perf_counter()`` stamps of the
    launch and of the first ``ok`` from the health endpoint.
    """

    def __init__(self, app: str = "app.py", port: int | None = None, extra_env: dict[str, str] | None = None,
                 log_path: Path | None = None, startup_timeout: float = 90.0) -> None:
        self.app = app
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.extra_env = extra_env or {}
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.ready_at = 0.0
        self._log = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> list[str]:
        return streamlit_command(self.app, self.port)

    def start(self) -> "StreamlitServer":
        env = dict(os.environ)
        folder = weights_dir()
        if folder is not None:
            env.setdefault("EXPLAINER_WEIGHTS_DIR", str(folder.resolve()))
        env.update(self.extra_env)
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "wb")
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = self.started_at + self.startup_timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with status {self.process.returncode} before it was ready"
                                   + (f" (log: {self.log_path})" if self.log_path else ""))
            if health(self.base_url, timeout=1.0):
                self.ready_at = time.perf_counter()
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"streamlit did not answer {self.base_url}/_stcore/health within {self.startup_timeout} s")

    def stop(self) -> None:
        """SIGTERM the server by its PID, then SIGKILL after 10 s."""
        stop_process(self.process, timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "StreamlitServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
