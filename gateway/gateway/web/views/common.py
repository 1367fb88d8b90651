"""What every page needs: the user's services client, and which of their companies a page is about."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import abort, current_app

from chassis.auth import Principal
from gateway.web.auth import current_token_set
from gateway.web.navigation import maintains
from gateway.web.services import Company, PublicServices, Services

ServicesFactory = Callable[[str], Services]
PublicServicesFactory = Callable[[], PublicServices]


def services() -> Services:
    """The services' APIs as the signed-in user (their access token, refreshed when due)."""
    token_set = current_token_set()
    if token_set is None:
        abort(401)
    factory: ServicesFactory = current_app.extensions["web.services_factory"]
    return factory(token_set.access_token)


def public_services() -> PublicServices:
    """The services' public APIs (no login): the Ausbildungsatlas."""
    factory: PublicServicesFactory = current_app.extensions["web.public_services_factory"]
    return factory()


def maintained_companies(api: Services, user: Principal) -> list[Company]:
    """The companies whose trainers and atlas entries ``user`` keeps: those where they are
    administrator or Verwalter, and the branches of those that training-records shows them
    (a head office with reach)."""
    own = {number for number in user.company_numbers if maintains(user, number)}
    if not own:
        return []
    return [c for c in api.companies() if c.company_number in own or c.head_office_number in own]


def chosen_company(companies: Sequence[Company], wanted: str | None) -> Company:
    """The company a page is about: ``?betrieb=`` if it is one of ``companies``, else the first."""
    if wanted:
        for company in companies:
            if company.company_number == wanted:
                return company
        abort(404)
    if not companies:
        abort(404)
    return companies[0]
