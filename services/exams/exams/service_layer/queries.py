"""Read use cases; access is decided here from the caller and the read model."""

from __future__ import annotations

from collections.abc import Sequence

from chassis.auth import Principal, forbidden
from exams.domain.model import RegisteredContract
from exams.service_layer.unit_of_work import ExamsUnitOfWork

EXAM_STAFF = ("chamber_exam_organiser", "chamber_clerk", "chamber_admin")
# Administrators and Verwalter see a company's contracts; Ausbilder only the record
# books of their apprentices (DESIGN §4), as in training-records and documents.
CONTRACT_COMPANY_ROLES = frozenset({"admin", "manager"})


def registered_contracts(
    uow: ExamsUnitOfWork, principal: Principal, *, limit: int, offset: int
) -> Sequence[RegisteredContract]:
    """Chamber exam staff see every contract; a company's Administrators and Verwalter its own."""
    companies: set[str] | None = None
    if not principal.has_role(*EXAM_STAFF):
        companies = {n for n, roles in principal.company_roles.items() if roles & CONTRACT_COMPANY_ROLES}
        if not companies:
            raise forbidden("Only chamber exam staff and training companies see registered contracts.")
    with uow:
        return uow.contracts.list(company_numbers=companies, limit=limit, offset=offset)
