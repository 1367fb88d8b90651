"""Access-token validation: every service checks tokens itself against identity's JWKS.

The edge vouches for nobody (DESIGN §2 rule 5). Keys are cached and refetched
when a token names an unknown key id, at most every ``min_refresh`` seconds.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import requests
from flask import Flask, current_app, g, request
from flask_smorest import Blueprint
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from chassis.context import actor_var
from chassis.principal import CHAMBER_ROLES, COMPANY_ROLES, Principal
from chassis.problems import ProblemError, ServiceUnavailable

__all__ = ["CHAMBER_ROLES", "COMPANY_ROLES", "Principal"]  # re-exported for callers

ALGORITHMS = ["RS256", "PS256", "ES256"]

log = logging.getLogger(__name__)


class JwksClient:
    def __init__(self, url: str, *, ttl: float = 300.0, min_refresh: float = 10.0, timeout: float = 3.0):
        self.url = url
        self.ttl = ttl
        self.min_refresh = min_refresh
        self.timeout = timeout
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def key_set(self, *, force: bool = False) -> KeySet:
        now = time.monotonic()
        with self._lock:
            stale = self._keys is None or now - self._fetched_at > self.ttl
            may_refresh = now - self._fetched_at > self.min_refresh
            if stale or (force and may_refresh):
                try:
                    response = requests.get(self.url, timeout=self.timeout)
                    response.raise_for_status()
                    self._keys = KeySet.import_key_set(response.json())
                    self._fetched_at = now
                except (requests.RequestException, ValueError) as exc:
                    if self._keys is None:
                        raise ServiceUnavailable("The identity provider's keys are not reachable.") from exc
            assert self._keys is not None
            return self._keys


class TokenValidator:
    def __init__(self, keys: Callable[..., KeySet], *, issuer: str, audience: str):
        self._keys = keys
        self.issuer = issuer
        self.audience = audience
        self._claims = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            sub={"essential": True},
            exp={"essential": True},
        )

    def validate(self, token: str) -> Principal:
        """The principal of a valid token; any other token is a 401 ``invalid_token`` problem.

        The token's shape and JOSE header are checked before any key is looked up, so that
        nothing an attacker chose reaches the JOSE library, the key set or a response header.
        """
        check_token_shape(token)
        try:
            try:
                decoded = jwt.decode(token, self._keys(), algorithms=ALGORITHMS)
            except JoseError:
                # The key may have been rotated since we cached the set.
                decoded = jwt.decode(token, self._keys(force=True), algorithms=ALGORITHMS)
            self._claims.validate(decoded.claims)
            return Principal.from_claims(decoded.claims)
        except (JoseError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            # ValueError covers UnicodeError and JSON errors; the others come from claims of
            # the wrong type (a signed token is still only as well-formed as its issuer made it).
            raise invalid_token(str(exc) or type(exc).__name__) from exc


# A compact JWS: three base64url segments, nothing else (no JWE, no unsecured tokens).
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# Header values we look at: printable ASCII without blanks (identity's key ids are hex).
_HEADER_TEXT = re.compile(r"[\x21-\x7e]{1,255}")
MAX_TOKEN_LENGTH = 8192


def check_token_shape(token: str) -> None:
    """Refuse a token that is not a compact JWS with a sane JOSE header (401 ``invalid_token``)."""
    if len(token) > MAX_TOKEN_LENGTH or not _COMPACT_JWS.fullmatch(token):
        raise invalid_token("not a compact JWS of at most 8 KiB")
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, RecursionError) as exc:  # binascii.Error, UnicodeError and JSON errors
        raise invalid_token("the JOSE header is not base64url-encoded JSON") from exc
    if not isinstance(header, dict):
        raise invalid_token("the JOSE header is not a JSON object")
    if header.get("alg") not in ALGORITHMS:
        raise invalid_token("the JOSE header names no accepted algorithm")
    if "crit" in header:
        raise invalid_token("the JOSE header asks for extensions (crit) that identity never uses")
    for name in ("kid", "typ", "cty"):
        value = header.get(name)
        if value is not None and not (isinstance(value, str) and _HEADER_TEXT.fullmatch(value)):
            raise invalid_token(f"the JOSE header's {name} is not printable ASCII")


INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'  # noqa: S105 - an RFC 6750 challenge, no secret


def invalid_token(reason: str | None = None) -> ProblemError:
    """A 401 for a token that is not valid; ``reason`` is only logged.

    The response is the same for every invalid token: a reason taken from the token (its
    ``alg`` or ``kid``, say) may hold line breaks or characters that are not Latin-1, and
    copied into ``WWW-Authenticate`` it broke the response (a 500, or a hung connection).
    """
    if reason:
        # %r escapes line breaks and other control characters; the length is bounded.
        log.info("access token refused: %r", reason[:200])
    return ProblemError(
        401,
        "Unauthorized",
        "A valid access token is required.",
        problem_type="invalid-token",
        headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE},
    )


def init_auth(app: Flask, validator: TokenValidator) -> None:
    app.extensions["token_validator"] = validator


def current_principal() -> Principal:
    principal = getattr(g, "principal", None)
    if principal is None:
        principal = authenticate()
    return principal


def authenticate() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ProblemError(
            401,
            "Unauthorized",
            "A bearer access token is required.",
            problem_type="missing-token",
            headers={"WWW-Authenticate": 'Bearer realm="bildungsportal"'},
        )
    validator: TokenValidator = current_app.extensions["token_validator"]
    principal = validator.validate(token.strip())
    g.principal = principal
    if principal.is_acting_for_someone and "actor_token" not in g:
        # Every event this request emits and every log line it writes say who acted for whom;
        # chassis.app resets it when the request ends.
        g.actor_token = actor_var.set(principal.audit_label())
        log.info("acting for someone: %s", principal.audit_label())
    return principal


F = TypeVar("F", bound=Callable[..., Any])


def require_auth(view: F) -> F:
    """Validate the bearer token before the view runs; the principal is in ``g.principal``."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        authenticate()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def forbidden(detail: str = "You may not do this.") -> ProblemError:
    return ProblemError(403, "Forbidden", detail, problem_type="forbidden")


def not_found(detail: str = "Not found.") -> ProblemError:
    return ProblemError(404, "Not Found", detail, problem_type="not-found")


def authenticated_blueprint(name: str, import_name: str, *, url_prefix: str, description: str) -> Blueprint:
    """A flask-smorest ``Blueprint`` whose every request is authenticated before its input is
    parsed: a caller without a valid token gets 401, never a 422 that describes the endpoint."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix, description=description)
    blueprint.before_request(_authenticate_request)
    return blueprint


def _authenticate_request() -> None:
    # A before_request hook must return None, or Flask takes its value as the response.
    authenticate()
