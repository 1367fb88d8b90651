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
from typing import IO, Any, Generic, Protocol, TypeVar
from urllib.parse import quote

import requests

CONTRACTS_PER_PAGE = 20
TRAINERS_PER_PAGE = 100
IMPORTS_PER_PAGE = 20
IMPORT_ERRORS_SHOWN = 50
ATLAS_HITS_PER_PAGE = 10
# training-records reads import files up to this size (training_records.service_layer.importing).
IMPORT_MAX_BYTES = 64 * 1024 * 1024  # as training-records accepts on POST /imports
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

T = TypeVar("T")


@dataclass(frozen=True)
class Company:
    company_number: str
    name: str
    head_office_number: str | None = None  # its Zentrale, if a branch
    atlas_consent: bool = False


@dataclass(frozen=True)
class Occupation:
    code: str
    title: str
    specialisms: tuple[str, ...] = ()  # Fachrichtungen


@dataclass(frozen=True)
class TrainerRef:
    trainer_id: str
    name: str


@dataclass(frozen=True)
class ContractTerms:
    probation_months: int | None = None  # None: entered before the register recorded it
    part_time: bool = False
    shortened_by_months: int = 0
    specialism: str | None = None


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
    terms: ContractTerms = ContractTerms()
    trainer: TrainerRef | None = None
    interrupted_since: date | None = None
    ended_on: date | None = None
    termination_reason: str | None = None
    head_office_number: str | None = None  # the company's Zentrale, if it is a branch

    @property
    def running(self) -> bool:
        """Still in the register's life: steps may be entered (eingetragen or unterbrochen)."""
        return self.state in ("registered", "interrupted")


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
    probation_months: int | None = None
    part_time: bool = False
    shortened_by_months: int = 0
    specialism: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
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
            "part_time": self.part_time,
            "shortened_by_months": self.shortened_by_months,
        }
        if self.probation_months is not None:
            body["probation_months"] = self.probation_months
        if self.specialism:
            body["specialism"] = self.specialism
        return body


@dataclass(frozen=True)
class ContractFilters:
    """The chamber's search over the register; empty fields do not narrow."""

    name: str | None = None
    apprentice_number: str | None = None
    company_number: str | None = None
    occupation_code: str | None = None
    state: str | None = None
    start_from: date | None = None
    start_until: date | None = None
    registered_from: date | None = None
    registered_until: date | None = None

    def as_params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        for name, value in vars(self).items():
            if isinstance(value, date):
                params[name] = value.isoformat()
            elif value:
                params[name] = str(value)
        return params

    @property
    def active(self) -> bool:
        return bool(self.as_params())


@dataclass(frozen=True)
class Page(Generic[T]):
    """One keyset page: ``next_cursor`` asks for the next one (None on the last page)."""

    items: Sequence[T]
    next_cursor: str | None = None
    cursor: str | None = None  # the cursor this page was asked with (None: the first page)

    @property
    def first(self) -> bool:
        return self.cursor is None


ContractPage = Page[Contract]


@dataclass(frozen=True)
class ContractChange:
    """One step of a contract's life, as its history ("Verlauf") lists it."""

    change_id: str
    kind: str
    effective_on: date | None
    recorded_at: datetime | None
    details: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeRequest:
    """A step the chamber (or, for the trainer, the company) enters into a contract's life."""

    kind: str  # extended, shortened, interrupted, resumed, trainer_changed, completed, terminated
    effective_on: date | None = None
    end_date: date | None = None
    trainer_id: str | None = None  # trainer_changed: None takes the trainer off the contract
    reason: str | None = None  # terminated
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": self.kind}
        if self.effective_on is not None:
            body["effective_on"] = self.effective_on.isoformat()
        if self.end_date is not None:
            body["end_date"] = self.end_date.isoformat()
        if self.kind == "trainer_changed":
            body["trainer_id"] = self.trainer_id
        if self.reason:
            body["reason"] = self.reason
        if self.note:
            body["note"] = self.note
        return body


@dataclass(frozen=True)
class AssignedContract:
    contract_id: str
    contract_number: str
    apprentice_name: str


@dataclass(frozen=True)
class Trainer:
    trainer_id: str
    company_number: str
    first_name: str
    last_name: str
    email: str
    qualified: bool
    contracts: tuple[AssignedContract, ...] = ()
    account_state: str | None = None  # the trainer's portal account: none, invited, active

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class TrainerInput:
    first_name: str
    last_name: str
    email: str
    qualified: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "qualified": self.qualified,
        }


@dataclass(frozen=True)
class AtlasOffer:
    """What a company publishes about its training places in one occupation."""

    places: int
    postal_code: str
    city: str
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    website: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {name: value for name, value in vars(self).items() if value is not None and value != ""}


@dataclass(frozen=True)
class AtlasEntry:
    company_number: str
    occupation_code: str
    offer: AtlasOffer
    updated_at: datetime | None = None


@dataclass(frozen=True)
class AtlasProfile:
    company_number: str
    consent: bool
    entries: tuple[AtlasEntry, ...]


@dataclass(frozen=True)
class AtlasHit:
    company_name: str
    occupation_title: str
    entry: AtlasEntry


@dataclass(frozen=True)
class ImportJob:
    """An upload of the chamber's data import and how far it has come."""

    job_id: str
    filename: str
    uploaded_at: datetime | None
    status: str  # queued, running, succeeded, failed
    total_rows: int = 0
    done_rows: int = 0
    error_count: int = 0
    created_count: int = 0
    updated_count: int = 0
    unchanged_count: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    failure: str | None = None
    failure_detail: str | None = None  # German, for the clerk
    percent: int = 0
    seconds_left: float | None = None

    @property
    def in_progress(self) -> bool:
        return self.status in ("queued", "running")


@dataclass(frozen=True)
class ImportRowError:
    line: int
    column: str
    code: str
    message: str  # German


@dataclass
class FileStream:
    """A file from a service, streamed on to the browser."""

    chunks: Iterator[bytes]
    filename: str
    length: str | None = None
    close: Any = field(default=None, repr=False)


PdfStream = FileStream


class Services(Protocol):
    """What the pages need from the services; tests pass a fake with the same methods."""

    def companies(self) -> Sequence[Company]: ...
    def occupations(self) -> Sequence[Occupation]: ...
    def contracts(
        self, *, cursor: str | None = None, filters: ContractFilters | None = None
    ) -> ContractPage: ...
    def register_contract(self, new: NewContract, *, idempotency_key: str | None = None) -> Contract: ...
    def documents(self, *, unread: bool = False) -> Sequence[Document]: ...
    def contract(self, contract_id: str) -> Contract: ...
    def contract_documents(self, contract_id: str) -> Sequence[Document]: ...
    def document_content(self, document_id: str) -> FileStream: ...
    def contract_history(self, contract_id: str) -> Sequence[ContractChange]: ...
    def change_contract(
        self, contract_id: str, change: ChangeRequest, *, idempotency_key: str | None = None
    ) -> Contract: ...
    def trainers(self, company_number: str) -> Sequence[Trainer]: ...
    def trainer(self, trainer_id: str) -> Trainer: ...
    def add_trainer(
        self, company_number: str, trainer: TrainerInput, *, idempotency_key: str | None = None
    ) -> Trainer: ...
    def change_trainer(
        self, trainer_id: str, trainer: TrainerInput, *, idempotency_key: str | None = None
    ) -> Trainer: ...
    def remove_trainer(self, trainer_id: str) -> None: ...
    def atlas_profile(self, company_number: str) -> AtlasProfile: ...
    def save_atlas_entry(
        self,
        company_number: str,
        occupation_code: str,
        offer: AtlasOffer,
        *,
        idempotency_key: str | None = None,
    ) -> AtlasEntry: ...
    def remove_atlas_entry(self, company_number: str, occupation_code: str) -> None: ...
    def set_atlas_consent(
        self, company_number: str, consent: bool, *, idempotency_key: str | None = None
    ) -> Company: ...
    def imports(self, *, cursor: str | None = None) -> Page[ImportJob]: ...
    def upload_import(
        self, filename: str, data: IO[bytes], content_type: str, *, idempotency_key: str | None = None
    ) -> ImportJob: ...
    def import_job(self, job_id: str) -> ImportJob: ...
    def import_errors(self, job_id: str, *, limit: int = IMPORT_ERRORS_SHOWN) -> Page[ImportRowError]: ...
    def import_report(self, job_id: str) -> FileStream: ...


class PublicServices(Protocol):
    """What pages without login need: the public Ausbildungsatlas."""

    def atlas_occupations(self) -> Sequence[Occupation]: ...
    def search_atlas(
        self, occupation_code: str, place: str | None, *, cursor: str | None = None
    ) -> Page[AtlasHit]: ...


# --- the HTTP client -------------------------------------------------------


class HttpServices:
    """The services' APIs under ``<api base>/api/...`` with one user's access token (none: public pages)."""

    def __init__(
        self,
        base_url: str,
        access_token: str | None,
        *,
        http: requests.Session,
        timeout: float = 10.0,
        request_id: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.timeout = (3.05, timeout)
        self.headers = {"Accept": "application/json", "X-Request-ID": request_id or str(uuid.uuid4())}
        if access_token is not None:
            self.headers["Authorization"] = f"Bearer {access_token}"

    def companies(self) -> list[Company]:
        # The form's select needs them all; the API pages at most 100 at a time.
        return [_company(item) for item in self._every_page("/api/training/companies")]

    def occupations(self) -> list[Occupation]:
        return [_occupation(item) for item in self._every_page("/api/training/occupations")]

    def contracts(self, *, cursor: str | None = None, filters: ContractFilters | None = None) -> ContractPage:
        params = {
            **(filters.as_params() if filters else {}),
            "limit": str(CONTRACTS_PER_PAGE),
            **({"cursor": cursor} if cursor else {}),
        }
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
        response = self._send(
            "POST", "/api/training/contracts", json=new.as_json(), headers=_idempotency(idempotency_key)
        )
        return _contract(_json(response))

    def documents(self, *, unread: bool = False) -> list[Document]:
        # Keyset-paged by documents (100 at a time); a person or company has far fewer.
        filters = {"unread": "true"} if unread else None
        return [_document(item) for item in self._every_page("/api/documents/documents", filters)]

    def contract(self, contract_id: str) -> Contract:
        return _contract(self._get_json(f"/api/training/contracts/{_uuid(contract_id)}"))

    def contract_documents(self, contract_id: str) -> list[Document]:
        path = f"/api/documents/contracts/{_uuid(contract_id)}/documents"
        return [_document(item) for item in self._every_page(path)]

    def document_content(self, document_id: str) -> FileStream:
        path = f"/api/documents/documents/{_uuid(document_id)}/content"
        return self._download(path, "application/pdf", f"dokument-{document_id}.pdf", ".pdf")

    def contract_history(self, contract_id: str) -> list[ContractChange]:
        body = self._get_json(f"/api/training/contracts/{_uuid(contract_id)}/history")
        return [_change(item) for item in _items(body)]

    def change_contract(
        self, contract_id: str, change: ChangeRequest, *, idempotency_key: str | None = None
    ) -> Contract:
        path = f"/api/training/contracts/{_uuid(contract_id)}/changes"
        response = self._send("POST", path, json=change.as_json(), headers=_idempotency(idempotency_key))
        return _contract(_json(response))

    def trainers(self, company_number: str) -> list[Trainer]:
        path = f"/api/training/companies/{_segment(company_number)}/trainers"
        return [_trainer(item) for item in self._every_page(path)]

    def trainer(self, trainer_id: str) -> Trainer:
        return _trainer(self._get_json(f"/api/training/trainers/{_uuid(trainer_id)}"))

    def add_trainer(
        self, company_number: str, trainer: TrainerInput, *, idempotency_key: str | None = None
    ) -> Trainer:
        path = f"/api/training/companies/{_segment(company_number)}/trainers"
        response = self._send("POST", path, json=trainer.as_json(), headers=_idempotency(idempotency_key))
        return _trainer(_json(response))

    def change_trainer(
        self, trainer_id: str, trainer: TrainerInput, *, idempotency_key: str | None = None
    ) -> Trainer:
        path = f"/api/training/trainers/{_uuid(trainer_id)}"
        response = self._send("PUT", path, json=trainer.as_json(), headers=_idempotency(idempotency_key))
        return _trainer(_json(response))

    def remove_trainer(self, trainer_id: str) -> None:
        self._send("DELETE", f"/api/training/trainers/{_uuid(trainer_id)}").close()

    def atlas_profile(self, company_number: str) -> AtlasProfile:
        body = self._get_json(f"/api/training/companies/{_segment(company_number)}/atlas")
        if not isinstance(body, Mapping):
            raise ServiceError(502)
        return AtlasProfile(
            company_number=str(body.get("company_number") or company_number),
            consent=bool(body.get("consent")),
            entries=tuple(
                _atlas_entry(item) for item in body.get("entries") or () if isinstance(item, Mapping)
            ),
        )

    def save_atlas_entry(
        self,
        company_number: str,
        occupation_code: str,
        offer: AtlasOffer,
        *,
        idempotency_key: str | None = None,
    ) -> AtlasEntry:
        path = f"/api/training/companies/{_segment(company_number)}/atlas/{_segment(occupation_code)}"
        response = self._send("PUT", path, json=offer.as_json(), headers=_idempotency(idempotency_key))
        return _atlas_entry(_json(response))

    def remove_atlas_entry(self, company_number: str, occupation_code: str) -> None:
        path = f"/api/training/companies/{_segment(company_number)}/atlas/{_segment(occupation_code)}"
        self._send("DELETE", path).close()

    def set_atlas_consent(
        self, company_number: str, consent: bool, *, idempotency_key: str | None = None
    ) -> Company:
        path = f"/api/training/companies/{_segment(company_number)}/atlas-consent"
        response = self._send("PUT", path, json={"consent": consent}, headers=_idempotency(idempotency_key))
        return _company(_json(response))

    def imports(self, *, cursor: str | None = None) -> Page[ImportJob]:
        params = {"limit": str(IMPORTS_PER_PAGE), **({"cursor": cursor} if cursor else {})}
        body = self._get_json("/api/training/imports", params)
        return Page(
            items=[_import_job(item) for item in _items(body)], next_cursor=_next_cursor(body), cursor=cursor
        )

    def upload_import(
        self, filename: str, data: IO[bytes], content_type: str, *, idempotency_key: str | None = None
    ) -> ImportJob:
        response = self._send(
            "POST",
            "/api/training/imports",
            files={"file": (filename, data, content_type or "application/octet-stream")},
            headers=_idempotency(idempotency_key),
        )
        return _import_job(_json(response))

    def import_job(self, job_id: str) -> ImportJob:
        return _import_job(self._get_json(f"/api/training/imports/{_uuid(job_id)}"))

    def import_errors(self, job_id: str, *, limit: int = IMPORT_ERRORS_SHOWN) -> Page[ImportRowError]:
        body = self._get_json(f"/api/training/imports/{_uuid(job_id)}/errors", {"limit": str(limit)})
        return Page(items=[_row_error(item) for item in _items(body)], next_cursor=_next_cursor(body))

    def import_report(self, job_id: str) -> FileStream:
        path = f"/api/training/imports/{_uuid(job_id)}/report.csv"
        return self._download(path, "text/csv", f"importbericht-{job_id}.csv", ".csv")

    # -- public (no token) --

    def atlas_occupations(self) -> list[Occupation]:
        """The occupations the public search offers (the catalogue is public information)."""
        return [_occupation(item) for item in self._every_page("/api/training/atlas/occupations")]

    def search_atlas(
        self, occupation_code: str, place: str | None, *, cursor: str | None = None
    ) -> Page[AtlasHit]:
        params = {
            "occupation_code": occupation_code,
            "limit": str(ATLAS_HITS_PER_PAGE),
            **({"place": place} if place else {}),
            **({"cursor": cursor} if cursor else {}),
        }
        body = self._get_json("/api/training/atlas", params)
        return Page(
            items=[_atlas_hit(item) for item in _items(body)], next_cursor=_next_cursor(body), cursor=cursor
        )

    # -- plumbing --

    def _download(self, path: str, accept: str, fallback: str, suffix: str) -> FileStream:
        response = self._send("GET", path, stream=True, accept=accept)
        return FileStream(
            chunks=response.iter_content(64 * 1024),
            filename=_filename(response.headers.get("Content-Disposition"), fallback, suffix),
            length=response.headers.get("Content-Length"),
            close=response.close,
        )

    def _get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return _json(self._send("GET", path, params=params))

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


def _idempotency(key: str | None) -> dict[str, str] | None:
    return {"Idempotency-Key": key} if key else None


def _uuid(value: str) -> uuid.UUID:
    """Ids in paths are UUIDs: anything else is a 404 here, never a path of another resource."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ServiceError(404) from None


def _segment(value: str) -> str:
    # Identnummern and occupation codes are letters, digits and hyphens; anything else stays one segment.
    return quote(value, safe="")


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ServiceError(502) from None


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


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _company(data: Mapping[str, Any]) -> Company:
    return Company(
        company_number=str(data.get("company_number", "")),
        name=str(data.get("name", "")),
        head_office_number=_text(data.get("head_office_number")),
        atlas_consent=bool(data.get("atlas_consent")),
    )


def _occupation(data: Mapping[str, Any]) -> Occupation:
    specialisms = data.get("specialisms") or ()
    return Occupation(
        code=str(data.get("code", "")),
        title=str(data.get("title", "")),
        specialisms=tuple(str(s) for s in specialisms if s) if isinstance(specialisms, list | tuple) else (),
    )


def _contract(data: Mapping[str, Any]) -> Contract:
    apprentice = data.get("apprentice") or {}
    receipts = data.get("confirmation_opened_at") or {}
    terms = data.get("terms") or {}
    trainer = data.get("trainer") or None
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
        terms=ContractTerms(
            probation_months=_int(terms["probation_months"]) if terms.get("probation_months") else None,
            part_time=bool(terms.get("part_time")),
            shortened_by_months=_int(terms.get("shortened_by_months")),
            specialism=_text(terms.get("specialism")),
        ),
        trainer=(
            TrainerRef(trainer_id=str(trainer.get("id") or ""), name=str(trainer.get("name") or ""))
            if isinstance(trainer, Mapping)
            else None
        ),
        interrupted_since=parse_date(data.get("interrupted_since")),
        ended_on=parse_date(data.get("ended_on")),
        termination_reason=_text(data.get("termination_reason")),
        head_office_number=_text(data.get("head_office_number")),
    )


def _change(data: Mapping[str, Any]) -> ContractChange:
    details = data.get("details") or {}
    return ContractChange(
        change_id=str(data.get("id") or ""),
        kind=str(data.get("kind") or ""),
        effective_on=parse_date(data.get("effective_on")),
        recorded_at=parse_datetime(data.get("recorded_at")),
        details={str(k): _text(v) for k, v in details.items()} if isinstance(details, Mapping) else {},
    )


def _trainer(data: Mapping[str, Any]) -> Trainer:
    contracts = data.get("contracts") or ()
    return Trainer(
        trainer_id=str(data.get("id") or ""),
        company_number=str(data.get("company_number") or ""),
        first_name=str(data.get("first_name") or ""),
        last_name=str(data.get("last_name") or ""),
        email=str(data.get("email") or ""),
        qualified=bool(data.get("qualified")),
        account_state=_text(data.get("account_state")),
        contracts=tuple(
            AssignedContract(
                contract_id=str(c.get("id") or ""),
                contract_number=str(c.get("contract_number") or ""),
                apprentice_name=str(c.get("apprentice_name") or ""),
            )
            for c in contracts
            if isinstance(c, Mapping)
        ),
    )


def _atlas_entry(data: Mapping[str, Any]) -> AtlasEntry:
    return AtlasEntry(
        company_number=str(data.get("company_number") or ""),
        occupation_code=str(data.get("occupation_code") or ""),
        offer=AtlasOffer(
            places=_int(data.get("places")),
            postal_code=str(data.get("postal_code") or ""),
            city=str(data.get("city") or ""),
            contact_name=_text(data.get("contact_name")),
            contact_email=_text(data.get("contact_email")),
            contact_phone=_text(data.get("contact_phone")),
            website=_text(data.get("website")),
        ),
        updated_at=parse_datetime(data.get("updated_at")),
    )


def _atlas_hit(data: Mapping[str, Any]) -> AtlasHit:
    return AtlasHit(
        company_name=str(data.get("company_name") or ""),
        occupation_title=str(data.get("occupation_title") or ""),
        entry=_atlas_entry(data.get("entry") or {}),
    )


def _import_job(data: Mapping[str, Any]) -> ImportJob:
    # GET /imports/{id} and the list's items are {job, percent, seconds_left}.
    job = data.get("job") or {}
    if not isinstance(job, Mapping):
        raise ServiceError(502)
    seconds_left = data.get("seconds_left")
    return ImportJob(
        job_id=str(job.get("id") or ""),
        filename=str(job.get("filename") or ""),
        uploaded_at=parse_datetime(job.get("uploaded_at")),
        status=str(job.get("status") or ""),
        total_rows=_int(job.get("total_rows")),
        done_rows=_int(job.get("done_rows")),
        error_count=_int(job.get("error_count")),
        created_count=_int(job.get("created_count")),
        updated_count=_int(job.get("updated_count")),
        unchanged_count=_int(job.get("unchanged_count")),
        started_at=parse_datetime(job.get("started_at")),
        finished_at=parse_datetime(job.get("finished_at")),
        failure=_text(job.get("failure")),
        failure_detail=_text(job.get("failure_detail")),
        percent=max(0, min(100, _int(data.get("percent")))),
        seconds_left=float(seconds_left) if isinstance(seconds_left, int | float) else None,
    )


def _row_error(data: Mapping[str, Any]) -> ImportRowError:
    return ImportRowError(
        line=_int(data.get("line")),
        column=str(data.get("field") or ""),
        code=str(data.get("code") or ""),
        message=str(data.get("message") or ""),
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


def _filename(disposition: str | None, fallback: str, suffix: str) -> str:
    # Only a plain, safe name goes back into our own Content-Disposition.
    if disposition and "filename=" in disposition:
        raw = disposition.split("filename=", 1)[1].split(";", 1)[0].strip().strip('"')
        base = raw.replace("\\", "/").rsplit("/", 1)[-1].replace(" ", "-")
        safe = "".join(ch for ch in base if ch.isascii() and (ch.isalnum() or ch in "._-")).lstrip(".")
        if safe.lower().endswith(suffix) and len(safe) > len(suffix):
            return safe
    return fallback
