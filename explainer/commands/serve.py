"""``python -m explainer serve``: several app workers behind nginx, for a whole lecture hall."""

from __future__ import annotations

import argparse
import json
import signal


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from explainer.serving import default_workers

    parser = subparsers.add_parser(
        "serve",
        help="run the app as N workers behind nginx (sticky sessions), supervised",
        description="Start N Streamlit workers of the app on 127.0.0.1 and nginx in front of them on "
        "--host:--port (config generated from deploy/nginx.conf.template: sticky sessions by a route "
        "cookie, websockets, the app's upload limit, /static/ served by nginx). Restarts a worker "
        "that dies; Ctrl-C or SIGTERM stops everything. Needs nginx (apt-get install nginx).",
    )
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="Streamlit processes (default: EXPLAINER_WORKERS, else one per core; here %(default)s)")
    parser.add_argument("--port", type=int, default=8501, help="port nginx listens on (default %(default)s)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address nginx listens on (default %(default)s; 0.0.0.0 for a lecture hall's network)")
    parser.add_argument("--run-dir", default=None,
                        help="folder for the generated nginx.conf, logs and serve.json (default: a new temp folder)")
    parser.add_argument("--nginx", default=None, help="the nginx binary (default: nginx on PATH or /usr/sbin/nginx)")
    parser.add_argument("--upstream", action="append", default=[], metavar="HOST:PORT",
                        help="a worker started elsewhere (repeat for each; e.g. compose services or systemd units, "
                        "see deploy/): then only nginx runs here, in front of them, and --workers is ignored")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON line when ready (url, PIDs, ports, config and log paths)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from explainer.serving import Cluster

    cluster = Cluster(workers=args.workers, port=args.port, host=args.host, run_dir=args.run_dir, nginx=args.nginx,
                      upstreams=args.upstream)
    previous = {sig: signal.signal(sig, cluster.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        cluster.start()
        if args.json:
            print(json.dumps(json.loads(cluster.status_file.read_text())), flush=True)
        else:
            behind = (f"{len(cluster.upstreams)} workers started elsewhere" if cluster.upstreams
                      else f"{len(cluster.workers)} workers")
            print(f"ready: {cluster.url}/ — {behind} behind nginx "
                  f"(config {cluster.config_path}, logs in {cluster.run_dir}); Ctrl-C stops", flush=True)
        return cluster.supervise()
    finally:
        cluster.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
