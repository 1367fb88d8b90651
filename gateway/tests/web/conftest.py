"""Fixtures of the web UI's unit tests: the app with a fake services client and signed-in users."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from gateway.web.account_admin import AccountLock, AuditEntry, AuditQuery
from gateway.web.app import create_app
from gateway.web.config import WebSettings
from gateway.web.services import (
    AtlasEntry,
    AtlasHit,
    AtlasOffer,
    AtlasProfile,
    ChangeRequest,
    Company,
    Contract,
    ContractChange,
    ContractFilters,
    ContractPage,
    Document,
    FileStream,
    ImportJob,
    ImportRowError,
    NewContract,
    Occupation,
    Page,
    PdfStream,
    ServiceError,
    Trainer,
    TrainerInput,
    TrainerRef,
)
from gateway.web.store import migrate
from gateway.web.tokens import TokenSet, TokenStore

Handler = Callable[[Request], Response]

CLAIMS: dict[str, dict[str, Any]] = {
    "clerk": {"name": "Sabine Schreiber", "roles": ["chamber_clerk"], "company_roles": {}},
    "company_admin": {"name": "Markus Muster", "roles": [], "company_roles": {"4711001": ["admin"]}},
    "company_manager": {"name": "Vera Verwalter", "roles": [], "company_roles": {"4711001": ["manager"]}},
    "trainer": {"name": "Anna Ausbilder", "roles": [], "company_roles": {"4711001": ["trainer"]}},
    "apprentice": {
        "name": "Lena Lernwillig",
        "roles": ["apprentice"],
        "company_roles": {},
        "apprentice_number": "20260001",
    },
    "examiner": {"name": "Peter Prüfer", "roles": ["examiner"], "company_roles": {}},
    "chamber_admin": {"name": "Karl Kammer", "roles": ["chamber_admin"], "company_roles": {}},
}


@dataclass
class FakeServices:
    """The services' APIs in memory, with the same methods as ``HttpServices``."""

    companies_list: list[Company] = field(
        default_factory=lambda: [Company("4711001", "Muster Maschinenbau GmbH")]
    )
    occupations_list: list[Occupation] = field(
        default_factory=lambda: [
            Occupation("78100", "Industriekaufmann/Industriekauffrau"),
            Occupation(
                "fk-gastronomie", "Fachkraft für Gastronomie", ("Restaurantservice", "Systemgastronomie")
            ),
        ]
    )
    contract_list: list[Contract] = field(default_factory=list)
    document_list: list[Document] = field(default_factory=list)
    pdf: bytes = b"%PDF-1.7\n%fake\n"
    # Set to make the next call of that method fail like the real client does.
    failures: dict[str, ServiceError] = field(default_factory=dict)
    registered: list[NewContract] = field(default_factory=list)
    idempotency_keys: list[str | None] = field(default_factory=list)
    tokens_seen: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    history: dict[str, list[ContractChange]] = field(default_factory=dict)
    changes: list[tuple[str, ChangeRequest]] = field(default_factory=list)
    trainer_list: list[Trainer] = field(default_factory=list)
    removed_trainers: list[str] = field(default_factory=list)
    atlas: dict[str, AtlasProfile] = field(default_factory=dict)
    atlas_hits: list[AtlasHit] = field(default_factory=list)
    atlas_searches: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    import_jobs: list[ImportJob] = field(default_factory=list)
    import_row_errors: dict[str, list[ImportRowError]] = field(default_factory=dict)
    uploads: list[tuple[str, bytes, str]] = field(default_factory=list)
    contract_filters: list[ContractFilters | None] = field(default_factory=list)
    report: bytes = "\ufeffZeile;Spalte;Code;Fehler\r\n".encode()
    # identity's chamber tools (gateway.web.account_admin.AccountAdmin)
    account_locks: dict[str, AccountLock] = field(default_factory=dict)
    unlocked: list[str] = field(default_factory=list)
    audit_entries: list[AuditEntry] = field(default_factory=list)
    audit_queries: list[tuple[AuditQuery, str | None]] = field(default_factory=list)

    def account_lock(self, login: str) -> AccountLock | None:
        self._maybe_fail("account_lock")
        return self.account_locks.get(login.strip().lower())

    def unlock_account(self, account_id: str) -> AccountLock:
        self._maybe_fail("unlock_account")
        self.unlocked.append(account_id)
        for login, lock in self.account_locks.items():
            if lock.account_id == account_id:
                self.account_locks[login] = replace(lock, locked_until=None, failed_logins=0)
                return self.account_locks[login]
        raise ServiceError(404)

    def audit_log(self, query: AuditQuery, *, cursor: str | None = None) -> Page[AuditEntry]:
        self._maybe_fail("audit_log")
        self.audit_queries.append((query, cursor))
        return Page(items=list(self.audit_entries), next_cursor=None, cursor=cursor)

    def _maybe_fail(self, name: str) -> None:
        if name in self.failures:
            raise self.failures[name]

    def companies(self) -> Sequence[Company]:
        self._maybe_fail("companies")
        return list(self.companies_list)

    def occupations(self) -> Sequence[Occupation]:
        self._maybe_fail("occupations")
        return list(self.occupations_list)

    def contracts(self, *, cursor: str | None = None, filters: ContractFilters | None = None) -> ContractPage:
        self._maybe_fail("contracts")
        self.contract_filters.append(filters)
        return ContractPage(items=list(self.contract_list), next_cursor=None, cursor=cursor)

    def register_contract(self, new: NewContract, *, idempotency_key: str | None = None) -> Contract:
        self._maybe_fail("register_contract")
        self.idempotency_keys.append(idempotency_key)
        self.registered.append(new)
        contract = Contract(
            contract_id=str(uuid.uuid4()),
            contract_number=f"2026-{len(self.registered):06d}",
            state="registered",
            registered_on=date.today(),
            start_date=new.start_date,
            end_date=new.end_date,
            occupation=next(o for o in self.occupations_list if o.code == new.occupation_code),
            company=next(c for c in self.companies_list if c.company_number == new.company_number),
            apprentice_name=f"{new.first_name} {new.last_name}",
            apprentice_number=None,
            account_state="none",
        )
        self.contract_list.append(contract)
        return contract

    def contract_history(self, contract_id: str) -> Sequence[ContractChange]:
        self._maybe_fail("contract_history")
        self.contract(contract_id)
        return list(self.history.get(contract_id, []))

    def change_contract(
        self, contract_id: str, change: ChangeRequest, *, idempotency_key: str | None = None
    ) -> Contract:
        self._maybe_fail("change_contract")
        self.idempotency_keys.append(idempotency_key)
        contract = self.contract(contract_id)
        self.changes.append((contract_id, change))
        updated = replace_contract(contract, change, self.trainer_list)
        self.contract_list = [updated if c.contract_id == contract_id else c for c in self.contract_list]
        return updated

    def trainers(self, company_number: str) -> Sequence[Trainer]:
        self._maybe_fail("trainers")
        return [t for t in self.trainer_list if t.company_number == company_number]

    def trainer(self, trainer_id: str) -> Trainer:
        self._maybe_fail("trainer")
        for trainer in self.trainer_list:
            if trainer.trainer_id == trainer_id:
                return trainer
        raise ServiceError(404)

    def add_trainer(
        self, company_number: str, trainer: TrainerInput, *, idempotency_key: str | None = None
    ) -> Trainer:
        self._maybe_fail("add_trainer")
        self.idempotency_keys.append(idempotency_key)
        added = Trainer(
            str(uuid.uuid4()),
            company_number,
            trainer.first_name,
            trainer.last_name,
            trainer.email,
            trainer.qualified,
        )
        self.trainer_list.append(added)
        return added

    def change_trainer(
        self, trainer_id: str, trainer: TrainerInput, *, idempotency_key: str | None = None
    ) -> Trainer:
        self._maybe_fail("change_trainer")
        self.idempotency_keys.append(idempotency_key)
        old = self.trainer(trainer_id)
        changed = Trainer(
            trainer_id,
            old.company_number,
            trainer.first_name,
            trainer.last_name,
            trainer.email,
            trainer.qualified,
            old.contracts,
        )
        self.trainer_list = [changed if t.trainer_id == trainer_id else t for t in self.trainer_list]
        return changed

    def remove_trainer(self, trainer_id: str) -> None:
        self._maybe_fail("remove_trainer")
        self.trainer(trainer_id)
        self.removed_trainers.append(trainer_id)
        self.trainer_list = [t for t in self.trainer_list if t.trainer_id != trainer_id]

    def atlas_profile(self, company_number: str) -> AtlasProfile:
        self._maybe_fail("atlas_profile")
        return self.atlas.get(company_number, AtlasProfile(company_number, False, ()))

    def save_atlas_entry(
        self,
        company_number: str,
        occupation_code: str,
        offer: AtlasOffer,
        *,
        idempotency_key: str | None = None,
    ) -> AtlasEntry:
        self._maybe_fail("save_atlas_entry")
        self.idempotency_keys.append(idempotency_key)
        profile = self.atlas_profile(company_number)
        entry = AtlasEntry(company_number, occupation_code, offer)
        others = tuple(e for e in profile.entries if e.occupation_code != occupation_code)
        self.atlas[company_number] = AtlasProfile(company_number, profile.consent, (*others, entry))
        return entry

    def remove_atlas_entry(self, company_number: str, occupation_code: str) -> None:
        self._maybe_fail("remove_atlas_entry")
        profile = self.atlas_profile(company_number)
        entries = tuple(e for e in profile.entries if e.occupation_code != occupation_code)
        if len(entries) == len(profile.entries):
            raise ServiceError(404)
        self.atlas[company_number] = AtlasProfile(company_number, profile.consent, entries)

    def set_atlas_consent(
        self, company_number: str, consent: bool, *, idempotency_key: str | None = None
    ) -> Company:
        self._maybe_fail("set_atlas_consent")
        self.idempotency_keys.append(idempotency_key)
        profile = self.atlas_profile(company_number)
        self.atlas[company_number] = AtlasProfile(company_number, consent, profile.entries)
        return next(c for c in self.companies_list if c.company_number == company_number)

    def atlas_occupations(self) -> Sequence[Occupation]:
        self._maybe_fail("atlas_occupations")
        return list(self.occupations_list)

    def search_atlas(
        self, occupation_code: str, place: str | None, *, cursor: str | None = None
    ) -> Page[AtlasHit]:
        self._maybe_fail("search_atlas")
        self.atlas_searches.append((occupation_code, place, cursor))
        return Page(
            items=[h for h in self.atlas_hits if h.entry.occupation_code == occupation_code], cursor=cursor
        )

    def imports(self, *, cursor: str | None = None) -> Page[ImportJob]:
        self._maybe_fail("imports")
        return Page(items=list(self.import_jobs), cursor=cursor)

    def upload_import(
        self, filename: str, data: Any, content_type: str, *, idempotency_key: str | None = None
    ) -> ImportJob:
        self._maybe_fail("upload_import")
        self.idempotency_keys.append(idempotency_key)
        self.uploads.append((filename, data.read(), content_type))
        job = ImportJob(str(uuid.uuid4()), filename, datetime.now(UTC), "queued")
        self.import_jobs.insert(0, job)
        return job

    def import_job(self, job_id: str) -> ImportJob:
        self._maybe_fail("import_job")
        for job in self.import_jobs:
            if job.job_id == job_id:
                return job
        raise ServiceError(404)

    def import_errors(self, job_id: str, *, limit: int = 50) -> Page[ImportRowError]:
        self._maybe_fail("import_errors")
        return Page(items=self.import_row_errors.get(job_id, [])[:limit])

    def import_report(self, job_id: str) -> FileStream:
        self._maybe_fail("import_report")
        self.import_job(job_id)
        return FileStream(
            chunks=iter([self.report]), filename=f"importbericht-{job_id}.csv", length=str(len(self.report))
        )

    def documents(self, *, unread: bool = False) -> Sequence[Document]:
        self._maybe_fail("documents")
        return [d for d in self.document_list if d.unread or not unread]

    def contract(self, contract_id: str) -> Contract:
        self._maybe_fail("contract")
        for contract in self.contract_list:
            if contract.contract_id == contract_id:
                return contract
        raise ServiceError(404)

    def contract_documents(self, contract_id: str) -> Sequence[Document]:
        self._maybe_fail("contract_documents")
        self.contract(contract_id)
        return [d for d in self.document_list if d.contract_id == contract_id]

    def document_content(self, document_id: str) -> PdfStream:
        self._maybe_fail("document_content")
        if document_id not in {d.document_id for d in self.document_list}:
            raise ServiceError(404)
        self.opened.append(document_id)
        return PdfStream(
            chunks=iter([self.pdf]), filename="eintragungsbestaetigung.pdf", length=str(len(self.pdf))
        )


def replace_contract(contract: Contract, change: ChangeRequest, trainers: Sequence[Trainer]) -> Contract:
    """What training-records does with a contract for each step (the rules live there)."""
    from dataclasses import replace

    match change.kind:
        case "extended" | "shortened":
            return replace(contract, end_date=change.end_date)
        case "interrupted":
            return replace(contract, state="interrupted", interrupted_since=change.effective_on)
        case "resumed":
            return replace(contract, state="registered", interrupted_since=None)
        case "trainer_changed":
            named = {t.trainer_id: t.name for t in trainers}
            trainer = TrainerRef(change.trainer_id, named[change.trainer_id]) if change.trainer_id else None
            return replace(contract, trainer=trainer)
        case "completed":
            return replace(contract, state="completed", ended_on=change.effective_on)
        case "terminated":
            return replace(
                contract, state="terminated", ended_on=change.effective_on, termination_reason=change.reason
            )
    raise AssertionError(change.kind)


@pytest.fixture
def fake_services() -> FakeServices:
    return FakeServices()


@pytest.fixture
def web_settings(tmp_path: Path) -> WebSettings:
    settings = WebSettings.from_env(
        {
            "BP_PUBLIC_URL": "http://portal.test",
            "WEB_DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}",
            "WEB_SECRET_KEY": "unit-test-secret",
            "BP_WEB_CLIENT_SECRET": "unit-test-client-secret",
            "BP_DATA_DIR": str(tmp_path),
        }
    )
    # As before the workers start (bp-portal migrate-web): the app itself creates no tables.
    migrate(settings.database_url)
    return settings


@pytest.fixture
def app(web_settings: WebSettings, fake_services: FakeServices) -> Flask:
    def factory(access_token: str) -> FakeServices:
        fake_services.tokens_seen.append(access_token)
        return fake_services

    return create_app(web_settings, services_factory=factory, public_services_factory=lambda: fake_services)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


@pytest.fixture
def login(app: Flask, client: FlaskClient) -> Callable[[str], TokenSet]:
    """Sign the test client in as one of ``CLAIMS`` (as the OIDC callback would)."""

    def sign_in(role: str) -> TokenSet:
        claims = {"sub": str(uuid.uuid4()), "email": f"{role}@example.test", **CLAIMS[role]}
        token_set = TokenSet(
            id=uuid.uuid4().hex,
            subject=claims["sub"],
            access_token=f"access-{role}-{uuid.uuid4().hex}",
            refresh_token=f"refresh-{uuid.uuid4().hex}",
            id_token=None,
            expires_at=time.time() + 3600,
            claims=claims,
        )
        store: TokenStore = app.extensions["web.tokens"]
        store.save(token_set)
        with client.session_transaction() as session:
            session["token_set"] = token_set.id
            session["login_at"] = time.time()
        return token_set

    return sign_in


@pytest.fixture
def form_token() -> Callable[[str], str]:
    """The one-time token of a rendered creating form."""

    def extract(html: str) -> str:
        match = re.search(r'name="form_token" type="hidden" value="([^"]+)"', html)
        assert match, "no form token in the page"
        return match.group(1)

    return extract


@pytest.fixture
def csrf_token() -> Callable[[str], str]:
    """The CSRF token from a rendered form."""

    def extract(html: str) -> str:
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
            r'name="csrf_token" value="([^"]+)"', html
        )
        assert match, "no CSRF token in the page"
        return match.group(1)

    return extract


@pytest.fixture
def make_contract() -> Callable[..., Contract]:
    def make(**overrides: object) -> Contract:
        values: dict[str, object] = {
            "contract_id": "c0ffee00-0000-4000-8000-000000000001",
            "contract_number": "2026-000001",
            "state": "registered",
            "registered_on": date.today(),  # just registered: its downstream steps are running
            "start_date": date(2026, 8, 1),
            "end_date": date(2029, 7, 31),
            "occupation": Occupation("78100", "Industriekaufmann/Industriekauffrau"),
            "company": Company("4711001", "Muster Maschinenbau GmbH"),
            "apprentice_name": "Lena Lernwillig",
            "apprentice_number": "20260001",
            "account_state": "prepared",
        }
        values.update(overrides)
        return Contract(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def make_document() -> Callable[..., Document]:
    def make(
        *, title: str = "Eintragungsbestätigung", opened_at: datetime | None = None, **kwargs: Any
    ) -> Document:
        return Document(
            document_id=kwargs.pop("document_id", str(uuid.uuid4())),
            kind=kwargs.pop("kind", "registration_confirmation"),
            title=title,
            contract_id=kwargs.pop("contract_id", None),
            issued_at=kwargs.pop("issued_at", datetime(2026, 11, 24, 9, 0, tzinfo=UTC)),
            opened_at=opened_at,
            **kwargs,
        )

    return make


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], str]]:
    """Serve a request handler on a free port over real HTTP; returns its base URL."""
    servers = []

    def start(handler: Handler) -> str:
        @Request.application
        def app(request: Request) -> Response:
            return handler(request)

        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
