"""Access-token validation: every service checks tokens itself against identity's JWKS.

The edge vouches for nobody (DESIGN §2 rule 5). Keys are cached and refetched
when a token names an unknown key id, at most every ``min_refresh`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

import requests
from flask import Flask, current_app, g, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from chassis.problems import ProblemError, ServiceUnavailable

ALGORITHMS = ["RS256", "PS256", "ES256"]

# Roles (DESIGN §4). Company roles are held per company number.
CHAMBER_ROLES = frozenset({"chamber_clerk", "chamber_exam_organiser", "chamber_admin"})
COMPANY_ROLES = frozenset({"admin", "manager", "trainer"})


@dataclass(frozen=True)
class Principal:
    """Who calls, from the token's claims. Services combine it with their own records."""

    subject: str
    name: str = ""
    email: str = ""
    roles: frozenset[str] = frozenset()
    company_roles: Mapping[str, frozenset[str]] = field(default_factory=dict)
    apprentice_number: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        company_roles = {
            str(number): frozenset(str(r) for r in roles)
            for number, roles in (claims.get("company_roles") or {}).items()
        }
        return cls(
            subject=str(claims["sub"]),
            name=str(claims.get("name", "")),
            email=str(claims.get("email", "")),
            roles=frozenset(str(r) for r in claims.get("roles") or ()),
            company_roles=company_roles,
            apprentice_number=claims.get("apprentice_number"),
            claims=dict(claims),
        )

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_chamber(self) -> bool:
        return bool(self.roles & CHAMBER_ROLES)

    @property
    def company_numbers(self) -> frozenset[str]:
        return frozenset(self.company_roles)

    def has_company_role(self, company_number: str, *roles: str) -> bool:
        held = self.company_roles.get(company_number, frozenset())
        return bool(held.intersection(roles or COMPANY_ROLES))


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
        try:
            try:
                decoded = jwt.decode(token, self._keys(), algorithms=ALGORITHMS)
            except JoseError:
                # The key may have been rotated since we cached the set.
                decoded = jwt.decode(token, self._keys(force=True), algorithms=ALGORITHMS)
            self._claims.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise invalid_token(str(exc) or type(exc).__name__) from exc
        return Principal.from_claims(decoded.claims)


def invalid_token(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "Unauthorized",
        "A valid access token is required.",
        problem_type="invalid-token",
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{detail[:80]}"'},
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
    g.principal = validator.validate(token.strip())
    return g.principal


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
