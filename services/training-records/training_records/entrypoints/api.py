"""The HTTP API of training-records: views turn requests into commands and queries for the bus.

Every route needs a valid access token: each blueprint authenticates before
its arguments are parsed, so an anonymous caller learns nothing about the
input rules either. What a caller may do and see is decided in ``domain.access``;
its errors become problem+json in the chassis' app factory.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from chassis.app import current_runtime
from chassis.auth import authenticated_blueprint, current_principal
from chassis.pagination import PageRequest
from chassis.paging import PageQuerySchema, page_response
from chassis.principal import Principal
from training_records.bootstrap import TrainingRecordsRuntime
from training_records.domain import access
from training_records.domain.commands import (
    AddOccupation,
    AddTrainer,
    ApprenticeDetails,
    AssignBranch,
    AtlasOffer,
    ChangeCompany,
    ChangeContract,
    ChangeTrainerDetails,
    CompanyDetails,
    RegisterCompany,
    RegisterContract,
    RemoveAtlasEntry,
    RemoveBranch,
    RemoveTrainer,
    RetireOccupation,
    SaveAtlasEntry,
    SetAtlasConsent,
    SetBranchReach,
    TrainerDetails,
    UploadImport,
)
from training_records.domain.import_rows import column_label
from training_records.domain.model import Company, Occupation
from training_records.domain.queries import (
    AtlasProfile,
    ContractFilters,
    ContractView,
    GetAtlasProfile,
    GetCompany,
    GetContract,
    GetContractHistory,
    GetImport,
    GetTrainer,
    ImportProgress,
    ListBranches,
    ListCompanies,
    ListContracts,
    ListImportErrors,
    ListImports,
    ListOccupations,
    ListTrainers,
    SearchAtlas,
    TrainerView,
)
from training_records.entrypoints import schemas
from training_records.service_layer import importing

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
UNAUTHENTICATED = "No valid access token (problem+json, WWW-Authenticate: Bearer)."
NEXT_PAGE_LINK = {
    "Link": {"description": 'rel="next": the next page, if there is one', "schema": {"type": "string"}}
}


def _bus_handle(message: Any) -> Any:
    return current_runtime(TrainingRecordsRuntime).bus.handle(message)


def _authenticated_blueprint(name: str, url_prefix: str, description: str) -> Blueprint:
    return authenticated_blueprint(name, __name__, url_prefix=url_prefix, description=description)


def checked_before_input(rule: Callable[[Principal], None]) -> Callable[[Callable[..., Any]], Any]:
    """Apply an access rule of ``domain.access`` before the body is parsed (the use case applies it
    again), so that a caller who may not act learns nothing about the input rules."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            rule(current_principal())
            return view(*args, **kwargs)

        return wrapper

    return decorate


contracts = _authenticated_blueprint(
    "contracts", "/contracts", "Training contracts (Ausbildungsverhältnisse) in the chamber's register."
)
companies = _authenticated_blueprint("companies", "/companies", "Training companies (Ausbildungsbetriebe).")
occupations = _authenticated_blueprint(
    "occupations", "/occupations", "Recognised occupations (Ausbildungsberufe)."
)
imports = _authenticated_blueprint(
    "imports", "/imports", "The chamber's data import (Datenübermittlung): uploads, progress and reports."
)
trainers = _authenticated_blueprint("trainers", "/trainers", "A company's trainers (Ausbilder/-innen).")
# The public Ausbildungsatlas: no login, and nothing but what consenting companies publish.
atlas = Blueprint(
    "atlas", __name__, url_prefix="/atlas", description="The public Ausbildungsatlas (no login)."
)
BLUEPRINTS = (contracts, companies, occupations, trainers, imports, atlas)
CREATED = {"Location": {"description": "URL of the new resource", "schema": {"type": "string"}}}


@contracts.route("")
class Contracts(MethodView):
    # Unknown query arguments are refused: a mistyped filter must not silently list everything.
    @contracts.arguments(schemas.ContractQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
    @contracts.response(200, schemas.ContractPageSchema, headers=NEXT_PAGE_LINK)
    @contracts.alt_response(401, description=UNAUTHENTICATED)
    @contracts.doc(security=BEARER)
    def get(self, page: PageRequest, filters: ContractFilters) -> Any:
        """List the contracts the caller may see, newest registration first (keyset-paged).

        Chamber staff see all; company administrators and Verwalter their
        companies' contracts; apprentices their own; anyone else an empty list.
        """
        return page_response(_bus_handle(ListContracts(current_principal(), page, filters)))

    @checked_before_input(access.check_may_register)
    @contracts.arguments(schemas.RegisterContractSchema)
    @contracts.response(
        201,
        schemas.ContractSchema,
        headers={"Location": {"description": "URL of the new contract", "schema": {"type": "string"}}},
    )
    @contracts.alt_response(401, description=UNAUTHENTICATED)
    @contracts.alt_response(403, description="Only chamber clerks and administrators may register.")
    @contracts.doc(security=BEARER)
    def post(self, data: dict[str, Any]) -> tuple[ContractView, int, dict[str, str]]:
        """Register a contract: state "eingetragen"; announces training.contract.registered."""
        principal = current_principal()
        contract = _bus_handle(
            RegisterContract(
                principal=principal,
                company=CompanyDetails(**data["company"]),
                apprentice=ApprenticeDetails(**data["apprentice"]),
                occupation_code=data["occupation_code"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                registered_on=data.get("registered_on"),
                terms=data["terms"],
            )
        )
        view = _bus_handle(GetContract(principal, contract.id))
        location = url_for("contracts.ContractById", contract_id=contract.id)
        return view, 201, {"Location": location}


@contracts.route("/<uuid:contract_id>")
class ContractById(MethodView):
    @contracts.response(200, schemas.ContractSchema)
    @contracts.alt_response(401, description=UNAUTHENTICATED)
    @contracts.alt_response(404, description="Unknown, or not visible to the caller.")
    @contracts.doc(security=BEARER)
    def get(self, contract_id: uuid.UUID) -> ContractView:
        """One contract, with the apprentice's account state and when the confirmation was opened."""
        view: ContractView = _bus_handle(GetContract(current_principal(), contract_id))
        return view


@contracts.route("/<uuid:contract_id>/history")
class ContractHistory(MethodView):
    @contracts.response(200, schemas.ContractHistorySchema)
    @contracts.alt_response(401, description=UNAUTHENTICATED)
    @contracts.alt_response(404, description="Unknown, or not visible to the caller.")
    @contracts.doc(security=BEARER)
    def get(self, contract_id: uuid.UUID) -> dict[str, Any]:
        """Every step of the contract's life, oldest first."""
        return {"items": _bus_handle(GetContractHistory(current_principal(), contract_id))}


@contracts.route("/<uuid:contract_id>/changes")
class ContractChanges(MethodView):
    @contracts.arguments(schemas.ContractChangeSchema)
    @contracts.response(201, schemas.ContractSchema)
    @contracts.alt_response(401, description=UNAUTHENTICATED)
    @contracts.alt_response(
        403, description="Chamber staff only; a company's administrators may change the trainer."
    )
    @contracts.alt_response(404, description="Unknown, or not visible to the caller.")
    @contracts.doc(security=BEARER)
    def post(self, data: dict[str, Any], contract_id: uuid.UUID) -> tuple[ContractView, int]:
        """Record a step of the contract's life: extension, shortening, interruption, resumption,
        change of trainer, completion or early termination (announces training.contract.changed)."""
        principal = current_principal()
        _bus_handle(ChangeContract(principal=principal, contract_id=contract_id, **data))
        return _bus_handle(GetContract(principal, contract_id)), 201


@companies.route("")
class Companies(MethodView):
    @companies.arguments(PageQuerySchema, location="query", unknown=RAISE)
    @companies.response(200, schemas.CompanyPageSchema, headers=NEXT_PAGE_LINK)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.doc(security=BEARER)
    def get(self, page: PageRequest) -> Any:
        """Companies by name (keyset-paged): all for chamber staff, one's own for company users."""
        return page_response(_bus_handle(ListCompanies(current_principal(), page)))

    @checked_before_input(access.check_may_keep_register)
    @companies.arguments(schemas.CompanyRegistrationSchema)
    @companies.response(201, schemas.CompanySchema, headers=CREATED)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(403, description="Chamber staff only.")
    @companies.alt_response(409, description="The Identnummer is already in the register.")
    @companies.doc(security=BEARER)
    def post(self, data: dict[str, Any]) -> tuple[Company, int, dict[str, str]]:
        """Enter a company (announces training.company.registered, and branch_assigned for a branch)."""
        head_office_number = data.pop("head_office_number", None)
        company = _bus_handle(
            RegisterCompany(current_principal(), CompanyDetails(**data), head_office_number)
        )
        return (
            company,
            201,
            {"Location": url_for("companies.CompanyByNumber", company_number=company.company_number)},
        )


@companies.route("/<string:company_number>")
class CompanyByNumber(MethodView):
    @companies.response(200, schemas.CompanySchema)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(404, description="Unknown, or not the caller's.")
    @companies.doc(security=BEARER)
    def get(self, company_number: str) -> Company:
        """A company's master data."""
        company: Company = _bus_handle(GetCompany(current_principal(), company_number))
        return company

    @checked_before_input(access.check_may_keep_register)
    @companies.arguments(schemas.CompanyChangeSchema)
    @companies.response(200, schemas.CompanySchema)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(403, description="Chamber staff only.")
    @companies.doc(security=BEARER)
    def patch(self, data: dict[str, Any], company_number: str) -> Company:
        """Change master data (announces training.company.changed if anything changed)."""
        company: Company = _bus_handle(
            ChangeCompany(current_principal(), CompanyDetails(company_number=company_number, **data))
        )
        return company


@companies.route("/<string:company_number>/branches")
class Branches(MethodView):
    @companies.arguments(PageQuerySchema, location="query", unknown=RAISE)
    @companies.response(200, schemas.CompanyPageSchema, headers=NEXT_PAGE_LINK)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(404, description="Unknown, or not the caller's.")
    @companies.doc(security=BEARER)
    def get(self, page: PageRequest, company_number: str) -> Any:
        """A head office's branches (Niederlassungen), by name."""
        return page_response(_bus_handle(ListBranches(current_principal(), company_number, page)))


@companies.route("/<string:company_number>/head-office")
class HeadOffice(MethodView):
    @checked_before_input(access.check_may_keep_register)
    @companies.arguments(schemas.HeadOfficeSchema)
    @companies.response(200, schemas.CompanySchema)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(403, description="Chamber staff only.")
    @companies.alt_response(404, description="Unknown company.")
    @companies.doc(security=BEARER)
    def put(self, data: dict[str, Any], company_number: str) -> Company:
        """Make the company a branch of a head office (announces training.company.branch_assigned)."""
        company: Company = _bus_handle(
            AssignBranch(current_principal(), company_number, data["head_office_number"])
        )
        return company

    @checked_before_input(access.check_may_keep_register)
    @companies.response(200, schemas.CompanySchema)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(403, description="Chamber staff only.")
    @companies.alt_response(404, description="Unknown company.")
    @companies.doc(security=BEARER)
    def delete(self, company_number: str) -> Company:
        """Detach the branch from its head office (announces training.company.branch_removed)."""
        company: Company = _bus_handle(RemoveBranch(current_principal(), company_number))
        return company


@companies.route("/<string:company_number>/branch-reach")
class BranchReach(MethodView):
    @checked_before_input(access.check_may_keep_register)
    @companies.arguments(schemas.BranchReachSchema)
    @companies.response(200, schemas.CompanySchema)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(403, description="Chamber staff only.")
    @companies.doc(security=BEARER)
    def put(self, data: dict[str, Any], company_number: str) -> Company:
        """Switch the head office's reach over its branches (training.company.branch_reach_changed)."""
        company: Company = _bus_handle(SetBranchReach(current_principal(), company_number, data["enabled"]))
        return company


@companies.route("/<string:company_number>/trainers")
class CompanyTrainers(MethodView):
    @companies.arguments(PageQuerySchema, location="query", unknown=RAISE)
    @companies.response(200, schemas.TrainerPageSchema, headers=NEXT_PAGE_LINK)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(404, description="Unknown, or not the caller's.")
    @companies.doc(security=BEARER)
    def get(self, page: PageRequest, company_number: str) -> Any:
        """The company's "Ausbilder/-in" list, by name, with the running contracts assigned to each."""
        return page_response(_bus_handle(ListTrainers(current_principal(), company_number, page)))

    @companies.arguments(schemas.TrainerInputSchema)
    @companies.response(201, schemas.TrainerSchema, headers=CREATED)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(403, description="The company's administrators and Verwalter, and chamber staff.")
    @companies.alt_response(404, description="Unknown, or not the caller's.")
    @companies.doc(security=BEARER)
    def post(self, data: dict[str, Any], company_number: str) -> tuple[TrainerView, int, dict[str, str]]:
        """Add a trainer (announces training.trainer.added)."""
        principal = current_principal()
        trainer = _bus_handle(AddTrainer(principal, company_number, TrainerDetails(**data)))
        view = _bus_handle(GetTrainer(principal, trainer.id))
        return view, 201, {"Location": url_for("trainers.TrainerById", trainer_id=trainer.id)}


@trainers.route("/<uuid:trainer_id>")
class TrainerById(MethodView):
    @trainers.response(200, schemas.TrainerSchema)
    @trainers.alt_response(401, description=UNAUTHENTICATED)
    @trainers.alt_response(404, description="Unknown, or not the caller's.")
    @trainers.doc(security=BEARER)
    def get(self, trainer_id: uuid.UUID) -> TrainerView:
        view: TrainerView = _bus_handle(GetTrainer(current_principal(), trainer_id))
        return view

    @trainers.arguments(schemas.TrainerInputSchema)
    @trainers.response(200, schemas.TrainerSchema)
    @trainers.alt_response(401, description=UNAUTHENTICATED)
    @trainers.alt_response(403, description="The company's administrators and Verwalter, and chamber staff.")
    @trainers.alt_response(404, description="Unknown, or not the caller's.")
    @trainers.doc(security=BEARER)
    def put(self, data: dict[str, Any], trainer_id: uuid.UUID) -> TrainerView:
        """Change a trainer's data (announces training.trainer.changed)."""
        principal = current_principal()
        _bus_handle(ChangeTrainerDetails(principal, trainer_id, TrainerDetails(**data)))
        view: TrainerView = _bus_handle(GetTrainer(principal, trainer_id))
        return view

    @trainers.response(204)
    @trainers.alt_response(401, description=UNAUTHENTICATED)
    @trainers.alt_response(403, description="The company's administrators and Verwalter, and chamber staff.")
    @trainers.alt_response(404, description="Unknown, or not the caller's.")
    @trainers.alt_response(422, description="The trainer still has running contracts.")
    @trainers.doc(security=BEARER)
    def delete(self, trainer_id: uuid.UUID) -> None:
        """Remove a trainer without running contracts (announces training.trainer.removed)."""
        _bus_handle(RemoveTrainer(current_principal(), trainer_id))


@companies.route("/<string:company_number>/atlas")
class CompanyAtlas(MethodView):
    @companies.response(200, schemas.AtlasProfileSchema)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(403, description="The company's administrators and Verwalter, and chamber staff.")
    @companies.alt_response(404, description="Unknown, or not the caller's.")
    @companies.doc(security=BEARER)
    def get(self, company_number: str) -> AtlasProfile:
        """The company's Ausbildungsatlas entries and its consent to publication."""
        profile: AtlasProfile = _bus_handle(GetAtlasProfile(current_principal(), company_number))
        return profile


@companies.route("/<string:company_number>/atlas/<string:occupation_code>")
class CompanyAtlasEntry(MethodView):
    @companies.arguments(schemas.AtlasOfferSchema)
    @companies.response(200, schemas.AtlasEntrySchema)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(403, description="The company's administrators and Verwalter, and chamber staff.")
    @companies.alt_response(404, description="Unknown, or not the caller's.")
    @companies.doc(security=BEARER)
    def put(self, data: dict[str, Any], company_number: str, occupation_code: str) -> Any:
        """Offer training places in an occupation (shown in the atlas while the company consents)."""
        return _bus_handle(
            SaveAtlasEntry(current_principal(), company_number, occupation_code, AtlasOffer(**data))
        )

    @companies.response(204)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(403, description="The company's administrators and Verwalter, and chamber staff.")
    @companies.alt_response(404, description="Unknown, or not the caller's.")
    @companies.doc(security=BEARER)
    def delete(self, company_number: str, occupation_code: str) -> None:
        """Withdraw the offer in this occupation."""
        _bus_handle(RemoveAtlasEntry(current_principal(), company_number, occupation_code))


@companies.route("/<string:company_number>/atlas-consent")
class CompanyAtlasConsent(MethodView):
    @companies.arguments(schemas.AtlasConsentSchema)
    @companies.response(200, schemas.CompanySchema)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.alt_response(403, description="The company's administrators and Verwalter, and chamber staff.")
    @companies.alt_response(404, description="Unknown, or not the caller's.")
    @companies.doc(security=BEARER)
    def put(self, data: dict[str, Any], company_number: str) -> Company:
        """Consent to publication, or withdraw it: withdrawn, every entry leaves the public search at once."""
        company: Company = _bus_handle(SetAtlasConsent(current_principal(), company_number, data["consent"]))
        return company


@atlas.route("")
class AtlasSearch(MethodView):
    @atlas.arguments(schemas.AtlasSearchSchema, location="query", as_kwargs=True, unknown=RAISE)
    @atlas.response(200, schemas.AtlasHitPageSchema, headers=NEXT_PAGE_LINK)
    def get(self, page: PageRequest, occupation_code: str, place: str | None) -> Any:
        """Public search: companies that train in an occupation near a postcode or in a city and
        consent to publication, by postcode (keyset-paged). No login."""
        return page_response(_bus_handle(SearchAtlas(occupation_code, place, page)))


@atlas.route("/occupations")
class AtlasOccupations(MethodView):
    @atlas.arguments(PageQuerySchema, location="query", unknown=RAISE)
    @atlas.response(200, schemas.OccupationPageSchema, headers=NEXT_PAGE_LINK)
    def get(self, page: PageRequest) -> Any:
        """The recognised occupations, for the public search's choice (no login): public information."""
        return page_response(_bus_handle(ListOccupations(page)))


@occupations.route("")
class Occupations(MethodView):
    @occupations.arguments(schemas.OccupationListQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
    @occupations.response(200, schemas.OccupationPageSchema, headers=NEXT_PAGE_LINK)
    @occupations.alt_response(401, description=UNAUTHENTICATED)
    @occupations.doc(security=BEARER)
    def get(self, page: PageRequest, include_retired: bool) -> Any:
        """The recognised occupations a contract can be registered for, by title (keyset-paged)."""
        return page_response(_bus_handle(ListOccupations(page, include_retired)))

    @checked_before_input(access.check_may_edit_catalogue)
    @occupations.arguments(schemas.OccupationInputSchema)
    @occupations.response(201, schemas.OccupationSchema)
    @occupations.alt_response(401, description=UNAUTHENTICATED)
    @occupations.alt_response(403, description="Chamber administrators only.")
    @occupations.alt_response(409, description="The code is taken.")
    @occupations.doc(security=BEARER)
    def post(self, data: dict[str, Any]) -> tuple[Occupation, int]:
        """Add an occupation to the catalogue (announces training.occupation.added)."""
        data["specialisms"] = tuple(data["specialisms"])
        return _bus_handle(AddOccupation(current_principal(), **data)), 201


@occupations.route("/<string:code>/retire")
class RetireOccupationView(MethodView):
    @checked_before_input(access.check_may_edit_catalogue)
    @occupations.response(200, schemas.OccupationSchema)
    @occupations.alt_response(401, description=UNAUTHENTICATED)
    @occupations.alt_response(403, description="Chamber administrators only.")
    @occupations.alt_response(404, description="Unknown code.")
    @occupations.doc(security=BEARER)
    def post(self, code: str) -> Occupation:
        """Retire an occupation: it takes no new contracts (announces training.occupation.retired)."""
        occupation: Occupation = _bus_handle(RetireOccupation(current_principal(), code))
        return occupation


@imports.route("")
class Imports(MethodView):
    @imports.arguments(PageQuerySchema, location="query", unknown=RAISE)
    @imports.response(200, schemas.ImportPageSchema, headers=NEXT_PAGE_LINK)
    @imports.alt_response(401, description=UNAUTHENTICATED)
    @imports.alt_response(403, description="Chamber staff only.")
    @imports.doc(security=BEARER)
    def get(self, page: PageRequest) -> Any:
        """Every import, newest first, with its progress and outcome."""
        return page_response(_bus_handle(ListImports(current_principal(), page)))

    @checked_before_input(access.check_may_import)
    @imports.arguments(schemas.ImportUploadSchema, location="files")
    @imports.response(202, schemas.ImportProgressSchema, headers=CREATED)
    @imports.alt_response(401, description=UNAUTHENTICATED)
    @imports.alt_response(403, description="Chamber staff only.")
    @imports.doc(security=BEARER)
    def post(self, files: dict[str, Any]) -> tuple[ImportProgress, int, dict[str, str]]:
        """Upload an export of companies, trainers and contracts; it is imported in the background.

        Poll the Location for progress; rows that fail are listed with line and column under
        ``/imports/{id}/errors`` (and as a CSV report). Re-importing the same data changes nothing.
        """
        principal = current_principal()
        upload = files["file"]
        data = upload.stream.read(importing.MAX_UPLOAD_BYTES + 1)
        job = _bus_handle(UploadImport(principal, upload.filename or "", data))
        current_runtime(TrainingRecordsRuntime).import_wakeup.set()
        progress = _bus_handle(GetImport(principal, job.id))
        return progress, 202, {"Location": url_for("imports.ImportById", job_id=job.id)}


@imports.route("/<uuid:job_id>")
class ImportById(MethodView):
    @imports.response(200, schemas.ImportProgressSchema)
    @imports.alt_response(401, description=UNAUTHENTICATED)
    @imports.alt_response(403, description="Chamber staff only.")
    @imports.alt_response(404, description="Unknown import.")
    @imports.doc(security=BEARER)
    def get(self, job_id: uuid.UUID) -> ImportProgress:
        """Progress: rows done of the total, errors so far, estimated time left."""
        progress: ImportProgress = _bus_handle(GetImport(current_principal(), job_id))
        return progress


@imports.route("/<uuid:job_id>/errors")
class ImportErrors(MethodView):
    @imports.arguments(PageQuerySchema, location="query", unknown=RAISE)
    @imports.response(200, schemas.ImportErrorPageSchema, headers=NEXT_PAGE_LINK)
    @imports.alt_response(401, description=UNAUTHENTICATED)
    @imports.alt_response(403, description="Chamber staff only.")
    @imports.alt_response(404, description="Unknown import.")
    @imports.doc(security=BEARER)
    def get(self, page: PageRequest, job_id: uuid.UUID) -> Any:
        """The rows that were not imported: line, column and a German message, by line."""
        return page_response(_bus_handle(ListImportErrors(current_principal(), job_id, page)))


@imports.route("/<uuid:job_id>/report.csv")
class ImportReport(MethodView):
    @imports.response(200, content_type="text/csv")
    @imports.alt_response(401, description=UNAUTHENTICATED)
    @imports.alt_response(403, description="Chamber staff only.")
    @imports.alt_response(404, description="Unknown import.")
    @imports.doc(security=BEARER)
    def get(self, job_id: uuid.UUID) -> Response:
        """The error report as CSV for Excel (UTF-8 with BOM, semicolons): Zeile; Spalte; Fehler."""
        query = ListImportErrors(current_principal(), job_id, PageRequest())
        bus = current_runtime(TrainingRecordsRuntime).bus
        first = bus.handle(query)  # access and existence are checked before streaming starts
        del first
        output = io.StringIO()
        writer = csv.writer(output, delimiter=";", lineterminator="\r\n")
        writer.writerow(["Zeile", "Spalte", "Code", "Fehler"])
        for error in importing.all_errors(bus, query):
            # The column as the clerk's file names it ("Azubi Geburtsdatum"), not its key.
            writer.writerow(
                [error.line, column_label(error.field), error.code, _spreadsheet_safe(error.message)]
            )
        body = "\ufeff" + output.getvalue()
        return Response(
            body.encode("utf-8"),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="importbericht-{job_id}.csv"'},
        )


def _spreadsheet_safe(text: str) -> str:
    """No formula injection when the clerk opens the report in Excel (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
