"""identity's audit log: an append-only record of security-relevant events (ASVS 5.0 V16).

Every flow records what it did with ``uow.audit.record(kind, account_id, ...)``, in the
same transaction as the change itself, so that a record exists exactly when the change
does. Records are never updated or deleted (the table's trigger refuses it in
PostgreSQL). Chamber administrators read them through ``GET /audit`` and the gateway's
"Protokoll" page.

To add a kind: add a member to ``AuditKind`` (the value is stored as text, so no
migration is needed) and a German label to ``AUDIT_LABELS``; then call
``uow.audit.record(AuditKind.NEW_KIND, ...)`` where it happens.

No secret ever goes into a record: ``details`` refuses keys that name one (passwords,
codes, tokens, links, session ids), and values are short plain scalars.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

DetailValue = str | int | bool | None
MAX_DETAIL_LENGTH = 200
MAX_DETAILS = 20

# Keys whose values would be secrets (or would carry one, like a reset link).
_SECRET_KEY = re.compile(r"password|passwort|token|code|secret|session|link|url|cookie|hash", re.IGNORECASE)


class AuditKind(enum.StrEnum):
    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    ACCOUNT_LOCKED_OUT = "account.locked_out"
    ACCOUNT_UNLOCKED = "account.unlocked"
    ACCOUNT_ACTIVATED = "account.activated"
    ACCOUNT_REGISTERED = "account.registered"
    REGISTRATION_CONFIRMED = "account.registration_confirmed"
    PASSWORD_RESET_REQUESTED = "password.reset_requested"  # noqa: S105 - a kind, not a secret
    PASSWORD_RESET = "password.reset"  # noqa: S105 - a kind, not a secret
    # For helper flows (roles, deputies, acting for someone): record them with these.
    ROLE_GRANTED = "role.granted"
    ROLE_REVOKED = "role.revoked"
    DEPUTY_REQUESTED = "deputy.requested"
    DEPUTY_APPROVED = "deputy.approved"
    DEPUTY_REJECTED = "deputy.rejected"
    DEPUTY_REMOVED = "deputy.removed"
    SERVICE_SWITCHED_ON = "service.switched_on"
    SERVICE_SWITCHED_OFF = "service.switched_off"
    CONTEXT_SWITCHED = "context.switched"
    CONTEXT_LEFT = "context.left"
    ACTING_FOR_STARTED = "acting_for.started"
    ACTING_FOR_ENDED = "acting_for.ended"


AUDIT_LABELS: Mapping[AuditKind, str] = {
    AuditKind.LOGIN_SUCCEEDED: "Anmeldung erfolgreich",
    AuditKind.LOGIN_FAILED: "Anmeldung fehlgeschlagen",
    AuditKind.ACCOUNT_LOCKED_OUT: "Zugang gesperrt (Fehlversuche)",
    AuditKind.ACCOUNT_UNLOCKED: "Sperre aufgehoben",
    AuditKind.ACCOUNT_ACTIVATED: "Account aktiviert",
    AuditKind.ACCOUNT_REGISTERED: "Registrierung",
    AuditKind.REGISTRATION_CONFIRMED: "Registrierung bestätigt",
    AuditKind.PASSWORD_RESET_REQUESTED: "Passwort-Link angefordert",
    AuditKind.PASSWORD_RESET: "Passwort zurückgesetzt",
    AuditKind.ROLE_GRANTED: "Rolle vergeben",
    AuditKind.ROLE_REVOKED: "Rolle entzogen",
    AuditKind.DEPUTY_REQUESTED: "Vertretung beantragt",
    AuditKind.DEPUTY_APPROVED: "Vertretung bestätigt",
    AuditKind.DEPUTY_REJECTED: "Vertretung abgelehnt",
    AuditKind.DEPUTY_REMOVED: "Vertretung entfernt",
    AuditKind.SERVICE_SWITCHED_ON: "Dienst eingeschaltet",
    AuditKind.SERVICE_SWITCHED_OFF: "Dienst ausgeschaltet",
    AuditKind.CONTEXT_SWITCHED: "Rolle gewechselt",
    AuditKind.CONTEXT_LEFT: "Rolle verlassen",
    AuditKind.ACTING_FOR_STARTED: "Handeln im Auftrag begonnen",
    AuditKind.ACTING_FOR_ENDED: "Handeln im Auftrag beendet",
}


class SecretInAudit(ValueError):
    """A caller tried to put something secret (or not plain) into an audit record."""


def safe_details(details: Mapping[str, DetailValue] | None) -> dict[str, DetailValue]:
    """``details`` checked: at most 20 short scalar values, no key that names a secret."""
    checked: dict[str, DetailValue] = {}
    for key, value in (details or {}).items():
        if _SECRET_KEY.search(key):
            raise SecretInAudit(f"audit detail {key!r} names a secret")
        if value is not None and not isinstance(value, str | int | bool):
            raise SecretInAudit(f"audit detail {key!r} is not a plain value")
        if isinstance(value, str) and len(value) > MAX_DETAIL_LENGTH:
            value = value[:MAX_DETAIL_LENGTH]
        checked[key] = value
    if len(checked) > MAX_DETAILS:
        raise SecretInAudit("too many audit details")
    return checked


@dataclass
class AuditRecord:
    """One thing that happened: what, to which account, by whom (and for whom), when.

    Written once and never changed (not frozen only because the ORM maps it).
    """

    id: uuid.UUID
    at: datetime
    kind: str
    account_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    on_behalf_of: uuid.UUID | None = None
    details: dict[str, DetailValue] = field(default_factory=dict)

    @classmethod
    def new(
        cls,
        kind: AuditKind | str,
        account_id: uuid.UUID | None,
        at: datetime,
        *,
        actor_id: uuid.UUID | None = None,
        on_behalf_of: uuid.UUID | None = None,
        details: Mapping[str, DetailValue] | None = None,
    ) -> AuditRecord:
        return cls(
            id=uuid.uuid4(),
            at=at,
            kind=AuditKind(kind).value,
            account_id=account_id,
            actor_id=actor_id,
            on_behalf_of=on_behalf_of,
            details=safe_details(details),
        )

    @property
    def label(self) -> str:
        try:
            return AUDIT_LABELS[AuditKind(self.kind)]
        except ValueError:
            return self.kind


@dataclass(frozen=True)
class AuditFilter:
    """What a chamber administrator asks the log for; every part optional."""

    account_id: uuid.UUID | None = None
    kind: AuditKind | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, record: AuditRecord) -> bool:
        return (
            (self.account_id is None or self.account_id in (record.account_id, record.actor_id))
            and (self.kind is None or record.kind == self.kind.value)
            and (self.since is None or record.at >= self.since)
            and (self.until is None or record.at < self.until)
        )


class AuditRecorder:
    """What every flow records through (``uow.audit.record(...)``); the adapters say where a
    record goes (``_append``): the database, or a list in unit tests."""

    def record(
        self,
        kind: AuditKind | str,
        account_id: uuid.UUID | None,
        *,
        actor_id: uuid.UUID | None = None,
        on_behalf_of: uuid.UUID | None = None,
        details: Mapping[str, DetailValue] | None = None,
        at: datetime | None = None,
    ) -> AuditRecord:
        """Append one record (``at``: the flow's clock; now if not given)."""
        record = AuditRecord.new(
            kind,
            account_id,
            at or datetime.now(UTC),
            actor_id=actor_id,
            on_behalf_of=on_behalf_of,
            details=details,
        )
        self._append(record)
        return record

    def _append(self, record: AuditRecord) -> None:
        raise NotImplementedError
