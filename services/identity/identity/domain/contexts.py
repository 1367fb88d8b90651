"""Token claims: what an account holds (with a head office's reach), and the narrowed claims of
one active context ("several roles, one login") or of acting for someone ("Zum Programm").

The portal's login token carries everything the person holds. When the person picks a context,
the portal exchanges that token (RFC 8693 token exchange at identity's token endpoint) for one
narrowed to the context, and calls the services with it: every service still decides from the
token's claims alone. A deputy's token names the deputy in the ``act`` claim (RFC 8693 §4.1)
and whom they act for in ``acting_for``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chassis.domain import Forbidden, RuleViolation
from chassis.principal import CHAMBER_ROLES
from identity.domain.deputies import Deputyship, RepresentedKind
from identity.domain.grants import CHAMBER_ROLE_LABELS, COMPANY_ROLE_LABELS, PERSON_ROLE_LABELS
from identity.domain.model import Account

# {head office number: [branch numbers]} of the head offices whose reach the chamber switched on.
Reach = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class TokenContext:
    """One context the person may switch to: its key (sent to the token exchange) and German label."""

    key: str
    label: str


def full_claims(account: Account, reach: Reach) -> dict[str, Any]:
    """Everything ``account`` holds. With reach, the roles held at a head office apply to each of
    its branches too (``company_roles`` lists them), and ``reach`` names them per head office."""
    claims = account.claims()
    roles = {number: sorted(held) for number, held in account.company_roles.items()}
    reached: dict[str, list[str]] = {}
    for head_office, held in account.company_roles.items():
        branches = sorted(reach.get(head_office, ()))
        if not branches or not held:
            continue
        reached[head_office] = branches
        for branch in branches:
            roles[branch] = sorted({*roles.get(branch, []), *held})
    claims["company_roles"] = dict(sorted(roles.items()))
    if reached:
        claims["reach"] = reached
    return claims


def available_contexts(
    account: Account, reach: Reach, deputyships: Iterable[Deputyship], names: Mapping[str, str]
) -> list[TokenContext]:
    """The contexts ``account`` may switch to. ``names``: what to call companies and persons."""
    contexts = [
        TokenContext(f"company:{number}", f"{names.get(number, number)} ({', '.join(_labels(held))})")
        for number, held in sorted(account.company_roles.items())
        if held
    ]
    for role in sorted(account.roles):
        label = CHAMBER_ROLE_LABELS.get(role) or PERSON_ROLE_LABELS.get(role) or role
        contexts.append(
            TokenContext(f"role:{role}", label if role not in CHAMBER_ROLES else f"Kammer: {label}")
        )
    for deputyship in deputyships:
        if deputyship.lets_act(account.id):
            whom = deputyship.company_number if deputyship.kind is RepresentedKind.COMPANY else None
            target = whom or str(deputyship.represented_account_id)
            contexts.append(
                TokenContext(f"deputy:{deputyship.id}", f"Vertretung für {names.get(target, target)}")
            )
    return contexts


def _labels(roles: Iterable[str]) -> list[str]:
    return [COMPANY_ROLE_LABELS.get(role, role) for role in sorted(roles)]


def parse_context(key: str) -> tuple[str, str]:
    kind, _, value = key.partition(":")
    if kind not in ("company", "role", "deputy") or not value or len(key) > 100:
        raise RuleViolation({"context": "Unknown context."})
    return kind, value


def narrowed_claims(
    account: Account,
    key: str,
    *,
    reach: Reach,
    deputyship: Deputyship | None = None,
    represented: Account | None = None,
) -> dict[str, Any]:
    """The claims of a token narrowed to context ``key``; ``Forbidden`` if the account does not
    hold it (the held grants are read now, so a revoked grant is gone from the next token)."""
    kind, value = parse_context(key)
    if kind == "deputy":
        return _acting_claims(account, key, deputyship, represented, reach)
    claims = full_claims(account, reach)
    if kind == "company":
        if value not in account.company_roles:
            raise Forbidden("The account holds no role at this company.")
        companies = {value, *reach.get(value, ())} if value in claims.get("reach", {}) else {value}
        claims["company_roles"] = {n: r for n, r in claims["company_roles"].items() if n in companies}
        claims["service_rights"] = {n: r for n, r in claims["service_rights"].items() if n == value}
        claims["reach"] = {n: b for n, b in reach.items() if n == value and n in claims.get("reach", {})}
        claims["roles"] = []
        claims["apprentice_number"] = None
    else:
        if value not in account.roles:
            raise Forbidden("The account does not hold this role.")
        claims.update(roles=[value], company_roles={}, service_rights={}, reach={})
        if value != "apprentice":
            claims["apprentice_number"] = None
    claims["ctx"] = key
    return claims


def _acting_claims(
    deputy: Account, key: str, deputyship: Deputyship | None, represented: Account | None, reach: Reach
) -> dict[str, Any]:
    if deputyship is None or not deputyship.lets_act(deputy.id) or f"deputy:{deputyship.id}" != key:
        # No approval, removed, or someone else's: nothing tells which.
        raise Forbidden("No approved deputyship lets this account act so.")
    act = {"sub": str(deputy.id), "name": deputy.name, "email": deputy.email}
    if deputyship.kind is RepresentedKind.COMPANY:
        assert deputyship.company_number is not None
        claims = deputy.claims()
        claims.update(
            roles=[],
            company_roles={deputyship.company_number: sorted(deputyship.company_roles)},
            service_rights={},
            apprentice_number=None,
            acting_for={"kind": "company", "company_number": deputyship.company_number},
        )
    else:
        if represented is None or represented.id != deputyship.represented_account_id:
            raise Forbidden("No approved deputyship lets this account act so.")
        claims = full_claims(represented, reach)
        # Chamber powers are the chamber's staff's own: a deputy never exercises them.
        claims["roles"] = sorted(set(represented.roles) - CHAMBER_ROLES)
        claims["acting_for"] = {"kind": "person", "account_id": str(represented.id)}
    claims["act"] = act
    claims["ctx"] = key
    return claims


def deputyship_id(key: str) -> uuid.UUID | None:
    """The deputyship a ``deputy:<id>`` context names (None for other contexts or a malformed id)."""
    kind, value = parse_context(key)
    if kind != "deputy":
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Forbidden("No approved deputyship lets this account act so.") from None
