"""Child processes of the distributed mode: start in their own process group, stop the whole group."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
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


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path | None = None
    _log_file: IO[bytes] | None = field(default=None, repr=False)

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
        # Kill stragglers of the group (gunicorn workers, nginx workers) even if the leader is gone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def start(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
    cwd: Path | None = None,
) -> ManagedProcess:
    """Start ``argv`` in a new session (its own process group), logging to ``log_dir/name.log``."""
    log_file = None
    log_path = None
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{name}.log"
        log_file = log_path.open("ab")
    popen = subprocess.Popen(
        list(argv),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=log_file if log_file is not None else None,
        stderr=subprocess.STDOUT if log_file is not None else None,
        start_new_session=True,
    )
    return ManagedProcess(name, popen, log_path, log_file)


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
                    f"{process.name} exited with {process.popen.returncode} while waiting for {what}:\n"
                    f"{process.tail()}"
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
