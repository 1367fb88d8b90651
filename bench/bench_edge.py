"""Benchmark (a): an authenticated API read through nginx vs the same service directly.

training-records runs under gunicorn exactly as in the distributed mode (its own
PostgreSQL database, BP_BEHIND_PROXY=1), validating tokens against a JWKS served
here from a test issuer's key. nginx runs with the config generated from the
route table. wrk (with a Lua script adding the bearer token) alternates between
the direct port and the edge, round by round, so both see the same machine noise.
Target (DESIGN §5): edge throughput ≥ 0.85 of direct.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from chassis.testing.infrastructure import fresh_database
from chassis.testing.tokens import TestIssuer
from gateway import nginx, processes
from gateway.routes import Route, services

WRK = os.environ.get("BENCH_WRK", "/usr/bin/wrk")
LUA = Path(__file__).with_name("wrk_auth.lua")
SERVICE = "training-records"
PATH = "/occupations"
TARGET_RATIO = 0.85


@contextmanager
def jwks_server(issuer: TestIssuer) -> Iterator[str]:
    """Serves the issuer's public keys the way identity serves its JWKS."""
    body = json.dumps(issuer.key_set.as_dict(private=False))

    @Request.application
    def app(_request: Request) -> Response:
        return Response(body, mimetype="application/json")

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/jwks"
    finally:
        server.shutdown()
        server.server_close()


def run_wrk(url: str, token: str, *, seconds: int, connections: int, threads: int) -> dict[str, Any]:
    result = subprocess.run(
        [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(LUA), url],
        env={**os.environ, "BENCH_TOKEN": token},
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH_JSON "))
    return json.loads(line.removeprefix("BENCH_JSON "))


def run(
    admin_url: str, *, rounds: int = 3, seconds: int = 8, connections: int = 16, threads: int = 2
) -> dict[str, Any]:
    route = services()[SERVICE]
    issuer = TestIssuer(issuer="http://bench.invalid/auth")
    token = issuer.token(roles=["chamber_clerk"], name="Bench", email="bench@example.org", lifetime=3600)
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-edge-")))
        database_url = stack.enter_context(fresh_database(admin_url, "bench_edge"))
        jwks_url = stack.enter_context(jwks_server(issuer))
        service_port = processes.free_port()
        edge_port = processes.free_port()
        env = {
            **os.environ,
            "PYTHONSAFEPATH": "1",
            "BP_DATA_DIR": str(work),
            f"{SERVICE.upper().replace('-', '_')}_DATABASE_URL": database_url,
            "BP_BUS_URL": "memory://",
            "BP_ISSUER": issuer.issuer,
            "BP_JWKS_URL": jwks_url,
            "BP_BEHIND_PROXY": "1",
            # Request logs at INFO would measure the terminal, not the service.
            "BP_LOG_LEVEL": "WARNING",
        }
        gunicorn, edge = start_behind_nginx(
            stack,
            route,
            env,
            work,
            service_port=service_port,
            edge_port=edge_port,
            gunicorn_args=("--workers", "2"),
        )
        direct_url = f"http://127.0.0.1:{service_port}{PATH}"
        edge_url = f"http://127.0.0.1:{edge_port}{route.prefix}{PATH}"
        headers = {"Authorization": f"Bearer {token}"}
        for url in (direct_url, edge_url):
            processes.wait_until(
                url,
                lambda url=url: requests.get(url, headers=headers, timeout=5).status_code == 200,
                timeout=60,
                watch=[gunicorn, edge],
            )
        sample = requests.get(edge_url, headers=headers, timeout=5).json()
        # Warm both paths (keep-alive pools, JWKS cache, PostgreSQL connections).
        for url in (direct_url, edge_url):
            run_wrk(url, token, seconds=2, connections=connections, threads=threads)
        samples: dict[str, list[dict[str, Any]]] = {"direct": [], "edge": []}
        for index in range(rounds):
            order = ("direct", "edge") if index % 2 == 0 else ("edge", "direct")
            for name in order:
                url = direct_url if name == "direct" else edge_url
                samples[name].append(
                    run_wrk(url, token, seconds=seconds, connections=connections, threads=threads)
                )
    return summarise(
        samples, sample_items=len(sample.get("items", [])), connections=connections, seconds=seconds
    )


def start_behind_nginx(
    stack: ExitStack,
    route: Route,
    env: Mapping[str, str],
    work: Path,
    *,
    service_port: int,
    edge_port: int,
    gunicorn_args: Sequence[str] = (),
    **nginx_options: Any,
) -> tuple[processes.ManagedProcess, processes.ManagedProcess]:
    """A service as in the distributed mode (migrated and seeded, under gunicorn on its own
    database) behind nginx with the config generated from the route table; stopped with ``stack``."""
    subprocess.run(
        [sys.executable, "-m", "gateway.distributed", "prepare", route.package, "--seed"],
        env=dict(env),
        check=True,
        cwd=work,
    )
    gunicorn = processes.start(
        route.service,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{service_port}",
            *gunicorn_args,
            "--chdir",
            str(work),
            f"{route.package}.entrypoints.app:create_app()",
        ],
        env=dict(env),
        log_dir=work / "logs",
    )
    stack.callback(gunicorn.stop)
    runtime_dir = work / "nginx"
    config = nginx.render(
        nginx.local_options(
            str(runtime_dir),
            listen_port=edge_port,
            ports={route.service: service_port},
            access_log=str(runtime_dir / "access.log"),
            **nginx_options,
        )
    )
    edge = processes.start_nginx(config, runtime_dir, log_dir=work / "logs")
    stack.callback(edge.stop)
    return gunicorn, edge


def summarise(samples: dict[str, list[dict[str, Any]]], **context: Any) -> dict[str, Any]:
    def side(runs: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "rps": round(sum(r["requests"] for r in runs) / sum(r["seconds"] for r in runs), 1),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
            "p90_ms": round(statistics.median(r["p90_ms"] for r in runs), 2),
            "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
            "non_2xx": sum(r["non_2xx"] for r in runs),
            "socket_errors": sum(r["socket_errors"] for r in runs),
        }

    direct, edge = side(samples["direct"]), side(samples["edge"])
    ratio = edge["rps"] / direct["rps"] if direct["rps"] else 0.0
    round_ratios = [e["rps"] / d["rps"] for d, e in zip(samples["direct"], samples["edge"], strict=True)]
    clean = (
        direct["non_2xx"] == edge["non_2xx"] == 0 and direct["socket_errors"] == edge["socket_errors"] == 0
    )
    return {
        "name": "edge: authenticated GET /api/training/occupations, nginx vs direct",
        "direct": direct,
        "edge": edge,
        "ratio": round(ratio, 3),
        "round_ratios": [round(r, 3) for r in round_ratios],
        "target": f"edge/direct throughput >= {TARGET_RATIO}",
        "passed": clean and ratio >= TARGET_RATIO,
        "clean": clean,
        "rounds": samples,
        "context": {**context, "run_id": uuid.uuid4().hex[:8]},
    }
