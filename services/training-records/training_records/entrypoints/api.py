"""The HTTP API of training-records: views turn requests into commands and queries for the bus.

Every route needs a valid access token: each blueprint authenticates before
its arguments are parsed, so an anonymous caller learns nothing about the
input rules either. What a caller may do and see is decided in ``domain.access``;
its errors become problem+json in the chassis' app factory.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from chassis.app import current_runtime
from chassis.auth import authenticate, current_principal
from chassis.pagination import PageRequest
from chassis.paging import PageQuerySchema, page_response
from chassis.principal import Principal
from training_records.bootstrap import TrainingRecordsRuntime
from training_records.domain import access
from training_records.domain.commands import ApprenticeDetails, CompanyDetails, RegisterContract
from training_records.domain.queries import (
    ContractFilters,
    ContractView,
    GetContract,
    ListCompanies,
    ListContracts,
    ListOccupations,
)
from training_records.entrypoints import schemas

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
UNAUTHENTICATED = "No valid access token (problem+json, WWW-Authenticate: Bearer)."
NEXT_PAGE_LINK = {
    "Link": {"description": 'rel="next": the next page, if there is one', "schema": {"type": "string"}}
}


def _bus_handle(message: Any) -> Any:
    return current_runtime(TrainingRecordsRuntime).bus.handle(message)


def _authenticated_blueprint(name: str, url_prefix: str, description: str) -> Blueprint:
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix, description=description)
    blueprint.before_request(_authenticate)
    return blueprint


def _authenticate() -> None:
    # A before_request hook must return None, or Flask takes its value as the response.
    authenticate()


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
BLUEPRINTS = (contracts, companies, occupations)


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


@companies.route("")
class Companies(MethodView):
    @companies.arguments(PageQuerySchema, location="query", unknown=RAISE)
    @companies.response(200, schemas.CompanyPageSchema, headers=NEXT_PAGE_LINK)
    @companies.alt_response(401, description=UNAUTHENTICATED)
    @companies.doc(security=BEARER)
    def get(self, page: PageRequest) -> Any:
        """Companies by name (keyset-paged): all for chamber staff, one's own for company users."""
        return page_response(_bus_handle(ListCompanies(current_principal(), page)))


@occupations.route("")
class Occupations(MethodView):
    @occupations.arguments(PageQuerySchema, location="query", unknown=RAISE)
    @occupations.response(200, schemas.OccupationPageSchema, headers=NEXT_PAGE_LINK)
    @occupations.alt_response(401, description=UNAUTHENTICATED)
    @occupations.doc(security=BEARER)
    def get(self, page: PageRequest) -> Any:
        """The recognised occupations a contract can be registered for, by title (keyset-paged)."""
        return page_response(_bus_handle(ListOccupations(page)))
