"""Wires identity: its typed runtime, built from settings with explicit dependencies.

The bootstrap never imports the entrypoints; they import it. The authlib
authorization server is an entrypoint concern, built by ``build_app`` from the
runtime's parts (keys, hasher, settings, unit of work).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from chassis.config import ServiceSettings
from chassis.db import make_engine
from chassis.demo import DEMO_ACCOUNTS, DEMO_COMPANY
from chassis.service import ServiceRuntime, Worker, build_runtime
from identity import config
from identity.adapters import orm
from identity.adapters.codes import KeyedCodeHasher
from identity.adapters.keys import KeyStore, RotationPolicy, RotationReport
from identity.adapters.passwords import Argon2Hasher
from identity.adapters.repository import FIRST_APPRENTICE_NUMBER
from identity.adapters.tokens import RevocationCheckingTokenValidator
from identity.config import IdentityConfig
from identity.domain.commands import RegisterClient
from identity.domain.company_access import CompanyAccess
from identity.domain.invitations import InvitationSettings
from identity.domain.model import Account, AccountStatus, CodeHasher, PasswordHasher
from identity.domain.queries import IsAccessTokenRevoked
from identity.service_layer import access_data, grants, handlers, registration
from identity.service_layer.handlers import TimingShield
from identity.service_layer.links import AccountLinks
from identity.service_layer.unit_of_work import IdentityUnitOfWork

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# identity's use cases, one module per area (chassis.messagebus.collect_use_cases).
USE_CASES = (handlers, registration, access_data, grants)
# The page "Zugang einrichten": an invitation mail's link is the issuer + this path + the token.
INVITATION_PATH = "/invitation/"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a grant type URI

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class IdentityRuntime(ServiceRuntime[IdentityUnitOfWork]):
    """The chassis runtime plus identity's own parts; migrating also registers the OIDC clients."""

    config: IdentityConfig
    hasher: PasswordHasher
    code_hasher: CodeHasher
    shield: TimingShield
    keys: KeyStore
    # The handlers' clock (bound to them by the bootstrap), for the entrypoints that read
    # through an open unit of work rather than the bus (the login session at /authorize).
    clock: Callable[[], datetime] = utc_now

    def migrate(self) -> None:
        super().migrate()
        self.register_clients()

    def rotation_policy(self, publish_lead: timedelta | None = None) -> RotationPolicy:
        lifetime = self.config.access_token_lifetime  # access and ID tokens alike
        return RotationPolicy(
            publish_lead=self.config.signing_key_publish_lead if publish_lead is None else publish_lead,
            token_lifetime=timedelta(seconds=lifetime),
        )

    def workers(self) -> list[Worker]:
        if self.config.signing_key_file:
            return super().workers()  # the secret store rotates the key
        return [*super().workers(), Worker("key-rotation", self.run_key_rotation)]

    def run_key_rotation(self, stop: threading.Event) -> None:
        """Rotate the signing key when it is older than ``IDENTITY_SIGNING_KEY_ROTATION_DAYS`` and
        remove retired keys; several processes may run this (the guard row serialises them)."""
        while not stop.wait(KEY_ROTATION_CHECK_SECONDS):
            try:
                rotate_if_due(self.keys, self.rotation_policy(), self.config.signing_key_rotation_days)
            except SQLAlchemyError:
                log.warning("key rotation: the database is not reachable; trying again later", exc_info=True)

    def register_clients(self) -> None:
        """Register (or update) the portal's browser UI as OIDC client; idempotent."""
        web = self.config.web_client
        # IntegrityError: another worker inserted it at the same moment; its row is identical.
        with contextlib.suppress(IntegrityError):
            self.bus.handle(
                RegisterClient(
                    client_id=web.client_id,
                    secret=web.client_secret,
                    name="Bildungsportal (Browser-Oberfläche)",
                    redirect_uris=(web.redirect_uri,),
                    post_logout_redirect_uris=(web.post_logout_redirect_uri,),
                    scope=web.scope,
                    # The token exchange narrows a login token to one context (service_layer/grants.py).
                    grant_types=("authorization_code", "refresh_token", TOKEN_EXCHANGE_GRANT),
                )
            )


KEY_ROTATION_CHECK_SECONDS = 3600.0


def rotate_if_due(keys: KeyStore, policy: RotationPolicy, rotation_days: int) -> RotationReport:
    """Publish a successor once the signing key is ``rotation_days`` old; always remove retired keys."""
    now = keys.now()
    current = keys.ring(force=True).signing(now)
    due = (
        rotation_days > 0
        and current is not None
        and now - current.signs_from >= timedelta(days=rotation_days)
    )
    report = keys.rotate(policy, add=due)
    if report.added or report.deleted:
        log.info("signing keys: published %s, removed %s", report.added, ", ".join(report.deleted) or "none")
    return report


def bootstrap(
    settings: ServiceSettings | None = None,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> IdentityRuntime:
    orm.start_mappers()
    settings = settings or config.settings()
    identity_config = IdentityConfig.from_settings(settings)
    cost = identity_config.argon2
    # Changing the cost takes effect for stored hashes at each person's next login.
    hasher = Argon2Hasher(time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism)
    # Activation codes: HMAC-SHA256 under IDENTITY_CODE_HASH_KEY (required outside the
    # embedded mode, so every identity process refuses to start without it); codes issued
    # before, hashed with argon2id, still verify while IDENTITY_ACCEPT_ARGON2_CODES is on.
    code_hash = identity_config.code_hash
    key, previous_keys = code_hash.keys()
    code_hasher = KeyedCodeHasher(
        key, previous_keys=previous_keys, legacy=hasher if code_hash.accept_argon2 else None
    )
    shield = TimingShield.for_hashers(hasher, code_hasher)
    engine = engine or make_engine(settings.database_url)
    dependencies = {
        "hasher": hasher,
        "code_hasher": code_hasher,
        "clock": clock,
        "shield": shield,
        "policy": identity_config.lockout,
        "activation_valid_for": identity_config.activation_valid_for,
        "password_reset_valid_for": identity_config.password_reset_valid_for,
        "login_session_lifetime": identity_config.login_session_lifetime,
        "registration_valid_for": identity_config.registration_valid_for,
        "links": AccountLinks(settings.issuer),
        "company_code_valid_for": identity_config.company_code_valid_for,
        "invitation_settings": InvitationSettings(
            valid_for=identity_config.invitation_valid_for,
            link_prefix=settings.issuer + INVITATION_PATH,
        ),
    }
    keys = KeyStore(engine, signing_key_file=identity_config.signing_key_file, clock=clock)
    runtime = build_runtime(
        IdentityRuntime,
        settings,
        metadata=orm.metadata,
        migrations_dir=MIGRATIONS_DIR,
        uow_class=IdentityUnitOfWork,
        use_cases=USE_CASES,
        handler_dependencies=dependencies,
        engine=engine,
        config=identity_config,
        hasher=hasher,
        code_hasher=code_hasher,
        shield=shield,
        keys=keys,
        clock=clock,
    )
    # identity checks its own tokens with its own key, not over HTTP, and sees revocation.
    bus = runtime.bus
    runtime.token_validator = RevocationCheckingTokenValidator(
        keys.public_key_set,
        issuer=settings.issuer,
        audience=settings.audience,
        is_revoked=lambda token: bool(bus.handle(IsAccessTokenRevoked(token))),
    )
    return runtime


def seed_demo(runtime: IdentityRuntime) -> None:
    """The demo accounts of ``chassis.demo`` (active, fixed ids) and the portal-web client. Idempotent."""
    with runtime.uow_factory() as uow:
        missing = [demo for demo in DEMO_ACCOUNTS if uow.accounts.get(uuid.UUID(demo.account_id)) is None]
    # argon2 outside the transaction, as everywhere.
    hashes = {demo.account_id: runtime.hasher.hash(demo.password) for demo in missing}
    now = datetime.now(UTC)
    with runtime.uow_factory() as uow:
        for demo in missing:
            uow.accounts.add(
                Account(
                    id=uuid.UUID(demo.account_id),
                    email=demo.email,
                    name=demo.name,
                    status=AccountStatus.ACTIVE,
                    apprentice_number=demo.apprentice_number,
                    password_hash=hashes[demo.account_id],
                    roles=list(demo.roles),
                    company_roles={number: list(roles) for number, roles in demo.company_roles},
                    created_at=now,
                    activated_at=now,
                )
            )
        uow.apprentice_numbers.ensure_at_least(FIRST_APPRENTICE_NUMBER)
        # The demo company as if registered before access letters existed: no code yet, but the
        # chamber can issue one on request (Zugangsdaten erneut anfordern).
        company = DEMO_COMPANY
        if uow.company_accesses.get(company["company_number"]) is None:
            uow.company_accesses.add(
                CompanyAccess(
                    company["company_number"],
                    company["name"],
                    company["street"],
                    company["postal_code"],
                    company["city"],
                )
            )
        uow.commit()
    runtime.register_clients()
