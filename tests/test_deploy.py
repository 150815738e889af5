"""deploy/: the compose file, the Kubernetes manifests and the systemd units, checked offline.

* the compose file against the compose specification's JSON schema (the copy check-jsonschema ships:
  ``check-jsonschema --builtin-schema vendor.compose-spec``, Apache-2.0, no network);
* the manifests against Kubernetes' own schemas (kubernetes-validate's bundled copies, strict: unknown fields fail)
  for the oldest and the newest version it knows;
* what the files must say for this app (sticky routing, websocket timeouts, the shared secrets, health probes,
  resources sized from bench/README.md), read from the files themselves;
* the systemd units' two commands, run for real: a worker configured the way the worker unit configures it, and
  ``python -m explainer serve --upstream`` (the balancer unit's and the compose balancer's command) in front of it.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from explainer import serving
from explainer.cli import build_parser
from tests.conftest import ROOT, run_cli

DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
K8S = sorted((DEPLOY / "k8s").glob("*.yaml"))
SYSTEMD = DEPLOY / "systemd"
HEALTH = "/_stcore/health"


def _serve_args(argv: list[str]):
    """``python -m explainer serve …`` parsed by the CLI's own parser (an unknown option fails the test)."""
    index = argv.index("explainer")
    return build_parser().parse_args(argv[index + 1:])


# --- Docker Compose --------------------------------------------------------------------------------------------


def _check_compose(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                           str(path)], capture_output=True, text=True, timeout=120)


def test_compose_file_follows_the_compose_specification(tmp_path: Path) -> None:
    done = _check_compose(COMPOSE)
    assert done.returncode == 0, done.stdout + done.stderr
    # The validator is not blind: a misspelled service key fails.
    data = yaml.safe_load(COMPOSE.read_text())
    data["services"]["db"]["healtcheck"] = data["services"]["db"].pop("healthcheck")
    broken = tmp_path / "compose.yaml"
    broken.write_text(yaml.safe_dump(data))
    assert _check_compose(broken).returncode != 0


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_balancer_fronts_every_worker(compose: dict) -> None:
    services = compose["services"]
    workers = sorted(name for name in services if name.startswith("worker-"))
    assert len(workers) >= 2
    balancer = services["balancer"]
    args = _serve_args(balancer["command"])
    assert args.command == "serve" and args.host == "0.0.0.0" and args.port == 8501
    assert args.upstream == [f"{name}:8501" for name in workers]
    assert [serving.parse_upstream(u) for u in args.upstream] == args.upstream
    assert set(balancer["depends_on"]) == set(workers)
    assert all(dep["condition"] == "service_healthy" for dep in balancer["depends_on"].values())
    assert balancer["ports"] == ["${EXPLAINER_PORT:-8501}:8501"]


def test_compose_workers_share_the_secret_and_the_database(compose: dict) -> None:
    services = compose["services"]
    workers = [services[name] for name in services if name.startswith("worker-")]
    envs = [w["environment"] for w in workers]
    assert all(env == envs[0] for env in envs)
    env = envs[0]
    assert env["STREAMLIT_SERVER_COOKIE_SECRET"].startswith("${STREAMLIT_SERVER_COOKIE_SECRET:?")
    url = env["EXPLAINER_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://explainer:") and url.endswith("@db:5432/explainer")
    assert env["STREAMLIT_SERVER_ADDRESS"] == "0.0.0.0" and env["STREAMLIT_SERVER_PORT"] == "8501"
    assert env["EXPLAINER_OFFLINE"] == "1"
    db = services["db"]
    assert db["environment"]["POSTGRES_USER"] == "explainer" and db["environment"]["POSTGRES_DB"] == "explainer"
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${EXPLAINER_DB_PASSWORD:?")
    for worker in workers:
        assert worker["command"] == ["python", "-m", "streamlit", "run", "app.py"]
        assert worker["depends_on"] == {"db": {"condition": "service_healthy"}}
        assert HEALTH in " ".join(worker["healthcheck"]["test"])
        assert worker["image"] == services["balancer"]["image"]  # one image for workers and balancer


# --- Kubernetes ----------------------------------------------------------------------------------------------


def _documents() -> list[tuple[str, dict]]:
    return [(path.name, doc) for path in K8S for doc in yaml.safe_load_all(path.read_text()) if doc]


def _versions() -> list[str]:
    from kubernetes_validate import utils

    versions = sorted(utils.all_versions(), key=lambda v: tuple(int(p) for p in v.split(".")))
    return [versions[0], versions[-1]]


@pytest.mark.parametrize("version", _versions())
def test_kubernetes_manifests_are_valid(version: str) -> None:
    import kubernetes_validate

    documents = _documents()
    assert {doc["kind"] for _, doc in documents} >= {"Deployment", "Service", "Ingress", "PodDisruptionBudget"}
    for name, doc in documents:
        kubernetes_validate.validate(doc, version, strict=True)  # raises on any error
    # Strict validation is not blind: an unknown field in the pod template fails.
    deployment = copy.deepcopy(_kind("Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpget"] = {"path": HEALTH}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, version, strict=True)


def _kind(kind: str) -> dict:
    (doc,) = [doc for _, doc in _documents() if doc["kind"] == kind]
    return doc


def test_workers_are_probed_on_the_health_endpoint_and_read_the_secret() -> None:
    deployment = _kind("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    port = container["ports"][0]
    assert port["containerPort"] == 8501
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": HEALTH, "port": port["name"]}
    env = {item["name"]: item for item in container["env"]}
    for name, key in (("EXPLAINER_DATABASE_URL", "database-url"), ("STREAMLIT_SERVER_COOKIE_SECRET", "cookie-secret")):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "mobilenet-explainer", "key": key}
    args = _serve_args(container["command"])
    assert args.workers == 1 and args.port == 8501 and args.host == "0.0.0.0" and not args.upstream
    labels = pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = _kind("Service")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    assert _kind("PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_ingress_keeps_a_browser_on_one_pod_and_websockets_open() -> None:
    ingress = _kind("Ingress")
    notes = {k.removeprefix("nginx.ingress.kubernetes.io/"): v for k, v in ingress["metadata"]["annotations"].items()}
    assert notes["affinity"] == "cookie" and notes["affinity-mode"] == "persistent"
    assert notes["session-cookie-name"] and notes["session-cookie-path"] == "/"
    assert int(notes["proxy-read-timeout"]) >= serving.READ_TIMEOUT_S
    assert int(notes["proxy-send-timeout"]) >= serving.READ_TIMEOUT_S
    assert notes["proxy-body-size"] == f"{serving.upload_limit_mb() + serving.BODY_MARGIN_MB}m"
    assert notes["proxy-request-buffering"] == "off"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = _kind("Service")
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] == service["spec"]["ports"][0]["name"]


def _mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)(Mi|Gi)", quantity).groups()
    return float(number) * (1024 if unit == "Gi" else 1)


def _measured_mb(row_start: str) -> float:
    """A figure (MB) from the generated table of the latest full run in bench/README.md."""
    text = (ROOT / "bench" / "README.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith(f"| {row_start} |"))
    return float(re.match(r"([\d.]+) MB", row.split("|")[2].strip()).group(1))


def test_resources_are_sized_from_the_measured_worker() -> None:
    """Memory request and limit cover what bench/README.md measured (bench/memory.py, bench/loadtest.py)."""
    from bench.loadtest import TARGET_RSS_GROWTH_MB
    from bench.memory import LIMIT_MB

    (container,) = _kind("Deployment")["spec"]["template"]["spec"]["containers"]
    resources = container["resources"]
    every_page = _measured_mb("worker RSS after opening every page of the menu once (10 pages, default settings)")
    peak = _measured_mb("worker peak RSS (VmHWM) over all of it")
    warm = _measured_mb("load 60 at once, 1 worker + nginx: server RSS after")
    # bench's "MB" are MiB (/proc's kB / 1024), the unit of Kubernetes' Mi and Gi.
    request = _mebibytes(resources["requests"]["memory"])
    limit = _mebibytes(resources["limits"]["memory"])
    assert request >= max(every_page, warm), f"memory request {request:.0f} MB below a measured worker"
    assert limit >= max(peak, request + TARGET_RSS_GROWTH_MB), f"memory limit {limit:.0f} MB below the peak"
    assert limit == LIMIT_MB  # the limit bench/memory.py checks the peak against
    memory_max = _unit("mobilenet-explainer-worker@.service")["Service"]["MemoryMax"]
    assert memory_max == [f"{LIMIT_MB / 1024:.0f}G"]
    assert resources["requests"]["cpu"] == "1"  # one Python process uses about one core at most
    assert "cpu" not in resources.get("limits", {})


# --- systemd -------------------------------------------------------------------------------------------------


def _unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values, in order]}} (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in (SYSTEMD / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        assert current is not None, f"{name}: {line!r} outside a section"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def _environment(unit: dict, instance: str) -> dict[str, str]:
    pairs = " ".join(unit["Service"].get("Environment", [])).replace("%i", instance).split()
    return dict(pair.split("=", 1) for pair in pairs)


def test_systemd_units_fit_together() -> None:
    worker = _unit("mobilenet-explainer-worker@.service")
    balancer = _unit("mobilenet-explainer-balancer.service")
    target = _unit("mobilenet-explainer.target")
    env = _environment(worker, "8601")
    assert env["STREAMLIT_SERVER_ADDRESS"] == "127.0.0.1" and env["STREAMLIT_SERVER_PORT"] == "8601"
    assert env["STREAMLIT_SERVER_FILE_WATCHER_TYPE"] == "none"
    assert worker["Service"]["ExecStart"][0].split()[1:] == ["-m", "streamlit", "run", "app.py"]
    assert worker["Service"]["EnvironmentFile"] == ["/etc/mobilenet-explainer/env"]
    assert "/etc/mobilenet-explainer/env" in (SYSTEMD / "env.example").read_text().splitlines()[0]
    args = _serve_args(balancer["Service"]["ExecStart"][0].split())
    ports = [u.rsplit(":", 1)[1] for u in args.upstream]
    assert args.upstream == [f"127.0.0.1:{p}" for p in ports] and len(ports) >= 2
    workers = [f"mobilenet-explainer-worker@{p}.service" for p in ports]
    assert balancer["Unit"]["Wants"][0].split() == workers and balancer["Unit"]["After"][0].split() == workers
    assert set(target["Unit"]["Wants"][0].split()) == {"mobilenet-explainer-balancer.service", *workers}
    for unit in (worker, balancer):
        assert unit["Install"]["WantedBy"] == ["mobilenet-explainer.target"]
        assert unit["Service"]["Restart"] == ["always"] and unit["Service"]["KillSignal"] == ["SIGTERM"]
    assert target["Install"]["WantedBy"] == ["multi-user.target"]
    for key in ("STREAMLIT_SERVER_COOKIE_SECRET", "EXPLAINER_DATABASE_URL", "EXPLAINER_OFFLINE"):
        assert key in (SYSTEMD / "env.example").read_text()


def test_cli_refuses_a_bad_upstream(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("worker-1", "worker-1:0", "a;b:80", "host:99999", " :80"):
        status, out, err = run_cli(capsys, "serve", "--upstream", bad)
        assert status == 2, bad
        assert err.strip().splitlines() == [f"error: --upstream must be HOST:PORT (a host name or IPv4 address and "
                                            f"a port 1-65535), not {bad}"]


def test_config_for_workers_started_elsewhere(tmp_path: Path) -> None:
    config = serving.render_nginx_config(listen="0.0.0.0:8501", worker_ports=[], run_dir=tmp_path,
                                         static_dir=serving.streamlit_static_dir(), max_upload_mb=20,
                                         upstreams=["worker-1:8501", "worker-2:8501"])
    upstream = re.search(r"upstream explainer_workers \{(.*?)\}", config, re.S).group(1)
    assert re.findall(r"server (\S+) max_fails=0;", upstream) == ["worker-1:8501", "worker-2:8501"]
    assert "hash $route_key consistent;" in upstream


@pytest.mark.slow
def test_the_units_commands_serve_the_app(tmp_path: Path) -> None:
    """A worker set up as the worker unit sets it up, and the balancer unit's command in front of it."""
    try:
        nginx = serving.find_nginx()
    except serving.ServeError:
        if os.environ.get("EXPLAINER_REQUIRE_E2E") == "1":
            pytest.fail("nginx not installed; EXPLAINER_REQUIRE_E2E=1: the serving tests must run", pytrace=False)
        pytest.skip("nginx not installed (apt-get install nginx)")
    worker_port, balancer_port = serving.free_port(), serving.free_port()
    worker_unit = _unit("mobilenet-explainer-worker@.service")
    env = {**os.environ, **_environment(worker_unit, str(worker_port))}
    env["EXPLAINER_CACHE_DIR"] = str(tmp_path / "cache")
    env["TORCH_HOME"] = str(tmp_path / "torch")
    env["STREAMLIT_SERVER_COOKIE_SECRET"] = "a-shared-test-secret"
    worker_cmd = worker_unit["Service"]["ExecStart"][0].split()
    balancer_cmd = _unit("mobilenet-explainer-balancer.service")["Service"]["ExecStart"][0].split()
    balancer_cmd = [sys.executable if part.endswith("/python") else part for part in balancer_cmd]
    # This machine's ports and run folder; one --upstream, the worker started here.
    args = balancer_cmd[:balancer_cmd.index("serve") + 1] + [
        "--host", "127.0.0.1", "--port", str(balancer_port), "--run-dir", str(tmp_path / "run"),
        "--nginx", nginx, "--upstream", f"127.0.0.1:{worker_port}"]
    worker = subprocess.Popen([sys.executable, *worker_cmd[1:]], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    balancer = None
    try:
        balancer = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=True)
        line = balancer.stdout.readline()  # "ready: …" once nginx answers the health check through the worker
        assert line.startswith("ready: "), balancer.stderr.read()[-2000:] if balancer.poll() is not None else line
        assert "1 workers started elsewhere behind nginx" in line
        url = f"http://127.0.0.1:{balancer_port}"
        with requests.Session() as browser:
            health = browser.get(url + HEALTH, timeout=30)
            assert health.status_code == 200 and health.text == "ok"
            assert health.headers["X-Explainer-Worker"] == "w1"
            page = browser.get(url + "/cost", timeout=30)
            assert page.status_code == 200 and "<html" in page.text.lower()
            assert browser.cookies.get("route")
            assert browser.get(url + HEALTH, timeout=30).headers["X-Explainer-Worker"] == "w1"
    finally:
        serving.stop_process(balancer, timeout=30)
        serving.stop_process(worker, timeout=30)
    assert worker.poll() is not None and (balancer is None or balancer.poll() is not None)
