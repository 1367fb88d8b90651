"""Who may see what in exams: the one place its access rules live.

Chamber exam staff see every registered contract; a company's Administrators
and Verwalter see their company's (DESIGN §4). Ausbilder see only the record
books of their apprentices, so not the company's contracts, as in
training-records and documents.
"""

from __future__ import annotations

from chassis.domain import Forbidden
from chassis.principal import Principal

EXAM_STAFF = ("chamber_exam_organiser", "chamber_clerk", "chamber_admin")
CONTRACT_COMPANY_ROLES = frozenset({"admin", "manager"})


def contract_companies_visible_to(principal: Principal) -> frozenset[str] | None:
    """The company numbers whose contracts ``principal`` sees; None means all of them."""
    if principal.has_role(*EXAM_STAFF):
        return None
    companies = frozenset(
        number for number, roles in principal.company_roles.items() if roles & CONTRACT_COMPANY_ROLES
    )
    if not companies:
        raise Forbidden("Only chamber exam staff and training companies see registered contracts.")
    return companies


EXAM_REGISTRATION = "exam_registration"


def may_register_for_exams(principal: Principal, company_number: str) -> None:
    """Prüfungsanmeldung for a company's apprentices: the company's service right, granted apart from
    the roles (even an Administrator grants it to themselves) and only while the company has the
    service switched on; identity puts it into the token's ``service_rights``. A deputy acting for
    the company holds it only if the deputyship's token carries it."""
    if not principal.has_service_right(company_number, EXAM_REGISTRATION):
        raise Forbidden("Exam registration needs the company's service right Prüfungsanmeldung.")
