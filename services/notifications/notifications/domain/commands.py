"""What callers ask notifications to do (commands): frozen dataclasses, dispatched by the message bus."""

from __future__ import annotations

from dataclasses import dataclass

from chassis.messages import Command
from chassis.principal import Principal


@dataclass(frozen=True)
class MarkNoticeRead(Command):
    """The caller has read one of their notices (idempotent: the first read time stays)."""

    principal: Principal
    notice_id: str


@dataclass(frozen=True)
class RetryFailedMails(Command):
    """An operator puts every failed mail back in the queue (``bp-notifications mails-retry``)."""


@dataclass(frozen=True)
class VoidExpiredLinks(Command):
    """Remove expired one-time links from stored mails (the link scrubber, every few minutes)."""

    limit: int = 500
