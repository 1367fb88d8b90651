"""The questions exams answers (queries): frozen dataclasses, dispatched by the message bus."""

from __future__ import annotations

from dataclasses import dataclass

from chassis.messages import Query
from chassis.pagination import PageRequest
from chassis.principal import Principal


@dataclass(frozen=True)
class ListRegisteredContracts(Query):
    """Registered contracts the caller may see, newest registration first."""

    principal: Principal
    page: PageRequest
