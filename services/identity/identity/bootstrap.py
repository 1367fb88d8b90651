"""Wiring: ``bootstrap()`` builds identity's runtime; ``seed_demo()`` puts in the demo accounts."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from pathlib import Path

from chassis.auth import TokenValidator
from chassis.config import ServiceSettings
from chassis.demo import DEMO_ACCOUNTS
from chassis.service import ServiceRuntime, build_runtime
from identity import config
from identity.adapters import orm
from identity.adapters.keys import KeyStore
from identity.adapters.passwords import Argon2Hasher
from identity.adapters.repository import FIRST_APPRENTICE_NUMBER
from identity.domain.model import Account, AccountStatus
from identity.entrypoints.app import build_app
from identity.entrypoints.oauth_server import IdentityContext, register_clients
from identity.service_layer.handlers import make_handlers
from identity.service_layer.services import TimingShield
from identity.service_layer.unit_of_work import IdentityUnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"


class IdentityRuntime(ServiceRuntime):
    """The chassis runtime, plus: migrating also registers the OIDC clients."""

    def migrate(self) -> None:
        super().migrate()
        register_clients(self.extras["identity"])


def bootstrap(settings: ServiceSettings | None = None) -> IdentityRuntime:
    settings = settings or config.settings()
    identity_config = config.IdentityConfig.from_settings(settings)
    cost = identity_config.argon2
    # Changing the cost takes effect for stored hashes at each person's next login.
    hasher = Argon2Hasher(time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism)
    base = build_runtime(
        settings,
        metadata=orm.metadata,
        migrations_dir=MIGRATIONS,
        uow_class=IdentityUnitOfWork,
        app_builder=build_app,
        handlers=make_handlers(hasher=hasher, activation_valid_for=identity_config.activation_valid_for),
        outbox_inbox=(orm.outbox, orm.inbox),
    )
    runtime = IdentityRuntime(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)})
    keys = KeyStore(runtime.engine, signing_key_file=identity_config.signing_key_file)
    runtime.extras["identity"] = IdentityContext(
        issuer=settings.issuer,
        audience=settings.audience,
        public_url=settings.public_url,
        config=identity_config,
        keys=keys,
        uow_factory=runtime.uow_factory,  # type: ignore[arg-type]
        hasher=hasher,
        shield=TimingShield.for_hasher(hasher),
    )
    # identity checks its own tokens with its own key, not over HTTP.
    runtime.token_validator = TokenValidator(
        keys.public_key_set, issuer=settings.issuer, audience=settings.audience
    )
    return runtime


def seed_demo(runtime: ServiceRuntime) -> None:
    """The demo accounts of ``chassis.demo`` (active, fixed ids) and the portal-web client."""
    ident: IdentityContext = runtime.extras["identity"]
    now = datetime.now(UTC)
    with ident.uow_factory() as uow:
        for demo in DEMO_ACCOUNTS:
            account_id = uuid.UUID(demo.account_id)
            if uow.accounts.get(account_id) is not None:
                continue
            uow.accounts.add(
                Account(
                    id=account_id,
                    email=demo.email,
                    name=demo.name,
                    status=AccountStatus.ACTIVE,
                    apprentice_number=demo.apprentice_number,
                    password_hash=ident.hasher.hash(demo.password),
                    roles=list(demo.roles),
                    company_roles={number: list(roles) for number, roles in demo.company_roles},
                    created_at=now,
                    activated_at=now,
                )
            )
        uow.apprentice_numbers.ensure_at_least(FIRST_APPRENTICE_NUMBER)
        uow.commit()
    register_clients(ident)
