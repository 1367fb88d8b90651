"""The services' REST APIs, called server-side with the user's access token.

This module is the one place that knows the APIs' paths and JSON shapes; the
views work with the small view models below. The UI composes pages: it never
forwards requests as a proxy would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import requests

CONTRACTS_PER_PAGE = 20
# Lists the forms need whole (companies, occupations) are read 100 at a time, at most this many pages.
MAX_LIST_PAGES = 20

UNAVAILABLE = "Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es später erneut."

GERMAN_ERRORS = {
    400: "Die Anfrage konnte nicht verarbeitet werden. Bitte prüfen Sie Ihre Eingaben.",
    401: "Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an.",
    403: "Sie haben keine Berechtigung für diese Aktion.",
    404: "Der gewünschte Eintrag wurde nicht gefunden.",
    409: "Der Eintrag wurde inzwischen geändert oder existiert bereits.",
    413: "Die Datei ist zu groß.",
    422: "Bitte prüfen Sie Ihre Eingaben.",
    429: "Zu viele Anfragen. Bitte warten Sie einen Moment und versuchen Sie es erneut.",
}


class ServiceError(Exception):
    """A service answered with an error or not at all; carries a German message."""

    def __init__(self, status: int, problem: Mapping[str, Any] | None = None) -> None:
        self.status = status
        self.problem: Mapping[str, Any] = problem or {}
        super().__init__(f"service answered {status}")

    @property
    def message(self) -> str:
        if self.status >= 500:
            return UNAVAILABLE
        return GERMAN_ERRORS.get(self.status, GERMAN_ERRORS[400])

    @property
    def field_errors(self) -> list[Mapping[str, Any]]:
        errors = self.problem.get("errors")
        return [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []


# --- view models -----------------------------------------------------------


@dataclass(frozen=True)
class Company:
    company_number: str
    name: str


@dataclass(frozen=True)
class Occupation:
    code: str
    title: str


@dataclass(frozen=True)
class Contract:
    contract_id: str
    contract_number: str
    state: str
    registered_on: date | None
    start_date: date | None
    end_date: date | None
    occupation: Occupation
    company: Company
    apprentice_name: str
    apprentice_number: str | None
    account_state: str | None
    # Read receipts of the Eintragungsbestätigung (training-records keeps them
    # from documents' "documents.document.opened" events).
    company_opened_at: datetime | None = None
    apprentice_opened_at: datetime | None = None


@dataclass(frozen=True)
class Document:
    document_id: str
    kind: str
    title: str
    contract_id: str | None
    issued_at: datetime | None
    opened_at: datetime | None
    recipient_kind: str = ""

    @property
    def unread(self) -> bool:
        return self.opened_at is None


@dataclass(frozen=True)
class NewContract:
    company_number: str
    occupation_code: str
    first_name: str
    last_name: str
    birth_date: date
    email: str
    start_date: date
    end_date: date

    def as_json(self) -> dict[str, Any]:
        return {
            "company": {"company_number": self.company_number},
            "occupation_code": self.occupation_code,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "apprentice": {
                "first_name": self.first_name,
                "last_name": self.last_name,
                "birth_date": self.birth_date.isoformat(),
                "email": self.email,
            },
        }


@dataclass(frozen=True)
class ContractPage:
    """One keyset page: ``next_cursor`` asks for the next one (None on the last page)."""

    items: Sequence[Contract]
    next_cursor: str | None = None
    cursor: str | None = None  # the cursor this page was asked with (None: the first page)

    @property
    def first(self) -> bool:
        return self.cursor is None


@dataclass
class PdfStream:
    chunks: Iterator[bytes]
    filename: str
    length: str | None = None
    close: Any = field(default=None, repr=False)


class Services(Protocol):
    """What the pages need from the services; tests pass a fake with the same methods."""

    def companies(self) -> Sequence[Company]: ...
    def occupations(self) -> Sequence[Occupation]: ...
    def contracts(self, *, cursor: str | None = None) -> ContractPage: ...
    def register_contract(self, new: NewContract, *, idempotency_key: str | None = None) -> Contract: ...
    def documents(self, *, unread: bool = False) -> Sequence[Document]: ...
    def contract(self, contract_id: str) -> Contract: ...
    def contract_documents(self, contract_id: str) -> Sequence[Document]: ...
    def document_content(self, document_id: str) -> PdfStream: ...


# --- the HTTP client -------------------------------------------------------


class HttpServices:
    """The services' APIs under ``<api base>/api/...`` with one user's access token."""

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        http: requests.Session,
        timeout: float = 10.0,
        request_id: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.timeout = (3.05, timeout)
        self.headers = {
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/json",
            "X-Request-ID": request_id or str(uuid.uuid4()),
        }

    def companies(self) -> list[Company]:
        # The form's select needs them all; the API pages at most 100 at a time.
        return [_company(item) for item in self._every_page("/api/training/companies")]

    def occupations(self) -> list[Occupation]:
        return [_occupation(item) for item in self._every_page("/api/training/occupations")]

    def contracts(self, *, cursor: str | None = None) -> ContractPage:
        params = {"limit": str(CONTRACTS_PER_PAGE), **({"cursor": cursor} if cursor else {})}
        body = self._get_json("/api/training/contracts", params)
        items = [_contract(item) for item in _items(body)]
        return ContractPage(items=items, next_cursor=_next_cursor(body), cursor=cursor or None)

    def _every_page(self, path: str, filters: Mapping[str, str] | None = None) -> list[Mapping[str, Any]]:
        """The items of a keyset-paged list, following ``next_cursor`` (at most MAX_LIST_PAGES pages)."""
        items: list[Mapping[str, Any]] = []
        params = {**(filters or {}), "limit": "100"}
        for _ in range(MAX_LIST_PAGES):
            body = self._get_json(path, params)
            items.extend(_items(body))
            cursor = _next_cursor(body)
            if cursor is None:
                break
            params = {**(filters or {}), "limit": "100", "cursor": cursor}
        return items

    def register_contract(self, new: NewContract, *, idempotency_key: str | None = None) -> Contract:
        # The form's one-time token: a retried POST is recognised by training-records too.
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self._send("POST", "/api/training/contracts", json=new.as_json(), headers=headers)
        return _contract(response.json())

    def documents(self, *, unread: bool = False) -> list[Document]:
        # Keyset-paged by documents (100 at a time); a person or company has far fewer.
        filters = {"unread": "true"} if unread else None
        return [_document(item) for item in self._every_page("/api/documents/documents", filters)]

    def contract(self, contract_id: str) -> Contract:
        return _contract(self._get_json(f"/api/training/contracts/{uuid.UUID(contract_id)}"))

    def contract_documents(self, contract_id: str) -> list[Document]:
        path = f"/api/documents/contracts/{uuid.UUID(contract_id)}/documents"
        return [_document(item) for item in self._every_page(path)]

    def document_content(self, document_id: str) -> PdfStream:
        path = f"/api/documents/documents/{uuid.UUID(document_id)}/content"
        response = self._send("GET", path, stream=True, accept="application/pdf")
        return PdfStream(
            chunks=response.iter_content(64 * 1024),
            filename=_filename(response.headers.get("Content-Disposition"), document_id),
            length=response.headers.get("Content-Length"),
            close=response.close,
        )

    def _get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        response = self._send("GET", path, params=params)
        try:
            return response.json()
        except ValueError:
            raise ServiceError(502) from None

    def _send(
        self,
        method: str,
        path: str,
        *,
        accept: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        headers = {**self.headers, **(headers or {})}
        if accept:
            headers["Accept"] = accept
        try:
            response = self.http.request(
                method,
                self.base_url + path,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException:
            raise ServiceError(503) from None
        if response.status_code >= 400 or response.status_code in (301, 302, 303, 307, 308):
            problem: Mapping[str, Any] | None = None
            if "json" in response.headers.get("Content-Type", ""):
                try:
                    body = response.json()
                    problem = body if isinstance(body, Mapping) else None
                except ValueError:
                    problem = None
            response.close()
            raise ServiceError(response.status_code if response.status_code >= 400 else 502, problem)
        return response


# --- parsing the services' JSON into view models ---------------------------


def _items(body: Any) -> list[Mapping[str, Any]]:
    if isinstance(body, Mapping):
        body = body.get("items", [])
    if not isinstance(body, list):
        raise ServiceError(502)
    return [item for item in body if isinstance(item, Mapping)]


def _next_cursor(body: Any) -> str | None:
    cursor = body.get("next_cursor") if isinstance(body, Mapping) else None
    return str(cursor) if cursor else None


def _company(data: Mapping[str, Any]) -> Company:
    return Company(company_number=str(data.get("company_number", "")), name=str(data.get("name", "")))


def _occupation(data: Mapping[str, Any]) -> Occupation:
    return Occupation(code=str(data.get("code", "")), title=str(data.get("title", "")))


def _contract(data: Mapping[str, Any]) -> Contract:
    apprentice = data.get("apprentice") or {}
    receipts = data.get("confirmation_opened_at") or {}
    name = " ".join(part for part in (apprentice.get("first_name"), apprentice.get("last_name")) if part)
    return Contract(
        contract_id=str(data.get("id") or ""),
        contract_number=str(data.get("contract_number") or ""),
        state=str(data.get("state") or ""),
        registered_on=parse_date(data.get("registered_on")),
        start_date=parse_date(data.get("start_date")),
        end_date=parse_date(data.get("end_date")),
        occupation=_occupation(data.get("occupation") or {}),
        company=_company(data.get("company") or {}),
        apprentice_name=name,
        apprentice_number=apprentice.get("apprentice_number"),
        account_state=apprentice.get("account_state"),
        company_opened_at=parse_datetime(receipts.get("company")),
        apprentice_opened_at=parse_datetime(receipts.get("apprentice")),
    )


def _document(data: Mapping[str, Any]) -> Document:
    return Document(
        document_id=str(data.get("id") or ""),
        kind=str(data.get("kind") or ""),
        title=str(data.get("title") or "Dokument"),
        contract_id=str(data["contract_id"]) if data.get("contract_id") else None,
        issued_at=parse_datetime(data.get("issued_at")),
        opened_at=parse_datetime(data.get("first_opened_at")),
        recipient_kind=str(data.get("recipient_kind") or ""),
    )


def parse_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def parse_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _filename(disposition: str | None, document_id: str) -> str:
    # Only a plain, safe name goes back into our own Content-Disposition.
    if disposition and "filename=" in disposition:
        raw = disposition.split("filename=", 1)[1].split(";", 1)[0].strip().strip('"')
        base = raw.replace("\\", "/").rsplit("/", 1)[-1].replace(" ", "-")
        safe = "".join(ch for ch in base if ch.isascii() and (ch.isalnum() or ch in "._-")).lstrip(".")
        if safe.lower().endswith(".pdf") and len(safe) > 4:
            return safe
    return f"dokument-{document_id}.pdf"
