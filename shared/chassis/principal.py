"""Who calls: the principal taken from a validated access token's claims.

Pure Python, so that access rules in ``domain/`` can use it without Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Roles (DESIGN §4). Company roles are held per company number.
CHAMBER_ROLES = frozenset({"chamber_clerk", "chamber_exam_organiser", "chamber_admin"})
COMPANY_ROLES = frozenset({"admin", "manager", "trainer"})
# Service rights, granted per company apart from the roles (even an Administrator grants them
# to themselves), and only for services the company has switched on.
SERVICE_RIGHTS = frozenset({"exam_registration"})


def _per_company(value: Any) -> dict[str, frozenset[str]]:
    return {str(number): frozenset(str(item) for item in items) for number, items in (value or {}).items()}


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
    # {company_number: {"exam_registration", ...}}: rights the company switched on and granted.
    service_rights: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # RFC 8693 ``act``: the account that really acts when a deputy acts for someone
    # ("Zum Programm"); None when the subject acts in person.
    actor: str | None = None
    # Whom the deputy represents: ``{"kind": "person", "account_id": ...}`` or
    # ``{"kind": "company", "company_number": ...}`` (the ``acting_for`` claim).
    acting_for: Mapping[str, str] | None = None
    # The active context the token was narrowed to (``ctx`` claim), e.g. "company:12345678";
    # None for the full token of the login.
    context: str | None = None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        act = claims.get("act")
        acting_for = claims.get("acting_for")
        return cls(
            subject=str(claims["sub"]),
            name=str(claims.get("name", "")),
            email=str(claims.get("email", "")),
            roles=frozenset(str(r) for r in claims.get("roles") or ()),
            company_roles=_per_company(claims.get("company_roles")),
            apprentice_number=claims.get("apprentice_number"),
            claims=dict(claims),
            service_rights=_per_company(claims.get("service_rights")),
            actor=str(act["sub"]) if isinstance(act, Mapping) and act.get("sub") else None,
            acting_for={str(k): str(v) for k, v in acting_for.items()}
            if isinstance(acting_for, Mapping)
            else None,
            context=str(claims["ctx"]) if claims.get("ctx") else None,
        )

    @property
    def is_acting_for_someone(self) -> bool:
        """A deputy acts for another person or a company (the token has an ``act`` claim)."""
        return self.actor is not None

    @property
    def acting_account(self) -> str:
        """Who really does it: the deputy when acting for someone, else the subject."""
        return self.actor or self.subject

    def has_service_right(self, company_number: str, right: str) -> bool:
        return right in self.service_rights.get(company_number, frozenset())

    def audit_label(self) -> str:
        """``"<actor> for <subject>"`` when acting for someone, else the subject: for author fields."""
        if self.actor is None:
            return self.subject
        represented = self.acting_for or {}
        whom = represented.get("company_number") or represented.get("account_id") or self.subject
        return f"{self.actor} for {whom}"

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
