"""Configuration from the environment only (DESIGN §2 rule 7).

Names are shared (``BP_*``) where every service needs the same value, and
prefixed with the service (``IDENTITY_DATABASE_URL``) where each service owns
its own, so that the embedded mode can run all services in one process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


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


@dataclass(frozen=True)
class ServiceSettings:
    """What every service needs to run; services add their own fields in ``extra``."""

    service_name: str
    database_url: str
    bus_url: str
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
    secret_key: str = ""
    behind_proxy: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_memory_bus(self) -> bool:
        return self.bus_url.startswith("memory")

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
            secret_key=env.get(f"{prefix}_SECRET_KEY", env.get("BP_SECRET_KEY", "")),
            behind_proxy=env_bool(env, "BP_BEHIND_PROXY", False),
            extra=extra,
        )
