"""Read use cases; access is decided here from the caller and the read model."""

from __future__ import annotations

from collections.abc import Sequence

from chassis.auth import Principal, forbidden
from exams.domain.model import RegisteredContract
from exams.service_layer.unit_of_work import ExamsUnitOfWork

EXAM_STAFF = ("chamber_exam_organiser", "chamber_clerk", "chamber_admin")


def registered_contracts(
    uow: ExamsUnitOfWork, principal: Principal, *, limit: int, offset: int
) -> Sequence[RegisteredContract]:
    """Chamber exam staff see every contract; company staff those of their companies."""
    if principal.has_role(*EXAM_STAFF):
        companies = None
    elif principal.company_numbers:
        companies = set(principal.company_numbers)
    else:
        raise forbidden("Only chamber exam staff and training companies see registered contracts.")
    with uow:
        return uow.contracts.list(company_numbers=companies, limit=limit, offset=offset)
