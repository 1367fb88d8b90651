"""identity's API of roles, rights, deputyships and contexts, as the UI calls it (server-side).

The same client as the other services (``HttpServices``: the user's access token, German
errors, no redirects followed), with the paths and JSON shapes of identity's grants API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.web.services import HttpServices, ServiceError, _items, _segment, _uuid

ROLE_LABELS = {"admin": "Administrator/-in", "manager": "Verwalter/-in", "trainer": "Ausbilder/-in"}
RIGHT_LABELS = {"exam_registration": "Prüfungsanmeldung"}
CHAMBER_ROLE_LABELS = {
    "chamber_clerk": "Sachbearbeitung",
    "chamber_exam_organiser": "Prüfungsorganisation",
    "chamber_admin": "Administration",
}
STATUS_LABELS = {
    "requested": "wartet auf Bestätigung der IHK",
    "approved": "bestätigt",
    "rejected": "abgelehnt",
    "removed": "entfernt",
}


@dataclass(frozen=True)
class Member:
    account_id: str
    name: str
    email: str
    roles: tuple[str, ...]
    rights: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeputyshipView:
    deputyship_id: str
    kind: str
    status: str
    company_number: str | None
    represented_account_id: str | None
    deputy_name: str
    deputy_email: str
    deputy_has_account: bool
    company_roles: tuple[str, ...]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def represented_label(self) -> str:
        return f"Betrieb {self.company_number}" if self.company_number else "Sie persönlich"


@dataclass(frozen=True)
class DeputyOverview:
    named: tuple[DeputyshipView, ...]
    acting_for: tuple[DeputyshipView, ...]


@dataclass(frozen=True)
class ContextChoice:
    key: str
    label: str


class IdentityServices(Protocol):
    def administrable_companies(self) -> list[str]: ...
    def company_members(self, company_number: str) -> list[Member]: ...
    def company_services(self, company_number: str) -> list[str]: ...
    def add_member(self, company_number: str, email: str, role: str) -> Member: ...
    def change_grant(
        self, company_number: str, account_id: str, kind: str, name: str, grant: bool
    ) -> Member: ...
    def switch_service(self, company_number: str, service: str, enabled: bool) -> list[str]: ...
    def chamber_staff(self) -> list[Member]: ...
    def find_account(self, email: str) -> Member: ...
    def change_chamber_role(self, account_id: str, role: str, grant: bool) -> Member: ...
    def deputy_overview(self) -> DeputyOverview: ...
    def open_deputyships(self) -> list[DeputyshipView]: ...
    def name_deputy(self, body: Mapping[str, Any]) -> DeputyshipView: ...
    def remove_deputyship(self, deputyship_id: str) -> DeputyshipView: ...
    def decide_deputyship(self, deputyship_id: str, approve: bool) -> DeputyshipView: ...
    def contexts(self) -> list[ContextChoice]: ...


IdentityServicesFactory = Callable[[str], IdentityServices]

# The lists the pages show whole; identity pages them at most 100 at a time.
MAX_PAGES = 20


class HttpIdentity(HttpServices):
    def _all(self, path: str) -> list[Mapping[str, Any]]:
        items: list[Mapping[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            body = self._get_json(path, params)
            items.extend(_items(body))
            cursor = body.get("next_cursor") if isinstance(body, Mapping) else None
            if not cursor:
                break
        return items

    def administrable_companies(self) -> list[str]:
        body = self._get_json("/api/identity/companies/administrable")
        return [str(n) for n in body.get("company_numbers", [])] if isinstance(body, Mapping) else []

    def company_members(self, company_number: str) -> list[Member]:
        return [_member(m) for m in self._all(f"/api/identity/companies/{_segment(company_number)}/accounts")]

    def company_services(self, company_number: str) -> list[str]:
        body = self._get_json(f"/api/identity/companies/{_segment(company_number)}/services")
        return [str(s) for s in body.get("services", [])] if isinstance(body, Mapping) else []

    def add_member(self, company_number: str, email: str, role: str) -> Member:
        path = f"/api/identity/companies/{_segment(company_number)}/accounts"
        return _member(self._send("POST", path, json={"email": email, "role": role}).json())

    def change_grant(self, company_number: str, account_id: str, kind: str, name: str, grant: bool) -> Member:
        collection = "roles" if kind == "role" else "rights"
        path = (
            f"/api/identity/companies/{_segment(company_number)}/accounts/{_uuid(account_id)}"
            f"/{collection}/{_segment(name)}"
        )
        return _member(self._send("PUT" if grant else "DELETE", path).json())

    def switch_service(self, company_number: str, service: str, enabled: bool) -> list[str]:
        path = f"/api/identity/companies/{_segment(company_number)}/services/{_segment(service)}"
        body = self._send("PUT", path, json={"enabled": enabled}).json()
        return [str(s) for s in body.get("services", [])]

    def chamber_staff(self) -> list[Member]:
        return [_member(m) for m in self._all("/api/identity/chamber/staff")]

    def find_account(self, email: str) -> Member:
        return _member(self._get_json("/api/identity/chamber/accounts", {"email": email}))

    def change_chamber_role(self, account_id: str, role: str, grant: bool) -> Member:
        path = f"/api/identity/chamber/accounts/{_uuid(account_id)}/roles/{_segment(role)}"
        return _member(self._send("PUT" if grant else "DELETE", path).json())

    def deputy_overview(self) -> DeputyOverview:
        body = self._get_json("/api/identity/deputyships")
        if not isinstance(body, Mapping):
            raise ServiceError(502)
        return DeputyOverview(
            named=tuple(_deputyship(d) for d in body.get("named", [])),
            acting_for=tuple(_deputyship(d) for d in body.get("acting_for", [])),
        )

    def open_deputyships(self) -> list[DeputyshipView]:
        return [_deputyship(d) for d in self._all("/api/identity/deputyships/open")]

    def name_deputy(self, body: Mapping[str, Any]) -> DeputyshipView:
        return _deputyship(self._send("POST", "/api/identity/deputyships", json=dict(body)).json())

    def remove_deputyship(self, deputyship_id: str) -> DeputyshipView:
        return _deputyship(self._send("DELETE", f"/api/identity/deputyships/{_uuid(deputyship_id)}").json())

    def decide_deputyship(self, deputyship_id: str, approve: bool) -> DeputyshipView:
        step = "approval" if approve else "rejection"
        path = f"/api/identity/deputyships/{_uuid(deputyship_id)}/{step}"
        return _deputyship(self._send("POST", path).json())

    def contexts(self) -> list[ContextChoice]:
        return [
            ContextChoice(str(c.get("key", "")), str(c.get("label", "")))
            for c in _items(self._get_json("/api/identity/contexts"))
        ]


def _member(data: Mapping[str, Any]) -> Member:
    return Member(
        account_id=str(data.get("id", "")),
        name=str(data.get("name", "")),
        email=str(data.get("email", "")),
        roles=tuple(str(r) for r in data.get("roles", [])),
        rights=tuple(str(r) for r in data.get("rights", [])),
    )


def _deputyship(data: Mapping[str, Any]) -> DeputyshipView:
    return DeputyshipView(
        deputyship_id=str(data.get("id", "")),
        kind=str(data.get("kind", "")),
        status=str(data.get("status", "")),
        company_number=data.get("company_number"),
        represented_account_id=data.get("represented_account_id"),
        deputy_name=str(data.get("deputy_name", "")),
        deputy_email=str(data.get("deputy_email", "")),
        deputy_has_account=data.get("deputy_account_id") is not None,
        company_roles=tuple(str(r) for r in data.get("company_roles", [])),
    )


def labels(names: Sequence[str], table: Mapping[str, str]) -> list[str]:
    return [table.get(name, name) for name in names]
