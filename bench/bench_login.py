"""Benchmark (e): full OIDC logins per second through the edge, against the argon2id bound.

identity runs under gunicorn as in the distributed mode (gthread, ``BENCH_LOGIN_WORKERS`` ×
``BENCH_LOGIN_THREADS``, its own fresh PostgreSQL database, the demo accounts, argon2id at the
configured cost: ``IDENTITY_ARGON2_*``, default argon2-cffi's 3 passes, 64 MiB, 4 lanes) behind
nginx with the config generated from the route table. Several concurrent clients each run full
logins: ``GET /auth/authorize`` (a fresh PKCE pair and state per login) → the login form →
``POST`` with the password → the redirect back with the code → ``POST /auth/token``. A login
counts when the token response is 200 with an access token; anything else invalidates the run.

The bound: argon2id verifications per second of a stored hash (the same parameters), measured in
the same run, alternating with the login rounds so both see the same machine noise. It runs as
many processes as there are concurrent login clients (default 2 per core): at least one per core,
so on an idle machine it is the machine's (2 cores') rate; and on a machine shared with other jobs
the bound gets the same number of runnable workers, hence the same share of the CPU, as the
logins' concurrent argon2 verifications do. Each login verifies one password, so logins/s can at most
reach the bound; the ratio says how much the rest (HTTP, nginx, Flask, PostgreSQL, the token
signing) costs. Target: ≥ 0.8.

The credentials rate limit (10 per minute per address) would stop the bench after six logins, as
every client here is 127.0.0.1: this run sets ``BP_BENCH_CREDENTIALS_RATE``/``_BURST`` for its own
nginx only (``gateway.routes.local_rate_limits``); the production configuration (compose) never
reads them. The limit's own behaviour is tested in gateway/tests/test_ratelimit.py and
test_nginx_edge.py.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from itertools import cycle
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from argon2 import PasswordHasher
from bench_edge import start_behind_nginx

from chassis.demo import DEMO_ACCOUNTS
from chassis.testing.infrastructure import fresh_database
from chassis.testing.oidc_login import token_response
from gateway import processes
from gateway.distributed import GUNICORN_CONFIG, generate_secrets
from gateway.routes import (
    BENCH_CREDENTIALS_BURST,
    BENCH_CREDENTIALS_RATE,
    local_rate_limits,
    services,
)

SERVICE = "identity"
TARGET_RATIO = 0.8
# Far above what two cores can verify: the limit must not be what is measured.
BENCH_RATE = {BENCH_CREDENTIALS_RATE: "1000r/s", BENCH_CREDENTIALS_BURST: "1000"}


def login_round(base_url: str, client_secret: str, *, clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` threads log in again and again for ``seconds``; latencies of whole logins."""
    accounts = cycle([(a.login, a.password) for a in DEMO_ACCOUNTS])
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    deadline = time.perf_counter() + seconds

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                login, password = next(accounts)
            started = time.perf_counter()
            try:
                # The same steps as every test's login (chassis.testing.oidc_login), timed whole.
                tokens = token_response(base_url, client_secret, login, password)
                assert tokens.get("access_token"), "no access token"
            except (AssertionError, requests.RequestException, KeyError) as error:
                with lock:
                    failures.append(str(error)[:200])
                continue
            with lock:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "logins": len(latencies),
        "seconds": round(elapsed, 3),
        "rps": round(len(latencies) / elapsed, 3),
        "latencies_ms": [round(s * 1000, 1) for s in latencies],
        "failures": failures[:20],
        "failed": len(failures),
    }


def _verify_loop(
    password_hash: str, password: str, seconds: float, start: Any, counts: Any, times: Any, index: int
) -> None:
    hasher = PasswordHasher()
    start.wait()  # every process is up (imports done) before anyone counts
    began = time.perf_counter()
    deadline = began + seconds
    done = 0
    while time.perf_counter() < deadline:
        hasher.verify(password_hash, password)
        done += 1
    counts[index] = done
    times[index] = time.perf_counter() - began


def argon2_round(password_hash: str, password: str, *, parallel: int, seconds: float) -> dict[str, Any]:
    """argon2id verifications/s of the stored hash, ``parallel`` processes at once (no GIL between
    them); the processes' start-up is not counted."""
    context = multiprocessing.get_context("spawn")
    counts = context.Array("i", parallel)
    times = context.Array("d", parallel)
    start = context.Barrier(parallel)
    workers = [
        context.Process(target=_verify_loop, args=(password_hash, password, seconds, start, counts, times, i))
        for i in range(parallel)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    total, elapsed = sum(counts[:]), max(times[:])
    return {"verifications": total, "seconds": round(elapsed, 3), "rps": round(total / elapsed, 3)}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(
    admin_url: str,
    *,
    rounds: int = 3,
    seconds: float = 15.0,
    clients: int | None = None,
) -> dict[str, Any]:
    route = services()[SERVICE]
    cores = os.cpu_count() or 2
    workers = int(os.environ.get("BENCH_LOGIN_WORKERS", str(cores)))
    threads = int(os.environ.get("BENCH_LOGIN_THREADS", "4"))
    clients = clients or int(os.environ.get("BENCH_LOGIN_CLIENTS", str(2 * cores)))
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-login-")))
        database_url = stack.enter_context(fresh_database(admin_url, "bench_login"))
        service_port = processes.free_port()
        edge_port = processes.free_port()
        base_url = f"http://127.0.0.1:{edge_port}"
        secrets_env = generate_secrets()
        env = {
            **os.environ,
            **secrets_env,
            "PYTHONSAFEPATH": "1",
            "BP_DATA_DIR": str(work),
            "IDENTITY_DATABASE_URL": database_url,
            "BP_BUS_URL": "memory://",
            "BP_PUBLIC_URL": base_url,
            "BP_BEHIND_PROXY": "1",
            "BP_LOG_LEVEL": "WARNING",
        }
        gunicorn, edge = start_behind_nginx(
            stack,
            route,
            {**env, "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics")},
            work,
            service_port=service_port,
            edge_port=edge_port,
            gunicorn_args=(
                *("--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads)),
                *("--config", GUNICORN_CONFIG),
            ),
            rate_limits=local_rate_limits(BENCH_RATE),
        )
        processes.wait_until(
            "identity through the edge",
            lambda: requests.get(f"{base_url}/auth/jwks", timeout=5).status_code == 200,
            timeout=60,
            watch=[gunicorn, edge],
        )
        client_secret = secrets_env["BP_WEB_CLIENT_SECRET"]
        demo = DEMO_ACCOUNTS[0]
        engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            stored_hash = str(
                conn.execute(
                    sa.text("SELECT password_hash FROM accounts WHERE id = :id"), {"id": demo.account_id}
                ).scalar_one()
            )
        engine.dispose()
        # Warm up: every worker's connections, the signing key, the JWKS.
        login_round(base_url, client_secret, clients=clients, seconds=3)
        logins: list[dict[str, Any]] = []
        bounds: list[dict[str, Any]] = []
        for index in range(rounds):
            order = ("bound", "login") if index % 2 == 0 else ("login", "bound")
            for side in order:
                if side == "bound":
                    bounds.append(argon2_round(stored_hash, demo.password, parallel=clients, seconds=seconds))
                else:
                    logins.append(login_round(base_url, client_secret, clients=clients, seconds=seconds))
                print(f"  login round {index + 1} {side}: done", flush=True)
        # A failed login invalidates the run; identity's log says why (e.g. a 503: the database).
        log_tail = gunicorn.tail() if any(r["failed"] for r in logins) else ""
    return summarise(
        logins,
        bounds,
        argon2_hash=stored_hash.split("$")[3] if stored_hash.count("$") >= 4 else "",
        cores=cores,
        gunicorn_workers=workers,
        gunicorn_threads=threads,
        clients=clients,
        seconds=seconds,
        identity_log_tail=log_tail[-4000:],
    )


def summarise(logins: list[dict[str, Any]], bounds: list[dict[str, Any]], **context: Any) -> dict[str, Any]:
    latencies = [ms for r in logins for ms in r["latencies_ms"]]
    login_rps = sum(r["logins"] for r in logins) / sum(r["seconds"] for r in logins)
    bound_rps = sum(r["verifications"] for r in bounds) / sum(r["seconds"] for r in bounds)
    round_ratios = [
        login["rps"] / bound["rps"] for login, bound in zip(logins, bounds, strict=True) if bound["rps"]
    ]
    # The median of the rounds' ratios: each pair of rounds saw the same machine noise (other
    # jobs on a shared machine), which pooling the rounds would mix; the pooled one is kept too.
    ratio = statistics.median(round_ratios) if round_ratios else 0.0
    pooled = login_rps / bound_rps if bound_rps else 0.0
    clean = all(r["failed"] == 0 for r in logins)
    return {
        "name": "login: full OIDC logins (authorize, form, password, code, token) through nginx "
        "vs argon2id verifications",
        "login": {
            "rps": round(login_rps, 2),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
            "p90_ms": round(_percentile(latencies, 0.9), 1),
            "p99_ms": round(_percentile(latencies, 0.99), 1),
            "logins": sum(r["logins"] for r in logins),
            "failed": sum(r["failed"] for r in logins),
        },
        "bound": {"rps": round(bound_rps, 2), "verifications": sum(r["verifications"] for r in bounds)},
        "ratio": round(ratio, 3),
        "pooled_ratio": round(pooled, 3),
        "round_ratios": [round(r, 3) for r in round_ratios],
        "target": f"logins/s >= {TARGET_RATIO} x argon2id verifications/s",
        "passed": clean and ratio >= TARGET_RATIO,
        "clean": clean,
        "rounds": {
            "login": [{k: v for k, v in r.items() if k != "latencies_ms"} for r in logins],
            "bound": bounds,
        },
        "context": context,
    }


def login_rows(summary: dict[str, Any]) -> list[tuple[str, ...]]:
    login, bound = summary["login"], summary["bound"]
    return [
        (
            "login throughput (logins/s)",
            f"{login['rps']:.2f} via nginx",
            f"{bound['rps']:.2f} argon2id/s",
            f"{summary['ratio']:.2f}",
            f">= {TARGET_RATIO:.2f}",
            "yes" if summary["passed"] else "NO",
        ),
        ("login latency p50/p99 (ms)", f"{login['p50_ms']:.0f}/{login['p99_ms']:.0f}", "", "", "", ""),
    ]


def main() -> int:
    admin_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    quick = os.environ.get("BENCH_QUICK") == "1"
    summary = run(admin_url, rounds=1 if quick else 5, seconds=5 if quick else 10)
    import json

    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    (results / f"login-{stamp}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(
        json.dumps({k: summary[k] for k in ("login", "bound", "ratio", "round_ratios", "passed")}, indent=2)
    )
    return 0 if summary["clean"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
