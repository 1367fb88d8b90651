"""The HTTP API of training-records (flask-smorest blueprints).

Every route needs a valid access token: each blueprint authenticates before
its arguments are parsed, so an anonymous caller learns nothing about the
input rules either. What a caller may see is decided in ``access``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from chassis.auth import authenticate, current_principal, not_found
from chassis.service import ServiceRuntime
from training_records.entrypoints import schemas
from training_records.service_layer import services, views
from training_records.service_layer.access import CompanyVisibility, ContractVisibility
from training_records.service_layer.clock import chamber_today
from training_records.service_layer.unit_of_work import TrainingRecordsUnitOfWork

BEARER = [{"bearerAuth": []}]
UNAUTHENTICATED = "No valid access token (problem+json, WWW-Authenticate: Bearer)."


def _runtime() -> ServiceRuntime:
    runtime: ServiceRuntime = current_app.extensions["runtime"]
    return runtime


def _uow() -> TrainingRecordsUnitOfWork:
    uow = _runtime().uow_factory()
    assert isinstance(uow, TrainingRecordsUnitOfWork)
    return uow


def _authenticated_blueprint(name: str, url_prefix: str, description: str) -> Blueprint:
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix, description=description)
    blueprint.before_request(_authenticate)
    return blueprint


def _authenticate() -> None:
    # A before_request hook must return None, or Flask takes its value as the response.
    authenticate()


def registrars_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse non-registrars before the body is parsed (the use case checks again)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_principal().has_role(*services.REGISTRAR_ROLES):
            raise services.NotAllowed("Only chamber staff may register training contracts.")
        return view(*args, **kwargs)

    return wrapper


contracts = _authenticated_blueprint(
    "contracts", "/contracts", "Training contracts (Ausbildungsverhältnisse) in the chamber's register."
)
companies = _authenticated_blueprint("companies", "/companies", "Training companies (Ausbildungsbetriebe).")
occupations = _authenticated_blueprint(
    "occupations", "/occupations", "Recognised occupations (Ausbildungsberufe)."
)
BLUEPRINTS = (contracts, companies, occupations)


@contracts.route("")
class Contracts(MethodView):
    # Unknown query arguments are refused: a mistyped filter must not silently list everything.
    @contracts.arguments(schemas.ContractQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
    @contracts.response(200, schemas.ContractPageSchema)
    @contracts.alt_response(401, description=UNAUTHENTICATED)
    @contracts.doc(security=BEARER)
    def get(
        self,
        page: int,
        per_page: int,
        company_number: str | None = None,
        occupation_code: str | None = None,
        apprentice_number: str | None = None,
    ) -> views.Page:
        """List the contracts the caller may see.

        Chamber staff see all; company administrators and Verwalter their
        companies' contracts; apprentices their own.
        """
        visibility = ContractVisibility.of(current_principal())
        filters = views.ContractFilters(company_number, occupation_code, apprentice_number)
        with _uow() as uow:
            return views.list_contracts(uow.session, visibility, filters, page=page, per_page=per_page)

    @registrars_only
    @contracts.arguments(schemas.RegisterContractSchema)
    @contracts.response(
        201,
        schemas.ContractSchema,
        headers={"Location": {"description": "URL of the new contract", "schema": {"type": "string"}}},
    )
    @contracts.alt_response(401, description=UNAUTHENTICATED)
    @contracts.alt_response(403, description="Only chamber clerks and administrators may register.")
    @contracts.doc(security=BEARER)
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Register a contract: state "eingetragen"; announces training.contract.registered."""
        command = services.RegisterContract(
            company=services.CompanyDetails(**data["company"]),
            apprentice=services.ApprenticeDetails(**data["apprentice"]),
            occupation_code=data["occupation_code"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            registered_on=data.get("registered_on"),
        )
        principal = current_principal()
        registered = services.register_contract(command, _uow(), actor=principal, today=chamber_today())
        with _uow() as uow:
            contract = views.get_contract(
                uow.session, ContractVisibility.of(principal), registered.contract_id
            )
        assert contract is not None
        location = url_for("contracts.ContractById", contract_id=registered.contract_id)
        return contract, 201, {"Location": location}


@contracts.route("/<uuid:contract_id>")
class ContractById(MethodView):
    @contracts.response(200, schemas.ContractSchema)
    @contracts.alt_response(401, description=UNAUTHENTICATED)
    @contracts.alt_response(404, description="Unknown, or not visible to the caller.")
    @contracts.doc(security=BEARER)
    def get(self, contract_id: uuid.UUID) -> dict[str, Any]:
        """One contract, with the apprentice's account state and when the confirmation was opened."""
        with _uow() as uow:
            contract = views.get_contract(
                uow.session, ContractVisibility.of(current_principal()), contract_id
            )
        if contract is None:
            raise not_found("No such training contract.")
        return contract


@companies.route("")
class Companies(MethodView):
    @companies.arguments(schemas.PageQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
    @companies.response(200, schemas.CompanyPageSchema)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.doc(security=BEARER)
    def get(self, page: int, per_page: int) -> views.Page:
        """Companies: all for chamber staff, one's own for company users."""
        visibility = CompanyVisibility.of(current_principal())
        with _uow() as uow:
            return views.list_companies(uow.session, visibility, page=page, per_page=per_page)


@occupations.route("")
class Occupations(MethodView):
    @occupations.response(200, schemas.OccupationListSchema)
    @occupations.alt_response(401, description=UNAUTHENTICATED)
    @occupations.doc(security=BEARER)
    def get(self) -> dict[str, Any]:
        """The recognised occupations a contract can be registered for."""
        with _uow() as uow:
            return {"items": views.list_occupations(uow.session)}
