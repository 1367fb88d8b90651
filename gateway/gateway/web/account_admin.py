"""The chamber's account tools in the UI: identity's account locks and audit log (view models and API client).

Kept apart from ``services`` so that each feature's client sits with its models: the
pages get it with ``account_admin()``, which wraps the signed-in user's ``HttpServices``
(tests' fake services implement ``AccountAdmin`` themselves).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

import requests

from gateway.web.services import HttpServices, Page, ServiceError, parse_datetime
from gateway.web.views.common import services

IDENTITY_API = "/api/identity"

# The kinds of the audit log (identity.domain.audit.AuditKind) with their German labels, for the filter;
# tests/system/test_audit_kinds_copy.py keeps this copy equal to identity's.
AUDIT_KINDS: tuple[tuple[str, str], ...] = (
    ("login.succeeded", "Anmeldung erfolgreich"),
    ("login.failed", "Anmeldung fehlgeschlagen"),
    ("account.locked_out", "Zugang gesperrt (Fehlversuche)"),
    ("account.unlocked", "Sperre aufgehoben"),
    ("account.activated", "Account aktiviert"),
    ("account.registered", "Registrierung"),
    ("account.registration_confirmed", "Registrierung bestätigt"),
    ("password.reset_requested", "Passwort-Link angefordert"),
    ("password.reset", "Passwort zurückgesetzt"),
    ("role.granted", "Rolle vergeben"),
    ("role.revoked", "Rolle entzogen"),
    ("deputy.requested", "Vertretung beantragt"),
    ("deputy.approved", "Vertretung bestätigt"),
    ("deputy.rejected", "Vertretung abgelehnt"),
    ("deputy.removed", "Vertretung entfernt"),
    ("service.switched_on", "Dienst eingeschaltet"),
    ("service.switched_off", "Dienst ausgeschaltet"),
    ("context.switched", "Rolle gewechselt"),
    ("context.left", "Rolle verlassen"),
    ("acting_for.started", "Handeln im Auftrag begonnen"),
    ("acting_for.ended", "Handeln im Auftrag beendet"),
)


@dataclass(frozen=True)
class AccountLock:
    account_id: str
    name: str
    email: str
    apprentice_number: str | None
    status: str
    locked_until: datetime | None
    failed_logins: int

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


@dataclass(frozen=True)
class AuditEntry:
    entry_id: str
    at: datetime | None
    kind: str
    label: str
    account_id: str | None
    actor_id: str | None
    on_behalf_of: str | None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditQuery:
    account_id: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_params(self) -> dict[str, str]:
        params = {"account_id": self.account_id, "kind": self.kind}
        dates = {"since": self.since, "until": self.until}
        return {
            **{k: v for k, v in params.items() if v},
            **{k: v.isoformat() for k, v in dates.items() if v is not None},
        }


class AccountAdmin(Protocol):
    def account_lock(self, login: str) -> AccountLock | None: ...
    def unlock_account(self, account_id: str) -> AccountLock: ...
    def audit_log(self, query: AuditQuery, *, cursor: str | None = None) -> Page[AuditEntry]: ...


class HttpAccountAdmin:
    """identity's chamber API with the user's token, through their ``HttpServices``."""

    def __init__(self, http: HttpServices) -> None:
        self._send = http._send

    def account_lock(self, login: str) -> AccountLock | None:
        try:
            response = self._send("GET", f"{IDENTITY_API}/account-locks", params={"login": login})
        except ServiceError as exc:
            if exc.status == 404:
                return None
            raise
        return _lock(_body(response))

    def unlock_account(self, account_id: str) -> AccountLock:
        return _lock(_body(self._send("DELETE", f"{IDENTITY_API}/account-locks/{_uuid(account_id)}")))

    def audit_log(self, query: AuditQuery, *, cursor: str | None = None) -> Page[AuditEntry]:
        params = {**query.as_params(), "limit": "50", **({"cursor": cursor} if cursor else {})}
        body = _body(self._send("GET", f"{IDENTITY_API}/audit", params=params))
        raw = body.get("items")
        items: list[Any] = raw if isinstance(raw, list) else []
        next_cursor = body.get("next_cursor")
        return Page(
            items=[_entry(item) for item in items if isinstance(item, Mapping)],
            next_cursor=str(next_cursor) if next_cursor else None,
            cursor=cursor,
        )


def account_admin() -> AccountAdmin:
    """The chamber's account tools as the signed-in user."""
    api = services()
    if isinstance(api, HttpServices):
        return HttpAccountAdmin(api)
    return cast(AccountAdmin, api)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ServiceError(404) from None


def _body(response: requests.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ServiceError(502) from None
    if not isinstance(body, Mapping):
        raise ServiceError(502)
    return body


def _optional(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _lock(data: Mapping[str, Any]) -> AccountLock:
    return AccountLock(
        account_id=str(data.get("account_id") or ""),
        name=str(data.get("name") or ""),
        email=str(data.get("email") or ""),
        apprentice_number=_optional(data.get("apprentice_number")),
        status=str(data.get("status") or ""),
        locked_until=parse_datetime(data.get("locked_until")),
        failed_logins=int(data.get("failed_logins") or 0),
    )


def _entry(data: Mapping[str, Any]) -> AuditEntry:
    details = data.get("details")
    return AuditEntry(
        entry_id=str(data.get("id") or ""),
        at=parse_datetime(data.get("at")),
        kind=str(data.get("kind") or ""),
        label=str(data.get("label") or data.get("kind") or ""),
        account_id=_optional(data.get("account_id")),
        actor_id=_optional(data.get("actor_id")),
        on_behalf_of=_optional(data.get("on_behalf_of")),
        details=details if isinstance(details, Mapping) else {},
    )
