"""identity's tables. Repositories map rows to domain objects explicitly (adapters/repository.py)."""

from __future__ import annotations

import sqlalchemy as sa

from chassis.events.tables import add_messaging_tables

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Timestamp = sa.DateTime(timezone=True)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # Stored lower-case; login by e-mail is case-insensitive.
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("username", sa.String(100), nullable=True, unique=True),
    sa.Column("apprentice_number", sa.String(8), nullable=True, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("company_roles", sa.JSON, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", Timestamp, nullable=True),
    # Only the argon2id hash of the one-time activation code is kept.
    sa.Column("activation_code_hash", sa.String(255), nullable=True),
    sa.Column("activation_expires_at", Timestamp, nullable=True),
    sa.Column("activation_used_at", Timestamp, nullable=True),
    # The one open reset link: SHA-256 of its token (unique, looked up by it) and expiry.
    sa.Column("password_reset_token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("password_reset_expires_at", Timestamp, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("activated_at", Timestamp, nullable=True),
    sa.Column("last_login_at", Timestamp, nullable=True),
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
    sa.Column("updated_at", Timestamp, nullable=False),
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
    sa.Column("expires_at", Timestamp, nullable=False),
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
    sa.Column("access_expires_at", Timestamp, nullable=False),
    sa.Column("refresh_token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("refresh_expires_at", Timestamp, nullable=True),
    sa.Column("issued_at", Timestamp, nullable=False),
    sa.Column("access_revoked_at", Timestamp, nullable=True),
    sa.Column("refresh_revoked_at", Timestamp, nullable=True),
)

# Secrets shared by every worker: the token signing key and the session key.
server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

outbox, inbox = add_messaging_tables(metadata)
