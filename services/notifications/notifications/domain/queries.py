"""The questions notifications answers (queries): frozen dataclasses, dispatched by the message bus."""

from __future__ import annotations

from dataclasses import dataclass

from chassis.messages import Query
from chassis.pagination import PageRequest
from chassis.principal import Principal
from notifications.domain.model import MailStatus


@dataclass(frozen=True)
class ListNotices(Query):
    """The caller's notices, newest first; ``unread_only``: those the caller has not read."""

    principal: Principal
    page: PageRequest
    unread_only: bool = False


@dataclass(frozen=True)
class CountUnreadNotices(Query):
    """How many of the caller's notices the caller has not read (all of them, not one page)."""

    principal: Principal


@dataclass(frozen=True)
class ListMails(Query):
    """The newest mails of the mail outbox, for operators (``bp-notifications mails-list``)."""

    status: MailStatus | None = None
    limit: int = 50
