"""Deputyships ("Profil – Vertretung"): A may act for B, where B is a person or a company.

A deputyship is requested by the represented person (or, for a company, by one of its
Administrators), waits for the chamber's approval, and only then lets the deputy act
("Zum Programm"). The deputy is an existing account, or a company's employee without
one (name and e-mail), who gets an invitation to set up access once approved.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from chassis.domain import Conflict, RuleViolation
from chassis.principal import COMPANY_ROLES


class DeputyshipStatus(enum.StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    REMOVED = "removed"


class RepresentedKind(enum.StrEnum):
    PERSON = "person"
    COMPANY = "company"


@dataclass
class Deputyship:
    id: uuid.UUID
    kind: RepresentedKind
    deputy_email: str
    deputy_name: str
    requested_by: uuid.UUID
    requested_at: datetime
    # The represented person (kind person) or company (kind company).
    represented_account_id: uuid.UUID | None = None
    company_number: str | None = None
    # None until the deputy has an account (a new employee is invited after approval).
    deputy_account_id: uuid.UUID | None = None
    # For a company: the roles the deputy exercises there while acting for it.
    company_roles: list[str] = field(default_factory=list)
    status: DeputyshipStatus = DeputyshipStatus.REQUESTED
    decided_by: uuid.UUID | None = None
    decided_at: datetime | None = None
    removed_by: uuid.UUID | None = None
    removed_at: datetime | None = None

    def __post_init__(self) -> None:
        self.deputy_email = self.deputy_email.strip().lower()

    @classmethod
    def request(
        cls,
        *,
        kind: RepresentedKind,
        deputy_email: str,
        deputy_name: str,
        requested_by: uuid.UUID,
        now: datetime,
        represented_account_id: uuid.UUID | None = None,
        company_number: str | None = None,
        deputy_account_id: uuid.UUID | None = None,
        company_roles: list[str] | None = None,
    ) -> Deputyship:
        if kind is RepresentedKind.PERSON and (represented_account_id is None or company_number is not None):
            raise RuleViolation({"kind": "A person's deputyship names the person, not a company."})
        if kind is RepresentedKind.COMPANY:
            if company_number is None:
                raise RuleViolation({"company_number": "A company's deputyship names the company."})
            roles = sorted(set(company_roles or ["manager"]))
            if not roles or not set(roles) <= COMPANY_ROLES:
                raise RuleViolation({"company_roles": "Unknown company role."})
            if "admin" in roles:
                # An Administrator's power (permissions included) is not delegated.
                raise RuleViolation({"company_roles": "A deputy cannot act as Administrator."})
        else:
            roles = []
        if deputy_account_id is not None and deputy_account_id == represented_account_id:
            raise RuleViolation({"deputy_email": "Nobody is their own deputy."})
        if not deputy_name.strip() or len(deputy_name) > 200:
            raise RuleViolation({"deputy_name": "Name is required (at most 200 characters)."})
        return cls(
            id=uuid.uuid4(),
            kind=kind,
            deputy_email=deputy_email,
            deputy_name=deputy_name.strip(),
            requested_by=requested_by,
            requested_at=now,
            represented_account_id=represented_account_id,
            company_number=company_number,
            deputy_account_id=deputy_account_id,
            company_roles=roles,
        )

    @property
    def is_open(self) -> bool:
        return self.status is DeputyshipStatus.REQUESTED

    @property
    def is_active(self) -> bool:
        return self.status is DeputyshipStatus.APPROVED and self.deputy_account_id is not None

    @property
    def represented(self) -> str:
        """``person:<account id>`` or ``company:<number>``: whom the deputy acts for."""
        if self.kind is RepresentedKind.COMPANY:
            return f"company:{self.company_number}"
        return f"person:{self.represented_account_id}"

    def approve(self, by: uuid.UUID, now: datetime) -> None:
        if not self.is_open:
            raise Conflict("Only an open request can be approved.")
        self.status = DeputyshipStatus.APPROVED
        self.decided_by, self.decided_at = by, now

    def reject(self, by: uuid.UUID, now: datetime) -> None:
        if not self.is_open:
            raise Conflict("Only an open request can be rejected.")
        self.status = DeputyshipStatus.REJECTED
        self.decided_by, self.decided_at = by, now

    def remove(self, by: uuid.UUID, now: datetime) -> None:
        if self.status not in (DeputyshipStatus.REQUESTED, DeputyshipStatus.APPROVED):
            raise Conflict("The deputyship has already ended.")
        self.status = DeputyshipStatus.REMOVED
        self.removed_by, self.removed_at = by, now

    def lets_act(self, account_id: uuid.UUID) -> bool:
        """Whether ``account_id`` may act under this deputyship now."""
        return self.is_active and self.deputy_account_id == account_id
