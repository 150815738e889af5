"""A throwaway PostgreSQL cluster in a temporary folder (tests and the load benchmark; never the app itself).

``initdb`` + ``pg_ctl start`` from Debian's ``postgresql`` package (``/usr/lib/postgresql/<v>/bin`` or ``PATH``).
As root they run as the ``postgres`` user (``runuser -u postgres --``), which must own the folder. The server
gets a log file (``-l``) and no pipes of ours: it inherits a caller's stdout/stderr otherwise, and whoever reads
them to the end would wait forever.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "explainer"
DATABASE = "postgres"


def binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (newest Debian version first), or ``None``."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    folder: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *argv: str) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        log = self.folder / "commands.log"
        with open(log, "ab") as out:
            result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, timeout=180)
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({result.returncode}): {log.read_text(errors='replace')[-800:]}")

    def start(self) -> Cluster:
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.folder} -h 127.0.0.1 -c max_connections=300 -c fsync=off"
        self._run("pg_ctl", "-D", str(data), "-l", str(self.folder / "server.log"), "-o", options, "-w",
                  "-t", "120", "start")
        return self

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start_cluster() -> Cluster:
    """Make and start a cluster on a free port; the caller must :meth:`Cluster.stop` it."""
    folder_bin = binaries()
    if folder_bin is None:
        raise FileNotFoundError("PostgreSQL's initdb/pg_ctl are not installed (Debian: apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="explainer-pg-"))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = Cluster(folder, _free_port(), folder_bin)
    try:
        return cluster.start()
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
