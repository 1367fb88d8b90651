"""identity's tables and their imperative mapping onto the domain and OAuth classes."""

from __future__ import annotations

import enum
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import composite, registry

from chassis.db import UtcDateTime, new_metadata
from chassis.events.tables import add_messaging_tables
from identity.adapters.access_tables import add_access_tables, map_access_tables
from identity.adapters.oauth_models import AuthorizationCode, OAuthClient, Token
from identity.domain.audit import AuditRecord
from identity.domain.deputies import Deputyship, DeputyshipStatus, RepresentedKind
from identity.domain.grants import CompanyService
from identity.domain.model import (
    Account,
    AccountStatus,
    Activation,
    LoginSession,
    PasswordReset,
    Registration,
)


class UuidText(sa.TypeDecorator[uuid.UUID]):
    """A UUID kept as its 36-character text (identity's ids have always been stored so)."""

    impl = sa.String(36)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(uuid.UUID(str(value)))

    def process_result_value(self, value: Any, dialect: Dialect) -> uuid.UUID | None:
        return None if value is None else uuid.UUID(value)


class AccountStatusText(sa.TypeDecorator[AccountStatus]):
    """``AccountStatus`` by its value (``active``…), in a plain string column with a CHECK."""

    impl = sa.String(20)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else AccountStatus(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> AccountStatus | None:
        return None if value is None else AccountStatus(value)


class EnumText(sa.TypeDecorator[Any]):
    """A ``StrEnum`` by its value, in a plain string column (with a CHECK beside it)."""

    impl = sa.String(20)
    cache_ok = True

    def __init__(self, enum_class: type[enum.StrEnum]) -> None:
        super().__init__()
        self.enum_class = enum_class

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.enum_class(value)


metadata = new_metadata()
mapper_registry = registry(metadata=metadata)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", UuidText(), primary_key=True),
    # Stored lower-case; login by e-mail is case-insensitive.
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("username", sa.String(100), nullable=True, unique=True),
    sa.Column("apprentice_number", sa.String(8), nullable=True, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("status", AccountStatusText(), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("company_roles", sa.JSON, nullable=False),
    # {company_number: [exam_registration, ...]} (domain/grants.py).
    sa.Column("service_rights", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", UtcDateTime(), nullable=True),
    # Only a hash of the one-time activation code is kept: keyed (HMAC-SHA256), or argon2id from before.
    sa.Column("activation_code_hash", sa.String(255), nullable=True),
    sa.Column("activation_expires_at", UtcDateTime(), nullable=True),
    sa.Column("activation_used_at", UtcDateTime(), nullable=True),
    # The one open reset link: SHA-256 of its token (unique, looked up by it) and expiry.
    sa.Column("password_reset_token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("password_reset_expires_at", UtcDateTime(), nullable=True),
    # The open confirmation link of a self-registration: SHA-256 of its token and expiry.
    sa.Column("registration_token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("registration_expires_at", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("activated_at", UtcDateTime(), nullable=True),
    sa.Column("last_login_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('pending_activation', 'active', 'locked')", name="status"),
)

# One row per counter; UPDATE ... RETURNING hands out numbers without gaps or races.
counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("next_value", sa.BigInteger, nullable=False),
)

oauth_clients = sa.Table(
    "oauth_clients",
    metadata,
    sa.Column("client_id", sa.String(100), primary_key=True),
    # SHA-256 of the secret: client secrets are long random strings, not passwords.
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("redirect_uris", sa.JSON, nullable=False),
    sa.Column("post_logout_redirect_uris", sa.JSON, nullable=False),
    sa.Column("scope", sa.String(500), nullable=False),
    sa.Column("grant_types", sa.JSON, nullable=False),
    sa.Column("token_endpoint_auth_method", sa.String(50), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

authorization_codes = sa.Table(
    "authorization_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(100), nullable=False),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("redirect_uri", sa.String(500), nullable=False),
    sa.Column("scope", sa.String(500), nullable=False),
    sa.Column("nonce", sa.String(255), nullable=True),
    sa.Column("code_challenge", sa.String(128), nullable=False),
    sa.Column("code_challenge_method", sa.String(10), nullable=False),
    sa.Column("auth_time", sa.BigInteger, nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Index("ix_authorization_codes_client_nonce", "client_id", "nonce"),
)

oauth_tokens = sa.Table(
    "oauth_tokens",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # All tokens rotated from one authorization share a family; reuse of a
    # rotated refresh token revokes the whole family (RFC 9700 §4.14.2).
    sa.Column("family_id", sa.String(36), nullable=False, index=True),
    sa.Column("client_id", sa.String(100), nullable=False),
    sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("scope", sa.String(500), nullable=False),
    sa.Column("access_token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("access_expires_at", UtcDateTime(), nullable=False),
    sa.Column("refresh_token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("refresh_expires_at", UtcDateTime(), nullable=True),
    sa.Column("issued_at", UtcDateTime(), nullable=False),
    sa.Column("access_revoked_at", UtcDateTime(), nullable=True),
    sa.Column("refresh_revoked_at", UtcDateTime(), nullable=True),
    # SHA-256 of the authorization code the family was issued for (on the family's
    # first row only): a replayed code revokes the family (RFC 6749 §4.1.2).
    sa.Column("authorization_code_hash", sa.String(64), nullable=True, index=True),
)

# identity's login sessions (who is logged in at the provider). The cookie carries
# a random session id; only its SHA-256 is kept, so a database leak logs nobody in.
# Logging out deletes the row: a saved copy of the cookie is dead from then on.
login_sessions = sa.Table(
    "login_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("account_id", UuidText(), sa.ForeignKey("accounts.id"), nullable=False, index=True),
    sa.Column("auth_time", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
)

# Secrets every worker shares; the row of the signing key guards the key set (adapters/keys.py).
server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

# The audit log (identity.domain.audit): append-only; PostgreSQL refuses UPDATE and DELETE
# (migration 0005's trigger). No foreign key: a record outlives what it is about.
audit_records = sa.Table(
    "audit_records",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("kind", sa.String(60), nullable=False),
    sa.Column("account_id", sa.Uuid(), nullable=True),
    sa.Column("actor_id", sa.Uuid(), nullable=True),
    sa.Column("on_behalf_of", sa.Uuid(), nullable=True),
    sa.Column("details", sa.JSON, nullable=False),
    # The listing's orders (newest first), with its filters in front.
    sa.Index("ix_audit_records_at", "at", "id"),
    sa.Index("ix_audit_records_account", "account_id", "at", "id"),
    sa.Index("ix_audit_records_actor", "actor_id", "at", "id"),
    sa.Index("ix_audit_records_kind", "kind", "at", "id"),
)
# Invitation links and the register's people per company (identity/adapters/access_tables.py).
access_tables = add_access_tables(metadata, UuidText())
invitations = access_tables["invitations"]
company_accesses = access_tables["company_accesses"]
access_data_requests = access_tables["access_data_requests"]
register_apprentices = access_tables["register_apprentices"]
# The services a company has switched on (Prüfungsanmeldung, ...): one row each.
company_services = sa.Table(
    "company_services",
    metadata,
    sa.Column("company_number", sa.String(20), primary_key=True),
    sa.Column("service", sa.String(50), primary_key=True),
    sa.Column("switched_on_by", sa.String(36), nullable=False),
    sa.Column("switched_on_at", UtcDateTime(), nullable=False),
)

# Deputyships ("Profil – Vertretung"): requested, approved by the chamber, removed.
deputyships = sa.Table(
    "deputyships",
    metadata,
    sa.Column("id", UuidText(), primary_key=True),
    sa.Column("kind", EnumText(RepresentedKind), nullable=False),
    sa.Column("represented_account_id", UuidText(), sa.ForeignKey("accounts.id"), nullable=True, index=True),
    sa.Column("company_number", sa.String(20), nullable=True, index=True),
    sa.Column("deputy_email", sa.String(254), nullable=False),
    sa.Column("deputy_name", sa.String(200), nullable=False),
    sa.Column("deputy_account_id", UuidText(), sa.ForeignKey("accounts.id"), nullable=True, index=True),
    sa.Column("company_roles", sa.JSON, nullable=False),
    sa.Column("status", EnumText(DeputyshipStatus), nullable=False),
    sa.Column("requested_by", UuidText(), nullable=False),
    sa.Column("requested_at", UtcDateTime(), nullable=False),
    sa.Column("decided_by", UuidText(), nullable=True),
    sa.Column("decided_at", UtcDateTime(), nullable=True),
    sa.Column("removed_by", UuidText(), nullable=True),
    sa.Column("removed_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('person', 'company')", name="kind"),
    sa.CheckConstraint("status IN ('requested', 'approved', 'rejected', 'removed')", name="status"),
    # The chamber's list of open requests, oldest first (keyset order).
    sa.Index("ix_deputyships_status_requested", "status", "requested_at", "id"),
)

# The register's head offices and branches (training.company.branch_*), and the head offices
# whose reach the chamber switched on: their roles apply to every branch.
company_branches = sa.Table(
    "company_branches",
    metadata,
    sa.Column("branch_number", sa.String(20), primary_key=True),
    sa.Column("head_office_number", sa.String(20), nullable=False, index=True),
)
head_office_reach = sa.Table(
    "head_office_reach",
    metadata,
    sa.Column("company_number", sa.String(20), primary_key=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
)

# The rotating set of token signing keys (adapters/keys.py): each is published in the JWKS
# from ``created_at``, signs from ``signs_from`` (the newest such key signs) and leaves the
# JWKS at ``retire_at``, set once a successor signs and every token it signed has expired.
signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("private_jwk", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("signs_from", UtcDateTime(), nullable=False),
    sa.Column("retire_at", UtcDateTime(), nullable=True),
)

outbox, inbox = add_messaging_tables(metadata)


def _all_none(*values: object) -> bool:
    return all(value is None for value in values)


_mapped = False


def start_mappers() -> None:
    """Map once per process; the embedded mode and tests bootstrap many times."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(
        Account,
        accounts,
        properties={
            # Value objects in the account's row; no code or no open link is None.
            "activation": composite(
                Activation,
                accounts.c.activation_code_hash,
                accounts.c.activation_expires_at,
                accounts.c.activation_used_at,
                return_none_on=_all_none,
            ),
            "password_reset": composite(
                PasswordReset,
                accounts.c.password_reset_token_hash,
                accounts.c.password_reset_expires_at,
                return_none_on=_all_none,
            ),
            "registration": composite(
                Registration,
                accounts.c.registration_token_hash,
                accounts.c.registration_expires_at,
                return_none_on=_all_none,
            ),
        },
    )
    mapper_registry.map_imperatively(LoginSession, login_sessions)
    mapper_registry.map_imperatively(AuditRecord, audit_records)
    mapper_registry.map_imperatively(CompanyService, company_services)
    mapper_registry.map_imperatively(Deputyship, deputyships)
    mapper_registry.map_imperatively(OAuthClient, oauth_clients)
    mapper_registry.map_imperatively(AuthorizationCode, authorization_codes)
    mapper_registry.map_imperatively(Token, oauth_tokens)
    map_access_tables(mapper_registry, access_tables)
    _mapped = True


__all__ = [
    "access_data_requests",
    "accounts",
    "audit_records",
    "authorization_codes",
    "company_accesses",
    "company_branches",
    "company_services",
    "counters",
    "deputyships",
    "head_office_reach",
    "inbox",
    "invitations",
    "login_sessions",
    "metadata",
    "oauth_clients",
    "oauth_tokens",
    "outbox",
    "server_secrets",
    "signing_keys",
    "start_mappers",
]
