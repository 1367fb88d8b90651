"""The distributed mode for real: every service under gunicorn (two workers each) with its
worker, PostgreSQL, RabbitMQ, the test's own SMTP server, and nginx in front, started and torn
down by ``run_distributed`` the way an e2e test uses it; and its supervisor, which restarts a
process that dies while the others keep serving."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from chassis.db import normalise_url
from chassis.testing.smtp import smtp_server
from gateway import processes
from gateway.distributed import (
    REQUIRED_SECRETS,
    DistributedPortal,
    generate_secrets,
    run_distributed,
)
from gateway.processes import ManagedProcess, Supervisor
from gateway.routes import ROUTES, security_headers

GUNICORN_WORKERS = 2


@pytest.fixture(scope="module")
def portal(
    postgres_admin_url: str, amqp_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DistributedPortal]:
    run_id = uuid.uuid4().hex[:8]
    prefix = f"test_{run_id}_"
    ports = {route.service: processes.free_port() for route in ROUTES}
    with (
        smtp_server() as (smtp_host, smtp_port, _mails),
        run_distributed(
            {"BP_QUEUE_PREFIX": f"test-{run_id}.", "BP_EXCHANGE": f"test-{run_id}.events"}
            | generate_secrets(),
            tmp_path_factory.mktemp("distributed"),
            edge_port=processes.free_port(),
            ports=ports,
            postgres_url=postgres_admin_url,
            amqp_url=amqp_url,
            database_prefix=prefix,
            smtp=(smtp_host, smtp_port),
            gunicorn_workers=GUNICORN_WORKERS,
            gunicorn_threads=4,
            drop_databases_on_exit=True,
            delete_topology_on_exit=True,
        ) as running,
    ):
        yield running
        pids = [process.pid for process in running.processes]
    # Torn down: no process group is left, and the test's databases are gone.
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
    engine = sa.create_engine(normalise_url(postgres_admin_url))
    with engine.connect() as conn:
        names = conn.execute(sa.text("SELECT datname FROM pg_database")).scalars().all()
    engine.dispose()
    assert [name for name in names if name.startswith(prefix)] == []


def test_every_route_is_reachable_through_the_edge(portal: DistributedPortal) -> None:
    for route in ROUTES:
        if route.strips_prefix:
            response = requests.get(f"{portal.base_url}{route.prefix}/healthz", timeout=5)
            assert response.status_code == 200, route.prefix
            assert response.json() == {"status": "ok"}
            assert response.headers["X-Frame-Options"] == "DENY"
            # Readiness and metrics are for operators on the service's own port.
            assert requests.get(f"{portal.base_url}{route.prefix}/readyz", timeout=5).status_code == 404
            assert requests.get(f"{portal.service_url(route.service)}/readyz", timeout=5).status_code == 200


def test_identity_publishes_public_urls_behind_the_proxy(portal: DistributedPortal) -> None:
    discovery = requests.get(f"{portal.base_url}/auth/.well-known/openid-configuration", timeout=5).json()
    assert discovery["issuer"] == f"{portal.base_url}/auth"
    assert discovery["authorization_endpoint"].startswith(f"{portal.base_url}/auth/")
    keys = requests.get(discovery["jwks_uri"], timeout=5)
    assert keys.status_code == 200
    assert keys.json()["keys"]


def test_the_web_ui_answers_at_the_root_with_one_strict_csp(portal: DistributedPortal) -> None:
    response = requests.get(portal.base_url + "/", timeout=5)
    assert response.status_code == 200
    assert "text/html" in response.headers["Content-Type"]
    (csp,) = response.raw.headers.getlist("Content-Security-Policy")
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    for name in ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert response.raw.headers.getlist(name) == [security_headers()[name]]


def test_api_without_a_token_is_refused_by_the_service(portal: DistributedPortal) -> None:
    response = requests.get(f"{portal.base_url}/api/training/contracts", timeout=5)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_every_process_is_up(portal: DistributedPortal) -> None:
    names = {process.name for process in portal.processes}
    for service in ("identity", "training-records", "exams", "documents", "notifications"):
        assert {service, f"{service}-worker"} <= names
    assert {"notifications-worker", "web", "nginx"} <= names
    assert "notifications-mailer" not in names
    assert portal.dead() == []


def test_the_web_tables_are_migrated_before_its_workers_start(portal: DistributedPortal) -> None:
    engine = sa.create_engine(normalise_url(portal.env["WEB_DATABASE_URL"]))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


# -- /metrics: every worker of a service, not the one that answers -------------------------------


def _counter(metrics_text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def _worker_pids(master: ManagedProcess) -> set[int]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return {int(pid) for pid in children}


def test_a_scrape_counts_the_requests_of_every_gunicorn_worker(portal: DistributedPortal) -> None:
    service = portal.service_url("exams")
    assert len(_worker_pids(portal.process("exams"))) == GUNICORN_WORKERS

    def healthz_count() -> float:
        text = requests.get(f"{service}/metrics", timeout=5).text
        return _counter(text, "bp_http_requests_total", service="exams", endpoint="/healthz", status="200")

    before = healthz_count()
    requests_sent = 60

    def one(_: int) -> int:
        # A new connection each time, so that both workers accept some of them.
        with requests.Session() as session:
            return session.get(f"{service}/healthz", timeout=5).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(one, range(requests_sent))) == {200}
    # Every scrape, whichever worker answers it, sees all of them.
    for _ in range(6):
        assert healthz_count() == before + requests_sent


# -- supervision ------------------------------------------------------------------------------------


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie stays until an init that may not reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_killed_service_is_restarted_while_the_others_keep_serving(
    portal: DistributedPortal, caplog: pytest.LogCaptureFixture
) -> None:
    exams = portal.process("exams")
    old_pid, old_workers = exams.pid, _worker_pids(exams)
    caplog.set_level(logging.WARNING, logger="gateway.processes")
    os.kill(old_pid, signal.SIGKILL)  # the gunicorn master; its workers still hold the port

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        # The rest of the portal answers all along.
        assert requests.get(f"{portal.base_url}/api/training/healthz", timeout=10).status_code == 200
        try:
            if exams.pid != old_pid and requests.get(f"{portal.service_url('exams')}/readyz", timeout=2).ok:
                break
        except requests.RequestException:  # refused, or accepted before a worker is up
            pass
        time.sleep(0.3)
    else:
        pytest.fail(f"exams did not come back:\n{exams.tail()}")
    assert exams.restarts == 1
    assert requests.get(f"{portal.base_url}/api/exams/healthz", timeout=5).status_code == 200
    # The orphaned workers of the killed master are gone, new ones serve.
    assert not any(_running(pid) for pid in old_workers)
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.processes"]
    (line,) = [line for line in lines if line.startswith(f"exams (pid {old_pid}) exited")]
    assert "signal SIGKILL" in line and "restarting in 0.5s" in line
    assert portal.dead() == []


def test_a_killed_event_worker_is_restarted(portal: DistributedPortal) -> None:
    worker = portal.process("documents-worker")
    old_pid = worker.pid
    os.kill(old_pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not (worker.pid != old_pid and worker.alive) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert worker.pid != old_pid and worker.alive
    assert worker.restarts == 1


# -- secrets -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", sorted(REQUIRED_SECRETS))
def test_the_distributed_mode_refuses_to_start_without_a_secret(
    missing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in REQUIRED_SECRETS:
        monkeypatch.delenv(name, raising=False)
    secrets = generate_secrets()
    del secrets[missing]
    with pytest.raises(processes.StartupError) as refused, run_distributed(secrets, tmp_path / "portal"):
        pytest.fail("started without a secret")
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"missing secret {missing}:")
    assert not (tmp_path / "portal").exists()  # nothing was started or written


SERVICE_START = """
import sys
from importlib import import_module
import_module(sys.argv[1]).create_app()
"""


@pytest.mark.parametrize(
    ("app", "secret"),
    [
        ("documents.entrypoints.app", "DOCUMENTS_SECRET_KEY"),
        ("identity.entrypoints.app", "IDENTITY_SECRET_KEY"),
        ("identity.entrypoints.app", "IDENTITY_CODE_HASH_KEY"),
        ("gateway.web.app", "WEB_SECRET_KEY"),
        ("gateway.web.app", "BP_WEB_CLIENT_SECRET"),
    ],
)
def test_a_service_started_without_its_secret_names_it_and_exits(
    app: str, secret: str, tmp_path: Path
) -> None:
    # What gunicorn (or a container) runs: refused before it serves, whatever the runner checked.
    env = {key: value for key, value in os.environ.items() if key not in REQUIRED_SECRETS}
    env |= generate_secrets() | {"BP_MODE": "distributed", "BP_DATA_DIR": str(tmp_path), "BP_LOG_JSON": "0"}
    env |= {"IDENTITY_DATABASE_URL": f"sqlite:///{tmp_path / 'identity.db'}"}
    del env[secret]
    started = subprocess.run(
        [sys.executable, "-P", "-c", SERVICE_START, app], env=env, capture_output=True, text=True, timeout=120
    )
    assert started.returncode != 0
    assert f"MissingSecret: {secret} is not set" in started.stderr.splitlines()[-1]
    assert not (tmp_path / "secrets").exists()


# -- the command: SIGTERM and Ctrl-C stop everything ------------------------------------------------

SERVE = """
import json, logging, sys
from pathlib import Path
from gateway.distributed import serve
logging.basicConfig(level=logging.INFO)
options = json.loads(sys.argv[1])
options["data_dir"] = Path(options["data_dir"])
raise SystemExit(serve(options))
"""


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = {int(child) for child in (task / "children").read_text().split()}
            except FileNotFoundError:
                continue
            todo += list(children - found)
            found |= children
    return found


def _serve(tmp_path: Path, postgres_admin_url: str, amqp_url: str) -> subprocess.Popen[str]:
    run_id = uuid.uuid4().hex[:8]
    options = {
        "data_dir": str(tmp_path / "portal"),
        "edge_port": processes.free_port(),
        "ports": {route.service: processes.free_port() for route in ROUTES},
        "mail_sink_port": processes.free_port(),
        "postgres_url": postgres_admin_url,
        "amqp_url": amqp_url,
        "database_prefix": f"test_{run_id}_",
        "gunicorn_workers": 1,
        "seed": False,
        "drop_databases_on_exit": True,
        "delete_topology_on_exit": True,
        "env_overrides": {"BP_QUEUE_PREFIX": f"test-{run_id}.", "BP_EXCHANGE": f"test-{run_id}.events"}
        | generate_secrets(),
    }
    return subprocess.Popen(
        [sys.executable, "-P", "-c", SERVE, json.dumps(options)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_sigterm_stops_every_process_of_the_running_portal(
    tmp_path: Path, postgres_admin_url: str, amqp_url: str
) -> None:
    runner = _serve(tmp_path, postgres_admin_url, amqp_url)
    try:
        assert runner.stdout is not None
        output = []
        for line in runner.stdout:
            output.append(line)
            if "läuft auf" in line:
                break
        else:
            pytest.fail("".join(output))
        children = _descendants(runner.pid)
        assert len(children) > 10  # gunicorns and their workers, workers, nginx and its workers
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(60) == 0
        assert "stopping every process" in runner.stdout.read()
        assert [pid for pid in children if _alive(pid)] == []
    finally:
        runner.kill()
        runner.wait(10)


def test_ctrl_c_while_starting_abandons_the_start_and_leaves_nothing_running(
    tmp_path: Path, postgres_admin_url: str, amqp_url: str
) -> None:
    runner = _serve(tmp_path, postgres_admin_url, amqp_url)
    try:
        deadline = time.monotonic() + 60
        children: set[int] = set()
        while len(children) < 3 and time.monotonic() < deadline:  # the migrations are running
            children |= _descendants(runner.pid)
            time.sleep(0.05)
        runner.send_signal(signal.SIGINT)
        assert runner.wait(60) == 130
        assert runner.stdout is not None and "start abandoned" in runner.stdout.read()
        assert [pid for pid in children if _alive(pid)] == []
    finally:
        runner.kill()
        runner.wait(10)


# -- the supervisor on its own (short-lived stand-in processes) -------------------------------------


def _sleeper(name: str, tmp_path: Path) -> ManagedProcess:
    return processes.start(name, [sys.executable, "-c", "import time; time.sleep(600)"], log_dir=tmp_path)


def test_backoff_doubles_with_each_death_in_a_row_up_to_the_cap() -> None:
    supervisor = Supervisor(initial_delay=0.5, max_delay=4.0)
    assert [supervisor.delay_after(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_dead_child_is_restarted_after_its_delay_and_the_others_are_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = [1000.0]
    keeper, victim = _sleeper("keeper", tmp_path), _sleeper("victim", tmp_path)
    supervisor = Supervisor(
        [keeper, victim], initial_delay=1.0, max_delay=4.0, stable_after=30.0, clock=lambda: now[0]
    )
    caplog.set_level(logging.WARNING, logger="gateway.processes")
    keeper_pid = keeper.pid
    try:
        delays = []
        for _death in range(4):
            first_pid = victim.pid
            os.kill(first_pid, signal.SIGKILL)
            victim.popen.wait(10)
            supervisor.poll()  # notices the death: logs it, schedules the restart
            assert victim.pid == first_pid and not victim.alive
            record = caplog.records[-1]
            delays.append(record.getMessage())
            now[0] += 0.99 * supervisor.delay_after(len(delays))
            supervisor.poll()
            assert victim.pid == first_pid  # not yet
            now[0] += 0.02 * supervisor.delay_after(len(delays))
            supervisor.poll()
            assert victim.pid != first_pid and victim.alive
            now[0] += 1.0  # dies again soon: the next delay doubles
        assert victim.restarts == 4
        assert [m.split("restarting in ")[1].split("s")[0] for m in delays] == ["1.0", "2.0", "4.0", "4.0"]
        assert delays[0].startswith("victim (pid ") and "exited with signal SIGKILL" in delays[0]
        assert str(tmp_path / "victim.log") in delays[0]
        # After a long healthy run the series starts again.
        now[0] += 60
        os.kill(victim.pid, signal.SIGTERM)
        victim.popen.wait(10)
        supervisor.poll()
        assert "exited with signal SIGTERM; restarting in 1.0s" in caplog.records[-1].getMessage()
        assert keeper.pid == keeper_pid and keeper.alive and keeper.restarts == 0
    finally:
        supervisor.stop()
        for process in (keeper, victim):
            process.stop()


def test_an_exit_code_is_reported_as_such(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    failing = processes.start("failing", [sys.executable, "-c", "raise SystemExit(3)"], log_dir=tmp_path)
    failing.popen.wait(30)
    supervisor = Supervisor([failing])
    caplog.set_level(logging.WARNING, logger="gateway.processes")
    supervisor.poll()
    (record,) = caplog.records
    assert record.getMessage().startswith(
        f"failing (pid {failing.pid}) exited with exit code 3; restarting in 0.5s"
    )
    assert "\n" not in record.getMessage()
    failing.stop()


def test_once_stopped_the_supervisor_restarts_nothing(tmp_path: Path) -> None:
    victim = _sleeper("victim", tmp_path)
    supervisor = Supervisor([victim], initial_delay=0.05)
    supervisor.start(interval=0.02)
    try:
        os.kill(victim.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while victim.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert victim.restarts == 1 and victim.alive  # restarted in the background
        supervisor.stop()
        victim.stop()  # as run_distributed does on Ctrl-C/SIGTERM: supervisor first, then the children
        time.sleep(0.3)
        assert not victim.alive and victim.restarts == 1
    finally:
        supervisor.stop()
        victim.stop()


def test_the_group_of_a_dead_leader_is_cleared_before_the_restart(tmp_path: Path) -> None:
    # Like a SIGKILLed gunicorn master: its children live on, holding the port, until cleared.
    script = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); print(flush=True); time.sleep(600)"
    leader = processes.start("leader", [sys.executable, "-c", script], log_dir=tmp_path)
    deadline = time.monotonic() + 30
    while not (tmp_path / "leader.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    (child,) = _worker_pids(leader)
    supervisor = Supervisor([leader], initial_delay=60)
    try:
        os.kill(leader.pid, signal.SIGKILL)
        leader.popen.wait(10)
        assert Path(f"/proc/{child}").exists()
        supervisor.poll()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        supervisor.stop()
        leader.stop()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
