"""``bp-identity``: migrate, worker, seed-demo, the dead-letter tools, the signing keys and the
registration of further OIDC clients."""

from __future__ import annotations

import json
import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

import click

from chassis.cli import service_cli
from identity.bootstrap import IdentityRuntime, bootstrap, seed_demo
from identity.domain.commands import RegisterClient
from identity.entrypoints.oauth_server import SCOPES

CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


@click.command("rotate-keys")
@click.option(
    "--publish-minutes",
    type=click.IntRange(min=0),
    default=None,
    help="Minutes the new key is in the JWKS before it signs "
    "(default IDENTITY_SIGNING_KEY_PUBLISH_MINUTES, 15; 0 only where no validator caches the JWKS).",
)
@click.option("--prune-only", is_flag=True, help="Only remove retired keys and set retirement times.")
@click.pass_obj
def rotate_keys(runtime: IdentityRuntime, publish_minutes: int | None, prune_only: bool) -> None:
    """Publish a new token signing key, which signs after the publication lead; the keys it
    supersedes stay in the JWKS until every token they signed has expired. Removes retired keys.

    Idempotent: while a published key waits to sign, no further key is added."""
    lead = None if publish_minutes is None else timedelta(minutes=publish_minutes)
    try:
        report = runtime.keys.rotate(runtime.rotation_policy(lead), add=not prune_only)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error
    if report.added:
        click.echo(f"published key {report.added}")
    elif report.pending:
        click.echo(f"key {report.pending} is already published and waits to sign; none added")
    for kid in report.retiring:
        click.echo(f"key {kid} retires once its tokens have expired")
    for kid in report.deleted:
        click.echo(f"removed retired key {kid}")
    _print_keys(runtime)


@click.command("keys")
@click.pass_obj
def list_keys(runtime: IdentityRuntime) -> None:
    """Show the token signing keys with their state (published, signing, retiring, retired)."""
    _print_keys(runtime)


def _print_keys(runtime: IdentityRuntime) -> None:
    for key in runtime.keys.describe():
        click.echo(
            f"{key['kid']}  {key['state']:<10}  published {key['published_from']}  "
            f"signs {key['signs_from']}  retires {key['retire_at'] or '-'}"
        )


def _check_redirect_uri(uri: str) -> str:
    """Absolute, https (http only to the loopback, RFC 8252 §7.3), no fragment, no wildcard."""
    parts = urlsplit(uri)
    loopback = parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS
    if not (parts.scheme == "https" or loopback) or not parts.netloc or parts.fragment or "*" in uri:
        raise click.BadParameter(
            f"{uri!r}: an absolute https URI without fragment or wildcard "
            "(http only for localhost), matched exactly"
        )
    return uri


@click.command("register-client")
@click.option("--client-id", required=True, help="The client's id (lower case, 3-64 of a-z 0-9 . _ -).")
@click.option("--name", required=True, help="The application's name, as people know it.")
@click.option(
    "--redirect-uri", "redirect_uris", multiple=True, required=True, help="Exact redirect URI (repeatable)."
)
@click.option(
    "--post-logout-redirect-uri",
    "post_logout_redirect_uris",
    multiple=True,
    help="Exact URI to return to after logout (repeatable).",
)
@click.option(
    "--scope",
    default="openid profile email",
    show_default=True,
    help=f"Scopes the client may ask for, of: {' '.join(SCOPES)}.",
)
@click.option("--no-refresh", is_flag=True, help="Issue no refresh tokens to this client.")
@click.option("--json", "as_json", is_flag=True, help="Print the credentials as JSON.")
@click.pass_obj
def register_client(
    runtime: IdentityRuntime,
    client_id: str,
    name: str,
    redirect_uris: tuple[str, ...],
    post_logout_redirect_uris: tuple[str, ...],
    scope: str,
    no_refresh: bool,
    as_json: bool,
) -> None:
    """Register one of the chamber's applications as OIDC client, or replace its registration
    and secret. Authorization code with PKCE S256 only; no implicit or password grant.

    A new client secret is generated and printed once: identity keeps only its SHA-256.
    """
    if not CLIENT_ID.fullmatch(client_id):
        raise click.BadParameter("lower case, 3-64 of a-z 0-9 . _ -", param_hint="--client-id")
    if client_id == runtime.config.web_client.client_id:
        raise click.BadParameter(
            "the portal's own client is registered by migrate from BP_WEB_CLIENT_*", param_hint="--client-id"
        )
    scopes = scope.split()
    if "openid" not in scopes or not set(scopes) <= set(SCOPES):
        raise click.BadParameter(f"'openid' and others of: {' '.join(SCOPES)}", param_hint="--scope")
    for uri in (*redirect_uris, *post_logout_redirect_uris):
        _check_redirect_uri(uri)
    secret = secrets.token_urlsafe(32)
    runtime.bus.handle(
        RegisterClient(
            client_id=client_id,
            secret=secret,
            name=name,
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=post_logout_redirect_uris,
            scope=" ".join(scopes),
            grant_types=("authorization_code",) if no_refresh else ("authorization_code", "refresh_token"),
        )
    )
    issuer = runtime.settings.issuer
    if as_json:
        click.echo(json.dumps({"client_id": client_id, "client_secret": secret, "issuer": issuer}))
        return
    click.echo(f"client_id:     {client_id}")
    click.echo(f"client_secret: {secret}")
    click.echo(f"issuer:        {issuer}  (discovery: {issuer}/.well-known/openid-configuration)")
    click.echo("The secret is shown only now; store it in the application's secret store.")


cli = service_cli(bootstrap, seed_demo=seed_demo, extra_commands=(rotate_keys, list_keys, register_client))
