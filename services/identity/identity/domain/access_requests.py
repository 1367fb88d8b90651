"""Zugangsdaten erneut anfordern: a person asks the chamber for new access data instead of e-mailing it.

Anyone may ask (the page is public); the answer is the same whatever was entered, so it tells
nobody which Identnummern or Azubinummern exist. The chamber sees the open requests and fulfils
them: a new code replaces the old one and documents issues a new letter, which goes by post to
the address the register holds — never to whoever asked, so asking gains an attacker nothing.
One open request per number: asking again while one is open adds nothing.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from chassis.domain import Forbidden, NotFound
from chassis.principal import Principal

# Chamber staff who issue access data (DESIGN §4).
ACCESS_DATA_ROLES = ("chamber_clerk", "chamber_admin")


class RequestKind(enum.StrEnum):
    COMPANY = "company"  # by Identnummer
    APPRENTICE = "apprentice"  # by Azubinummer


class RequestOutcome(enum.StrEnum):
    ISSUED = "issued"  # a new code and letter
    NOTHING_TO_ISSUE = "nothing_to_issue"  # unknown number, or the account is active (Passwort vergessen)


@dataclass
class AccessDataRequest:
    id: uuid.UUID
    kind: RequestKind
    number: str
    contact_name: str
    created_at: datetime
    fulfilled_at: datetime | None = None
    fulfilled_by: str | None = None
    outcome: RequestOutcome | None = None

    @property
    def is_open(self) -> bool:
        return self.fulfilled_at is None

    def close(self, outcome: RequestOutcome, by: str, at: datetime) -> None:
        self.fulfilled_at, self.fulfilled_by, self.outcome = at, by, outcome


def check_may_issue_access_data(principal: Principal) -> None:
    if principal.has_role(*ACCESS_DATA_ROLES):
        return
    if principal.is_chamber:
        raise Forbidden("Only chamber clerks issue access data.")
    raise NotFound("Not found.")
