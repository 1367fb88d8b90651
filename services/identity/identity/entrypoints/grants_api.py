"""identity's API of roles, service rights, deputyships and contexts (flask-smorest).

Views build commands and queries for the message bus; the access rules live in
``domain/access.py`` (403, or 404 where existence is private).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView
from marshmallow import RAISE

from chassis.app import current_runtime
from chassis.auth import authenticated_blueprint, current_principal
from chassis.pagination import Page, PageRequest
from chassis.paging import PageQuerySchema, page_response, page_schema
from identity.bootstrap import IdentityRuntime
from identity.domain.grant_commands import (
    AdministrableCompanies,
    ChangeChamberRole,
    ChangeCompanyGrant,
    DecideDeputyship,
    FindAccountByEmail,
    GrantCompanyRoleByEmail,
    ListChamberStaff,
    ListCompanyAccounts,
    ListContexts,
    ListOpenDeputyships,
    ListOwnDeputyships,
    NameDeputy,
    RemoveDeputyship,
    SwitchCompanyService,
)
from identity.domain.model import Account
from identity.entrypoints.schemas import (
    AddCompanyMemberSchema,
    AdministrableSchema,
    ChamberMemberSchema,
    CompanyMemberSchema,
    CompanyServicesSchema,
    ContextListSchema,
    DeputyOverviewSchema,
    DeputyshipSchema,
    EmailQuerySchema,
    NameDeputySchema,
    SwitchServiceSchema,
)

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
COMPANY = "<string(maxlength=20):company_number>"

companies = authenticated_blueprint(
    "companies", __name__, url_prefix="/companies", description="Roles and service rights"
)
chamber = authenticated_blueprint("chamber", __name__, url_prefix="/chamber", description="Chamber roles")
deputies = authenticated_blueprint(
    "deputyships", __name__, url_prefix="/deputyships", description="Deputyships (Vertretung)"
)
contexts = authenticated_blueprint(
    "contexts", __name__, url_prefix="/contexts", description="Active contexts"
)


def _handle(message: Any) -> Any:
    return current_runtime(IdentityRuntime).bus.handle(message)


def member(account: Account, company_number: str) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "email": account.email,
        "roles": sorted(account.company_roles.get(company_number, [])),
        "rights": sorted(account.service_rights.get(company_number, [])),
    }


# -- companies ----------------------------------------------------------------------------------
@companies.route("/administrable")
class Administrable(MethodView):
    @companies.doc(security=SECURITY)
    @companies.response(200, AdministrableSchema)
    def get(self) -> Any:
        """Welche Firmen darf ich administrieren? The companies where the caller is Administrator."""
        return {"company_numbers": _handle(AdministrableCompanies(current_principal()))}


@companies.route(f"/{COMPANY}/accounts")
class CompanyAccounts(MethodView):
    @companies.doc(security=SECURITY)
    @companies.arguments(PageQuerySchema, location="query", unknown=RAISE)
    @companies.response(200, page_schema(CompanyMemberSchema))
    def get(self, page: PageRequest, company_number: str) -> Any:
        """The company's accounts with their roles and service rights (its Administrators only)."""
        found = _handle(ListCompanyAccounts(current_principal(), company_number, page))
        items = tuple(member(account, company_number) for account in found.accounts.items)
        return page_response(Page(items, found.accounts.next_cursor))

    @companies.doc(security=SECURITY)
    @companies.arguments(AddCompanyMemberSchema, unknown=RAISE)
    @companies.response(200, CompanyMemberSchema)
    def post(self, body: dict[str, Any], company_number: str) -> Any:
        """Give an existing account (by e-mail) a role at the company."""
        account = _handle(
            GrantCompanyRoleByEmail(current_principal(), company_number, body["email"], body["role"])
        )
        return member(account, company_number)


def _grant_view(kind: str, converter: str) -> type[MethodView]:
    class GrantView(MethodView):
        @companies.doc(security=SECURITY)
        @companies.response(200, CompanyMemberSchema)
        def put(self, company_number: str, account_id: uuid.UUID, name: str) -> Any:
            """Grant the role or right (idempotent)."""
            cmd = ChangeCompanyGrant(current_principal(), company_number, account_id, kind, name, True)
            return member(_handle(cmd), company_number)

        @companies.doc(security=SECURITY)
        @companies.response(200, CompanyMemberSchema)
        def delete(self, company_number: str, account_id: uuid.UUID, name: str) -> Any:
            """Revoke the role or right; the company's last Administrator stays (422)."""
            cmd = ChangeCompanyGrant(current_principal(), company_number, account_id, kind, name, False)
            return member(_handle(cmd), company_number)

    GrantView.__name__ = f"Company{kind.title()}Grant"
    companies.route(f"/{COMPANY}/accounts/<uuid:account_id>/{converter}/<string(maxlength=50):name>")(
        GrantView
    )
    return GrantView


_grant_view("role", "roles")
_grant_view("right", "rights")


@companies.route(f"/{COMPANY}/services")
class CompanyServices(MethodView):
    @companies.doc(security=SECURITY)
    @companies.response(200, CompanyServicesSchema)
    def get(self, company_number: str) -> Any:
        """The services the company switched on (its Administrators only)."""
        found = _handle(ListCompanyAccounts(current_principal(), company_number, PageRequest(limit=1)))
        return {"company_number": company_number, "services": sorted(found.services)}


@companies.route(f"/{COMPANY}/services/<string(maxlength=50):service>")
class CompanyService(MethodView):
    @companies.doc(security=SECURITY)
    @companies.arguments(SwitchServiceSchema, unknown=RAISE)
    @companies.response(200, CompanyServicesSchema)
    def put(self, body: dict[str, Any], company_number: str, service: str) -> Any:
        """Switch a service on or off; off ends the right to it for everybody at the company."""
        on = _handle(SwitchCompanyService(current_principal(), company_number, service, body["enabled"]))
        return {"company_number": company_number, "services": sorted(on)}


# -- chamber roles ------------------------------------------------------------------------------
def chamber_member(account: Account) -> dict[str, Any]:
    return {"id": account.id, "name": account.name, "email": account.email, "roles": sorted(account.roles)}


@chamber.route("/staff")
class ChamberStaff(MethodView):
    @chamber.doc(security=SECURITY)
    @chamber.arguments(PageQuerySchema, location="query", unknown=RAISE)
    @chamber.response(200, page_schema(ChamberMemberSchema))
    def get(self, page: PageRequest) -> Any:
        """Accounts holding a chamber role (chamber administrators only)."""
        found = _handle(ListChamberStaff(current_principal(), page))
        return page_response(Page(tuple(chamber_member(a) for a in found.items), found.next_cursor))


@chamber.route("/accounts")
class ChamberAccountSearch(MethodView):
    @chamber.doc(security=SECURITY)
    @chamber.arguments(EmailQuerySchema, location="query", unknown=RAISE)
    @chamber.response(200, ChamberMemberSchema)
    def get(self, query: dict[str, Any]) -> Any:
        """Find an account by e-mail to give it a chamber role (chamber administrators only)."""
        return chamber_member(_handle(FindAccountByEmail(current_principal(), query["email"])))


@chamber.route("/accounts/<uuid:account_id>/roles/<string(maxlength=50):role>")
class ChamberRole(MethodView):
    @chamber.doc(security=SECURITY)
    @chamber.response(200, ChamberMemberSchema)
    def put(self, account_id: uuid.UUID, role: str) -> Any:
        """Grant a chamber role (idempotent)."""
        return chamber_member(_handle(ChangeChamberRole(current_principal(), account_id, role, True)))

    @chamber.doc(security=SECURITY)
    @chamber.response(200, ChamberMemberSchema)
    def delete(self, account_id: uuid.UUID, role: str) -> Any:
        """Revoke a chamber role; the chamber's last administrator stays (422)."""
        return chamber_member(_handle(ChangeChamberRole(current_principal(), account_id, role, False)))


# -- deputyships ------------------------------------------------------------------------------------
@deputies.route("")
class Deputyships(MethodView):
    @deputies.doc(security=SECURITY)
    @deputies.response(200, DeputyOverviewSchema)
    def get(self) -> Any:
        """The deputy overview: whom the caller (or their companies) named, and for whom they may act."""
        return _handle(ListOwnDeputyships(current_principal()))

    @deputies.doc(security=SECURITY)
    @deputies.arguments(NameDeputySchema, unknown=RAISE)
    @deputies.response(201, DeputyshipSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Name a deputy; the request waits for the chamber's approval."""
        return _handle(
            NameDeputy(
                current_principal(),
                deputy_email=body["deputy_email"],
                deputy_name=body["deputy_name"],
                company_number=body["company_number"],
                company_roles=tuple(body["company_roles"]),
                new_employee=body["new_employee"],
            )
        )


@deputies.route("/open")
class OpenDeputyships(MethodView):
    @deputies.doc(security=SECURITY)
    @deputies.arguments(PageQuerySchema, location="query", unknown=RAISE)
    @deputies.response(200, page_schema(DeputyshipSchema))
    def get(self, page: PageRequest) -> Any:
        """Open requests, oldest first (the chamber's clerks and administration)."""
        return page_response(_handle(ListOpenDeputyships(current_principal(), page)))


@deputies.route("/<uuid:deputyship_id>")
class OneDeputyship(MethodView):
    @deputies.doc(security=SECURITY)
    @deputies.response(200, DeputyshipSchema)
    def delete(self, deputyship_id: uuid.UUID) -> Any:
        """Remove a deputy (the represented person, or the company's Administrator)."""
        return _handle(RemoveDeputyship(current_principal(), deputyship_id))


@deputies.route("/<uuid:deputyship_id>/approval")
class DeputyshipApproval(MethodView):
    @deputies.doc(security=SECURITY)
    @deputies.response(200, DeputyshipSchema)
    def post(self, deputyship_id: uuid.UUID) -> Any:
        """Approve an open request (the chamber)."""
        return _handle(DecideDeputyship(current_principal(), deputyship_id, approve=True))


@deputies.route("/<uuid:deputyship_id>/rejection")
class DeputyshipRejection(MethodView):
    @deputies.doc(security=SECURITY)
    @deputies.response(200, DeputyshipSchema)
    def post(self, deputyship_id: uuid.UUID) -> Any:
        """Reject an open request (the chamber)."""
        return _handle(DecideDeputyship(current_principal(), deputyship_id, approve=False))


# -- contexts ------------------------------------------------------------------------------------------
@contexts.route("")
class Contexts(MethodView):
    @contexts.doc(security=SECURITY)
    @contexts.response(200, ContextListSchema)
    def get(self) -> Any:
        """The contexts the caller may switch to; the portal exchanges its token for one of them."""
        return {"items": _handle(ListContexts(current_principal()))}


BLUEPRINTS = [companies, chamber, deputies, contexts]
