"""`make bench`: the edge, event-relay, mail, login and import benchmarks, each against its reference in the same run.

Prints a table and writes bench/results/<UTC timestamp>.json and bench/results/latest.json.
Needs PostgreSQL and RabbitMQ (BENCH_DATABASE_URL / BENCH_AMQP_URL, default the local
ones), nginx and wrk. BENCH_QUICK=1 runs shorter rounds (a smoke run, not a measurement).
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_edge
import bench_import
import bench_login
import bench_mail
import bench_relay

RESULTS = Path(__file__).resolve().parent / "results"


def table(
    edge: dict[str, Any],
    relay: dict[str, Any],
    mail: dict[str, Any],
    imported: dict[str, Any],
    login: dict[str, Any] | None = None,
) -> str:
    rows = [
        bench_relay.HEADER,
        (
            "edge throughput (req/s)",
            f"{edge['edge']['rps']:.0f} nginx",
            f"{edge['direct']['rps']:.0f} direct",
            f"{edge['ratio']:.2f}",
            ">= 0.85",
            "yes" if edge["passed"] else "NO",
        ),
        (
            "edge latency p50/p99 (ms)",
            f"{edge['edge']['p50_ms']:.2f}/{edge['edge']['p99_ms']:.2f}",
            f"{edge['direct']['p50_ms']:.2f}/{edge['direct']['p99_ms']:.2f}",
            "",
            "",
            "",
        ),
        *bench_relay.relay_rows(relay),
        (
            "mail throughput (accepted/s)",
            f"{mail['sender']['rps']:.0f} mailer",
            f"{mail['raw']['rps']:.0f} raw smtplib",
            f"{mail['ratio']:.2f}",
            f">= {bench_mail.TARGET_RATIO:.2f}",
            "yes" if mail["passed"] else "NO",
        ),
        *(bench_login.login_rows(login) if login else []),
        *bench_import.import_rows(imported),
    ]
    return bench_relay.render(rows)


def main() -> int:
    admin_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    amqp_url = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    quick = os.environ.get("BENCH_QUICK") == "1"
    # The relay first: it is the one sensitive to PostgreSQL's checkpoints, which the edge
    # benchmark's database set-up and tear-down cause.
    print("relay benchmark (OutboxRelay vs raw pika) …", flush=True)
    relay = bench_relay.run(
        admin_url,
        amqp_url,
        rounds=1 if quick else 5,
        **bench_relay.QUICK if quick else {},
    )
    print("mail benchmark (notifications mailer vs raw smtplib) …", flush=True)
    mail = bench_mail.run(admin_url, rounds=1 if quick else 3, count=300 if quick else 2000)
    print("edge benchmark (nginx vs direct) …", flush=True)
    edge = bench_edge.run(admin_url, rounds=2 if quick else 4, seconds=3 if quick else 8)
    print("login benchmark (full OIDC logins through nginx vs argon2id verifications) …", flush=True)
    login = bench_login.run(admin_url, rounds=1 if quick else 5, seconds=5 if quick else 10)
    # Last: it starts the whole distributed portal and takes the longest.
    print(
        "import benchmark (the chamber's data import in distributed mode, upload to last effect) …",
        flush=True,
    )
    imported = bench_import.run(quick)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = {
        "timestamp": stamp,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "quick": quick,
        "edge": edge,
        "relay": relay,
        "mail": mail,
        "login": login,
        "import": imported,
    }
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(report, indent=2) + "\n"
    (RESULTS / f"{stamp}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print()
    print(table(edge, relay, mail, imported, login))
    print(f"\nresults: {RESULTS / (stamp + '.json')}")
    if not login["clean"]:
        print("login benchmark saw failed logins: its numbers are not valid", file=sys.stderr)
        return 1
    if not edge["clean"]:
        print(
            "edge benchmark saw non-2xx responses or socket errors: the numbers are not valid",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
