"""Configuration from the environment only (DESIGN §2 rule 7).

Names are shared (``BP_*``) where every service needs the same value, and
prefixed with the service (``IDENTITY_DATABASE_URL``) where each service owns
its own, so that the embedded mode can run all services in one process.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


def env_prefix(service_name: str) -> str:
    """``training-records`` -> ``TRAINING_RECORDS``."""
    return service_name.upper().replace("-", "_")


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    return default if raw in (None, "") else int(raw)


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    return default if raw in (None, "") else float(raw)


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Where embedded-mode files live; created by whoever writes there first."""
    return Path(env.get("BP_DATA_DIR", "var")).resolve()


# -- run mode and secrets ----------------------------------------------------------------
#
# One policy for every secret (session and CSRF keys, the vault key, the OIDC client
# secret): it comes from the environment, equal in every process of a service and
# across restarts. Only the embedded mode (``make run``, which sets BP_MODE=embedded)
# may generate a missing one, once, kept under BP_DATA_DIR with mode 0600 so that a
# restart keeps sessions and sealed data. In any other mode a missing secret stops
# the process at startup with a one-line message naming the variable: a per-process
# random key would break every replica but the one that made it.

EMBEDDED = "embedded"
DISTRIBUTED = "distributed"
RUN_MODES = (EMBEDDED, DISTRIBUTED)


class ConfigurationError(RuntimeError):
    """A setting the process cannot start without is missing or wrong; the message names it."""


class MissingSecret(ConfigurationError):
    pass


def run_mode(env: Mapping[str, str] = os.environ) -> str:
    """``BP_MODE``: ``embedded`` (set by the embedded runner) or ``distributed`` (the default)."""
    mode = (env.get("BP_MODE") or DISTRIBUTED).strip().lower()
    if mode not in RUN_MODES:
        raise ConfigurationError(f"BP_MODE={mode!r} is not one of: {', '.join(RUN_MODES)}")
    return mode


class RunContext(Protocol):
    """What the secrets policy needs to know of a process's settings."""

    @property
    def mode(self) -> str: ...

    @property
    def data_dir(self) -> Path: ...


def require_secret(name: str, value: str | None, context: RunContext) -> str:
    """``value`` (the environment variable ``name``), or by the policy above.

    Raises ``MissingSecret`` outside the embedded mode when it is empty.
    """
    if value and value.strip():
        return value.strip()
    if context.mode != EMBEDDED:
        raise MissingSecret(
            f"{name} is not set: outside the embedded mode (BP_MODE={context.mode}) every secret comes "
            "from the environment, the same in every process (e.g. openssl rand -hex 32)"
        )
    return _kept_secret(name, context.data_dir / "secrets")


def _kept_secret(name: str, directory: Path) -> str:
    """The embedded mode's secret ``name``: read it, or generate and keep it (0600) once."""
    path = directory / name
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Written whole under a temporary name, then linked into place: a process racing
    # this one either wins with its own value or reads this one, never half of it.
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.")  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        else:
            log.warning("%s is not set; generated one for the embedded mode in %s", name, path)
    finally:
        os.unlink(temporary)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise MissingSecret(f"{path} is empty; delete it or set {path.name}")
    return value


@dataclass(frozen=True)
class ServiceSettings:
    """What every service needs to run; services add their own fields in ``extra``."""

    service_name: str
    # URLs may carry passwords; secrets and the service's own settings (``extra``, which
    # holds keys such as IDENTITY_CODE_HASH_KEY) stay out of the repr, hence out of logs.
    database_url: str = field(repr=False)
    bus_url: str = field(repr=False)
    exchange: str
    queue_prefix: str
    public_url: str
    issuer: str
    jwks_url: str
    audience: str
    log_level: str = "INFO"
    log_json: bool = True
    outbox_poll_interval: float = 1.0
    consumer_max_attempts: int = 5
    # Events per consumer transaction, and how long the first of a batch waits for more (seconds).
    consumer_batch: int = 100
    consumer_batch_wait: float = 0.05
    consumer_batch_idle: float = 0.001
    # Sent outbox rows and inbox rows older than this are deleted by the retention worker.
    message_retention_days: int = 30
    secret_key: str = field(default="", repr=False)
    behind_proxy: bool = False
    # BP_MODE and BP_DATA_DIR: what the secrets policy (``require_secret``) goes by.
    mode: str = DISTRIBUTED
    data_dir: Path = Path("var")
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_memory_bus(self) -> bool:
        return self.bus_url.startswith("memory")

    def required_secret_key(self) -> str:
        """This service's ``<SERVICE>_SECRET_KEY`` (or ``BP_SECRET_KEY``), by the secrets policy."""
        return require_secret(f"{env_prefix(self.service_name)}_SECRET_KEY", self.secret_key, self)

    def __post_init__(self) -> None:
        if self.consumer_batch < 1:
            raise ValueError(f"BP_CONSUMER_BATCH must be at least 1, not {self.consumer_batch}")
        if self.consumer_batch_idle < 0:
            raise ValueError(f"BP_CONSUMER_BATCH_IDLE must not be negative, not {self.consumer_batch_idle}")
        if self.consumer_batch_wait < 0:
            raise ValueError(f"BP_CONSUMER_BATCH_WAIT must not be negative, not {self.consumer_batch_wait}")

    @classmethod
    def from_env(cls, service_name: str, env: Mapping[str, str] | None = None) -> ServiceSettings:
        env = os.environ if env is None else env
        prefix = env_prefix(service_name)
        public_url = env.get("BP_PUBLIC_URL", "http://127.0.0.1:8080").rstrip("/")
        issuer = env.get("BP_ISSUER", f"{public_url}/auth").rstrip("/")
        default_db = f"sqlite:///{data_dir(env) / (service_name.replace('-', '_') + '.db')}"
        extra = {key[len(prefix) + 1 :]: value for key, value in env.items() if key.startswith(prefix + "_")}
        return cls(
            service_name=service_name,
            database_url=env.get(f"{prefix}_DATABASE_URL", default_db),
            bus_url=env.get("BP_BUS_URL", "memory://"),
            exchange=env.get("BP_EXCHANGE", "bildungsportal.events"),
            queue_prefix=env.get("BP_QUEUE_PREFIX", ""),
            public_url=public_url,
            issuer=issuer,
            # Services fetch the JWKS from identity directly, not through the edge.
            jwks_url=env.get("BP_JWKS_URL", f"{issuer}/jwks"),
            audience=env.get("BP_AUDIENCE", "bildungsportal"),
            log_level=env.get("BP_LOG_LEVEL", "INFO"),
            log_json=env_bool(env, "BP_LOG_JSON", True),
            outbox_poll_interval=env_float(env, "BP_OUTBOX_POLL_INTERVAL", 1.0),
            consumer_max_attempts=env_int(env, "BP_CONSUMER_MAX_ATTEMPTS", 5),
            consumer_batch=env_int(env, "BP_CONSUMER_BATCH", 100),
            consumer_batch_wait=env_float(env, "BP_CONSUMER_BATCH_WAIT", 0.05),
            consumer_batch_idle=env_float(env, "BP_CONSUMER_BATCH_IDLE", 0.001),
            message_retention_days=env_int(env, "BP_MESSAGE_RETENTION_DAYS", 30),
            secret_key=env.get(f"{prefix}_SECRET_KEY", env.get("BP_SECRET_KEY", "")),
            behind_proxy=env_bool(env, "BP_BEHIND_PROXY", False),
            mode=run_mode(env),
            data_dir=data_dir(env),
            extra=extra,
        )
