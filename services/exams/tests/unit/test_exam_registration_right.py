"""Prüfungsanmeldung needs the service right from the token, whatever the role."""

from __future__ import annotations

import pytest

from chassis.domain import Forbidden
from chassis.principal import Principal
from exams.domain.access import may_register_for_exams


def principal(**claims: object) -> Principal:
    return Principal.from_claims({"sub": "s-1", **claims})


def test_the_right_at_the_company_allows_it() -> None:
    may_register_for_exams(
        principal(company_roles={"4711001": ["manager"]}, service_rights={"4711001": ["exam_registration"]}),
        "4711001",
    )


@pytest.mark.parametrize(
    "claims",
    [
        {"company_roles": {"4711001": ["admin"]}},  # being Administrator is not enough
        {"company_roles": {"4711001": ["admin"]}, "service_rights": {"4711002": ["exam_registration"]}},
        {"roles": ["chamber_admin"]},
    ],
)
def test_without_the_right_at_that_company_it_is_forbidden(claims: dict[str, object]) -> None:
    with pytest.raises(Forbidden):
        may_register_for_exams(principal(**claims), "4711001")
