"""Child processes of the distributed mode.

Each child starts in its own session (its own process group), so that stopping
it stops everything it forked (gunicorn's workers, nginx's workers). A
``Supervisor`` restarts children that die, with a capped exponential backoff,
while the others keep serving.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

log = logging.getLogger(__name__)

NGINX = os.environ.get("BP_NGINX", shutil.which("nginx") or "/usr/sbin/nginx")


class StartupError(RuntimeError):
    pass


@dataclass(frozen=True)
class ProcessSpec:
    """How to (re)start one child: the same command, environment and log every time."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] | None = None
    log_dir: Path | None = None
    cwd: Path | None = None


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path | None = None
    _log_file: IO[bytes] | None = field(default=None, repr=False)
    spec: ProcessSpec | None = None
    # How often it was started again (by a supervisor).
    restarts: int = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left after ``timeout``."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0fs; killing it", self.name, timeout)
        self.reap_group()
        self._close_log()

    def reap_group(self) -> None:
        """Kill stragglers of the group (gunicorn workers, nginx workers) even if the leader is gone."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)

    def restart(self) -> None:
        """Start the same command again, in place (callers keep their reference)."""
        if self.spec is None:
            raise RuntimeError(f"{self.name} was not started from a spec; it cannot be restarted")
        self.stop()
        fresh = _spawn(self.spec)
        self.popen, self.log_path, self._log_file = fresh.popen, fresh.log_path, fresh._log_file
        self.restarts += 1

    def tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def describe_exit(returncode: int | None) -> str:
    """``exit code 3`` or ``signal SIGKILL`` (Popen reports a signal as a negative code)."""
    if returncode is None:
        return "no exit status"
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


def start(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
    cwd: Path | None = None,
) -> ManagedProcess:
    """Start ``argv`` in a new session (its own process group), logging to ``log_dir/name.log``."""
    return _spawn(ProcessSpec(name, tuple(argv), dict(env) if env is not None else None, log_dir, cwd))


def _spawn(spec: ProcessSpec) -> ManagedProcess:
    log_file = None
    log_path = None
    if spec.log_dir is not None:
        spec.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = spec.log_dir / f"{spec.name}.log"
        log_file = log_path.open("ab")
    try:
        popen = subprocess.Popen(
            list(spec.argv),
            env=dict(spec.env) if spec.env is not None else None,
            cwd=spec.cwd,
            stdin=subprocess.DEVNULL,
            stdout=log_file if log_file is not None else None,
            stderr=subprocess.STDOUT if log_file is not None else None,
            start_new_session=True,
        )
    except BaseException:
        if log_file is not None:
            log_file.close()
        raise
    return ManagedProcess(spec.name, popen, log_path, log_file, spec=spec)


class Supervisor:
    """Restarts children that die, each on its own capped exponential backoff.

    A child that dies is reported in one log line (which one, how it ended, when it
    comes back), its process group is cleared (a SIGKILLed gunicorn master leaves
    its workers holding the port), and it is started again after ``initial_delay``,
    doubling with every death in a row up to ``max_delay``. A child that ran for
    ``stable_after`` seconds before dying starts the series anew. The others are
    not touched.
    """

    def __init__(
        self,
        processes: Sequence[ManagedProcess] = (),
        *,
        initial_delay: float = 0.5,
        max_delay: float = 30.0,
        stable_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.processes: list[ManagedProcess] = []
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self._clock = clock
        # By process name: when it (last) started, its deaths in a row, when it starts again.
        self._started: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._due: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        for process in processes:
            self.add(process)

    def add(self, process: ManagedProcess) -> ManagedProcess:
        """Supervise ``process`` (started just now, as far as the backoff is concerned)."""
        with self._lock:
            self.processes.append(process)
            self._started[process.name] = self._clock()
        return process

    def delay_after(self, deaths_in_a_row: int) -> float:
        """The wait before the restart that follows the ``deaths_in_a_row``-th death."""
        return float(min(self.initial_delay * 2 ** max(deaths_in_a_row - 1, 0), self.max_delay))

    def poll(self) -> None:
        """Notice deaths and restart those whose delay has passed; call it often."""
        with self._lock:
            if self._stopping.is_set():
                return
            now = self._clock()
            for process in self.processes:
                if process.alive:
                    continue
                if process.name not in self._due:
                    self._schedule(process, now)
                elif now >= self._due[process.name]:
                    del self._due[process.name]
                    self._started[process.name] = now
                    try:
                        process.restart()
                    except OSError as exc:  # e.g. the binary is gone; counts as one more death
                        log.error("%s could not be started again: %s", process.name, exc)

    def _schedule(self, process: ManagedProcess, now: float) -> None:
        ran_for = now - self._started.get(process.name, now)
        failures = 1 if ran_for >= self.stable_after else self._failures.get(process.name, 0) + 1
        self._failures[process.name] = failures
        delay = self.delay_after(failures)
        self._due[process.name] = now + delay
        # The group may outlive its leader (gunicorn workers holding the port): clear it first.
        process.reap_group()
        where = f"; log: {process.log_path}" if process.log_path is not None else ""
        log.warning(
            "%s (pid %d) exited with %s; restarting in %.1fs (death %d in a row)%s",
            process.name,
            process.pid,
            describe_exit(process.popen.returncode),
            delay,
            failures,
            where,
        )

    def start(self, interval: float = 0.25) -> None:
        """Poll in a background thread until ``stop``."""

        def loop() -> None:
            while not self._stopping.wait(interval):
                try:
                    self.poll()
                except Exception:  # the supervisor itself must not die
                    log.exception("supervision failed; trying again")

        self._thread = threading.Thread(target=loop, name="supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop restarting (the children keep running; stop them yourself)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        # A restart in progress finishes under the lock before this returns.
        with self._lock:
            pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(
    what: str,
    predicate: Callable[[], bool],
    *,
    timeout: float,
    watch: Sequence[ManagedProcess] = (),
    interval: float = 0.2,
) -> None:
    """Poll ``predicate``; fail early with the log tail if a watched process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in watch:
            if not process.alive:
                raise StartupError(
                    f"{process.name} exited with {describe_exit(process.popen.returncode)} "
                    f"while waiting for {what}:\n{process.tail()}"
                )
        try:
            if predicate():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(interval)
    tails = "\n".join(f"--- {p.name}\n{p.tail()}" for p in watch)
    raise StartupError(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")


def http_ok(url: str) -> bool:
    return requests.get(url, timeout=2).status_code == 200


def start_nginx(config_text: str, runtime_dir: Path, *, log_dir: Path | None = None) -> ManagedProcess:
    """Write the config into ``runtime_dir``, check it with ``nginx -t`` and run nginx in the foreground."""
    from gateway.nginx import prepare_runtime_dir

    prepare_runtime_dir(str(runtime_dir))
    config = runtime_dir / "nginx.conf"
    config.write_text(config_text)
    check = subprocess.run(
        [NGINX, "-t", "-q", "-p", str(runtime_dir), "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        raise StartupError(f"nginx rejected {config}:\n{check.stderr}")
    return start("nginx", [NGINX, "-p", str(runtime_dir), "-c", str(config)], log_dir=log_dir)
