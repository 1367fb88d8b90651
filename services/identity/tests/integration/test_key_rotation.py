"""Signing-key rotation: pre-publication, overlap and retirement, at identity and at another
service (chassis' JwksClient fetching identity's JWKS over HTTP), across processes."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner
from joserfc import jwt
from joserfc.jwk import RSAKey

from chassis.auth import JwksClient, TokenValidator
from chassis.demo import demo_account
from chassis.migrations import alembic_config
from chassis.problems import ProblemError
from identity.adapters.keys import KeyStore
from identity.bootstrap import rotate_if_due
from identity.entrypoints.cli import rotate_keys

LEAD = timedelta(minutes=15)


def _kid(token: str) -> str:
    header = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


def test_old_key_validates_during_overlap_and_not_after_retirement(live_identity, http_code_flow) -> None:
    live, runtime = live_identity, live_identity.runtime
    http = requests.Session()

    def _login_tokens(live: Any, http: requests.Session) -> dict[str, Any]:
        return http_code_flow(live, http, demo_account("apprentice"))

    service = TokenValidator(
        JwksClient(f"{live.issuer}/jwks", min_refresh=0).key_set,
        issuer=live.issuer,
        audience="bildungsportal",
    )

    def at_identity(token: str) -> requests.Response:
        return http.get(f"{live.issuer}/accounts/me", headers={"Authorization": f"Bearer {token}"})

    old = _login_tokens(live, http)["access_token"]
    old_kid = _kid(old)
    assert service.validate(old).subject == demo_account("apprentice").account_id  # JWKS now cached

    # Step 1: the successor is published, the old key still signs.
    report = runtime.keys.rotate(runtime.rotation_policy(LEAD))
    assert report.added and report.retiring == (old_kid,)
    published = {key["kid"] for key in http.get(f"{live.issuer}/jwks").json()["keys"]}
    assert published == {old_kid, report.added}
    assert _kid(_login_tokens(live, http)["access_token"]) == old_kid
    assert runtime.keys.rotate(runtime.rotation_policy(LEAD)).added is None  # idempotent while waiting

    # Step 2: the lead has passed; the new key signs, the old one still validates.
    live.clock.advance(seconds=LEAD.total_seconds() + 1)
    runtime.keys.reload()
    new = _login_tokens(live, http)["access_token"]
    assert _kid(new) == report.added
    for token in (old, new):
        assert at_identity(token).status_code == 200
        assert service.validate(token).subject == demo_account("apprentice").account_id
    # Another identity process reads the same rows and signs with the same key.
    assert KeyStore(runtime.engine, clock=live.clock).kid == report.added

    # Step 3: every token of the old key has expired: it leaves the JWKS and is deleted.
    live.clock.advance(seconds=runtime.config.access_token_lifetime + 61)
    pruned = runtime.keys.rotate(runtime.rotation_policy(LEAD), add=False)
    assert pruned.deleted == (old_kid,)
    assert [key["kid"] for key in http.get(f"{live.issuer}/jwks").json()["keys"]] == [report.added]
    with runtime.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT kid FROM signing_keys")).scalars().all() == [report.added]
    refused = at_identity(old)
    assert refused.status_code == 401
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    # A service whose JWKS cache has expired (ttl) no longer knows the old key either.
    fresh = TokenValidator(
        JwksClient(f"{live.issuer}/jwks").key_set, issuer=live.issuer, audience="bildungsportal"
    )
    with pytest.raises(ProblemError) as refusal:
        fresh.validate(old)
    assert refusal.value.status == 401
    assert fresh.validate(new).subject == demo_account("apprentice").account_id


def test_a_token_of_an_unknown_key_is_401_problem_json(live_identity) -> None:
    live = live_identity
    foreign = RSAKey.generate_key(2048, parameters={"kid": uuid.uuid4().hex})
    account = demo_account("apprentice")
    claims = {"iss": live.issuer, "aud": "bildungsportal", "sub": account.account_id, "exp": 4102444800}
    token = jwt.encode({"alg": "RS256", "kid": foreign.kid}, claims, foreign)
    for path in ("/accounts/me", "/userinfo"):
        response = requests.get(
            f"{live.issuer}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert response.status_code == 401, path
    assert (
        requests.get(f"{live.issuer}/accounts/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        .headers["Content-Type"]
        .startswith("application/problem+json")
    )
    client = JwksClient(f"{live.issuer}/jwks", min_refresh=0)
    service = TokenValidator(client.key_set, issuer=live.issuer, audience="bildungsportal")
    with pytest.raises(ProblemError) as refusal:
        service.validate(token)
    assert refusal.value.status == 401


def test_the_validator_refetches_on_an_unknown_kid_at_most_every_min_refresh(live_identity) -> None:
    live = live_identity
    fetches: list[str] = []
    real_get = requests.get

    def counting_get(url: str, **kwargs: Any) -> requests.Response:
        fetches.append(url)
        return real_get(url, **kwargs)

    client = JwksClient(f"{live.issuer}/jwks", min_refresh=3600)
    service = TokenValidator(client.key_set, issuer=live.issuer, audience="bildungsportal")
    foreign = RSAKey.generate_key(2048, parameters={"kid": uuid.uuid4().hex})
    token = jwt.encode(
        {"alg": "RS256", "kid": foreign.kid},
        {"iss": live.issuer, "aud": "bildungsportal", "sub": "x", "exp": 4102444800},
        foreign,
    )
    requests.get = counting_get  # type: ignore[assignment]
    try:
        for _ in range(20):
            with pytest.raises(ProblemError):
                service.validate(token)
    finally:
        requests.get = real_get  # type: ignore[assignment]
    # A flood of tokens with unknown kids costs identity one fetch, not one each.
    assert len(fetches) == 1


def test_rotate_keys_command(live_identity) -> None:
    runtime = live_identity.runtime
    before = runtime.keys.kid
    result = CliRunner().invoke(rotate_keys, ["--publish-minutes", "15"], obj=runtime)
    assert result.exit_code == 0, result.output
    assert "published key" in result.output and f"key {before} retires" in result.output
    assert "signing" in result.output and "published " in result.output
    again = CliRunner().invoke(rotate_keys, [], obj=runtime)
    assert "already published and waits to sign" in again.output
    assert runtime.keys.kid == before  # the successor signs only after the lead


def test_migration_keeps_the_key_of_before(make_runtime) -> None:
    """A database from before the key set: its one key moves into signing_keys and keeps signing."""
    runtime = make_runtime()
    kid = runtime.keys.kid
    config = alembic_config(runtime.migrations_dir, runtime.settings.database_url)
    command.downgrade(config, "0004")
    with runtime.engine.connect() as conn:
        value = conn.execute(
            sa.text("SELECT value FROM server_secrets WHERE name = 'access-token-signing-key'")
        ).scalar_one()
    assert json.loads(value)["kid"] == kid
    command.upgrade(config, "head")
    assert KeyStore(runtime.engine).kid == kid


def test_the_rotation_worker_rotates_a_key_when_it_is_due_and_prunes_retired_ones(live_identity) -> None:
    runtime, clock = live_identity.runtime, live_identity.clock
    first = runtime.keys.kid
    policy = runtime.rotation_policy(LEAD)
    assert rotate_if_due(runtime.keys, policy, rotation_days=90).added is None  # young key
    assert rotate_if_due(runtime.keys, policy, rotation_days=0).added is None  # only by command
    clock.advance(days=90, seconds=1)
    report = rotate_if_due(runtime.keys, policy, rotation_days=90)
    assert report.added and report.retiring == (first,)
    clock.advance(seconds=LEAD.total_seconds() + runtime.config.access_token_lifetime + 61)
    assert rotate_if_due(runtime.keys, policy, rotation_days=90).deleted == (first,)
    assert runtime.keys.kid == report.added
    assert [worker.name for worker in runtime.workers()][-1] == "key-rotation"
