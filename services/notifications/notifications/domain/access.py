"""Who may see which notice: the one place the access rules of notifications live.

Notices are a recipient's own inbox, not a register to browse:
- apprentices see notices addressed to their Azubinummer (``apprentice_number`` claim);
- company administrators and Verwalter see their companies' notices (``company_roles``);
  Ausbilder see none, since company documents are not theirs to read (DESIGN §4);
- chamber staff see none.
Read state is per person (the token's ``sub``). Someone else's notice is answered
as if it did not exist (``NotFound``), so that its existence stays private.
"""

from __future__ import annotations

from chassis.domain import NotFound
from chassis.principal import Principal
from notifications.domain.model import Notice, NoticeAudience

# Company roles that receive company documents (Eintragungsbestätigung etc.) and their notices.
COMPANY_DOCUMENT_ROLES = frozenset({"admin", "manager"})


def notice_audience(principal: Principal) -> NoticeAudience:
    """The notices ``principal`` may see: by their Azubinummer and the companies they act for."""
    return NoticeAudience(
        apprentice_number=principal.apprentice_number or None,
        company_numbers=frozenset(
            number for number, roles in principal.company_roles.items() if roles & COMPANY_DOCUMENT_ROLES
        ),
    )


def visible_notice(principal: Principal, notice: Notice | None) -> Notice:
    """``notice`` if ``principal`` may see it; otherwise it does not exist for them."""
    if notice is None or not notice_audience(principal).can_see(notice):
        raise NotFound("There is no such notice for you.")
    return notice
