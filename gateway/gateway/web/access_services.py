"""identity's and documents' access-data APIs, for the access pages (Account erstellen, Zugang
freischalten, the chamber's Zugangsdaten page): the same HTTP plumbing as ``services``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gateway.web.services import (
    FileStream,
    HttpServices,
    ServiceError,
    _items,
    _json,
    _segment,
    _text,
    _uuid,
    parse_datetime,
)


@dataclass(frozen=True)
class AccessRequest:
    request_id: str
    kind: str  # company | apprentice
    number: str
    contact_name: str
    created_at: datetime | None
    outcome: str | None = None


@dataclass(frozen=True)
class AccessLetter:
    letter_id: str
    kind: str
    number: str
    name: str
    reason: str
    issued_at: datetime | None
    expires_at: datetime | None
    printed_at: datetime | None


class AccessServices(Protocol):
    def invite_apprentice(self, company_number: str, apprentice_number: str, email: str) -> str: ...
    def invite_trainer(self, company_number: str, trainer_id: str, email: str) -> str: ...
    def redeem_access_code(self, kind: str, number: str, code: str) -> None: ...
    def access_requests(self) -> Sequence[AccessRequest]: ...
    def fulfil_access_request(self, request_id: str) -> AccessRequest: ...
    def access_letters(self) -> Sequence[AccessLetter]: ...
    def access_letter_content(self, letter_id: str) -> FileStream: ...
    def mark_letter_printed(self, letter_id: str) -> None: ...


class HttpAccessServices(HttpServices):
    def invite_apprentice(self, company_number: str, apprentice_number: str, email: str) -> str:
        path = f"/api/identity/companies/{_segment(company_number)}/apprentices/{_segment(apprentice_number)}/invitation"
        return self._invite(path, email)

    def invite_trainer(self, company_number: str, trainer_id: str, email: str) -> str:
        path = f"/api/identity/companies/{_segment(company_number)}/trainers/{_uuid(trainer_id)}/invitation"
        return self._invite(path, email)

    def _invite(self, path: str, email: str) -> str:
        body = _json(self._send("POST", path, json={"email": email}))
        status = body.get("account_status") if isinstance(body, Mapping) else None
        if status not in ("invited", "active"):
            raise ServiceError(502)
        return str(status)

    def redeem_access_code(self, kind: str, number: str, code: str) -> None:
        self._send(
            "POST", "/api/identity/access-codes/redeem", json={"kind": kind, "number": number, "code": code}
        )

    def access_requests(self) -> list[AccessRequest]:
        return [_request(item) for item in _items(self._get_json("/api/identity/access-data-requests"))]

    def fulfil_access_request(self, request_id: str) -> AccessRequest:
        body = _json(self._send("POST", f"/api/identity/access-data-requests/{_uuid(request_id)}/fulfil"))
        if not isinstance(body, Mapping):
            raise ServiceError(502)
        return _request(body)

    def access_letters(self) -> list[AccessLetter]:
        return [_letter(item) for item in _items(self._get_json("/api/documents/access-letters"))]

    def access_letter_content(self, letter_id: str) -> FileStream:
        return self._download(
            f"/api/documents/access-letters/{_uuid(letter_id)}/content",
            "application/pdf",
            "Anschreiben",
            ".pdf",
        )

    def mark_letter_printed(self, letter_id: str) -> None:
        self._send("POST", f"/api/documents/access-letters/{_uuid(letter_id)}/printed")


def _request(data: Mapping[str, Any]) -> AccessRequest:
    return AccessRequest(
        request_id=str(data.get("id") or ""),
        kind=str(data.get("kind") or ""),
        number=str(data.get("number") or ""),
        contact_name=str(data.get("contact_name") or ""),
        created_at=parse_datetime(data.get("created_at")),
        outcome=_text(data.get("outcome")),
    )


def _letter(data: Mapping[str, Any]) -> AccessLetter:
    return AccessLetter(
        letter_id=str(data.get("id") or ""),
        kind=str(data.get("kind") or ""),
        number=str(data.get("number") or ""),
        name=str(data.get("name") or ""),
        reason=str(data.get("reason") or ""),
        issued_at=parse_datetime(data.get("issued_at")),
        expires_at=parse_datetime(data.get("expires_at")),
        printed_at=parse_datetime(data.get("printed_at")),
    )
