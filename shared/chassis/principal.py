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
