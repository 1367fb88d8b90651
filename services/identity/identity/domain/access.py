"""Who may see what in identity: the one place its access rules live.

identity's API shows a person their own account and nothing else; the chamber
administers accounts through its own tools, not through this API (yet).
"""

from __future__ import annotations

import uuid

from chassis.domain import NotFound
from chassis.principal import Principal
from identity.domain.model import Account

NO_ACCOUNT = "No account for this token."


def own_account_id(principal: Principal) -> uuid.UUID:
    """The account a caller may read: the one their token's subject names."""
    try:
        return uuid.UUID(principal.subject)
    except ValueError:
        raise NotFound(NO_ACCOUNT) from None


def readable_account(principal: Principal, account: Account | None) -> Account:
    """``account`` if ``principal`` may read it; otherwise 404, which tells nothing of others' accounts."""
    if account is None or account.id != own_account_id(principal):
        raise NotFound(NO_ACCOUNT)
    return account
