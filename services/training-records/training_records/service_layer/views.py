"""Read side: what the API shows, queried straight from the tables (cosmicpython ch. 12).

Every query takes the caller's visibility and filters in SQL, so no row the
caller may not see ever leaves the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from training_records.adapters import orm
from training_records.domain.model import AccountState
from training_records.service_layer.access import CompanyVisibility, ContractVisibility

_c = orm.contracts
_a = orm.apprentices
_acc = orm.apprentice_accounts
_co = orm.companies
_o = orm.occupations


@dataclass(frozen=True)
class ContractFilters:
    company_number: str | None = None
    occupation_code: str | None = None
    apprentice_number: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int


def _contract_rows() -> sa.Select[Any]:
    return sa.select(
        _c.c.id,
        _c.c.contract_number,
        _c.c.state,
        _c.c.registered_on,
        _c.c.start_date,
        _c.c.end_date,
        _c.c.confirmation_opened_by_company_at,
        _c.c.confirmation_opened_by_apprentice_at,
        _o.c.code.label("occupation_code"),
        _o.c.title.label("occupation_title"),
        _co.c.company_number,
        _co.c.name.label("company_name"),
        _a.c.first_name,
        _a.c.last_name,
        _a.c.birth_date,
        _a.c.email.label("apprentice_email"),
        _a.c.apprentice_number,
        _acc.c.state.label("account_state"),
        _acc.c.activated_at.label("account_activated_at"),
    ).select_from(_joined())


def _joined() -> sa.FromClause:
    return (
        _c.join(_a, _a.c.id == _c.c.apprentice_id)
        .join(_co, _co.c.company_number == _c.c.company_number)
        .join(_o, _o.c.code == _c.c.occupation_code)
        .outerjoin(_acc, _acc.c.apprentice_number == _a.c.apprentice_number)
    )


def _visible(visibility: ContractVisibility) -> sa.ColumnElement[bool]:
    if visibility.everything:
        return sa.true()
    conditions: list[sa.ColumnElement[bool]] = []
    if visibility.company_numbers:
        conditions.append(_c.c.company_number.in_(sorted(visibility.company_numbers)))
    if visibility.apprentice_number:
        conditions.append(_a.c.apprentice_number == visibility.apprentice_number)
    return sa.or_(*conditions) if conditions else sa.false()


def _as_contract(row: sa.Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "contract_number": row.contract_number,
        "state": row.state,
        "registered_on": row.registered_on,
        "start_date": row.start_date,
        "end_date": row.end_date,
        "occupation": {"code": row.occupation_code, "title": row.occupation_title},
        "company": {"company_number": row.company_number, "name": row.company_name},
        "apprentice": {
            "first_name": row.first_name,
            "last_name": row.last_name,
            "birth_date": row.birth_date,
            "email": row.apprentice_email,
            "apprentice_number": row.apprentice_number,
            "account_state": row.account_state or AccountState.NONE,
            "account_activated_at": row.account_activated_at,
        },
        "confirmation_opened_at": {
            "company": row.confirmation_opened_by_company_at,
            "apprentice": row.confirmation_opened_by_apprentice_at,
        },
    }


def list_contracts(
    session: Session,
    visibility: ContractVisibility,
    filters: ContractFilters,
    *,
    page: int,
    per_page: int,
) -> Page:
    if visibility.nothing:
        return Page([], 0, page, per_page)
    conditions = [_visible(visibility)]
    if filters.company_number:
        conditions.append(_c.c.company_number == filters.company_number)
    if filters.occupation_code:
        conditions.append(_c.c.occupation_code == filters.occupation_code)
    if filters.apprentice_number:
        conditions.append(_a.c.apprentice_number == filters.apprentice_number)
    total = session.execute(sa.select(sa.func.count()).select_from(_joined()).where(*conditions)).scalar_one()
    rows = session.execute(
        _contract_rows()
        .where(*conditions)
        .order_by(_c.c.registered_on.desc(), _c.c.contract_number.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page([_as_contract(row) for row in rows], total, page, per_page)


def get_contract(
    session: Session, visibility: ContractVisibility, contract_id: uuid.UUID
) -> dict[str, Any] | None:
    """The contract, or None if it does not exist or the caller may not see it (same answer)."""
    if visibility.nothing:
        return None
    row = session.execute(_contract_rows().where(_c.c.id == contract_id, _visible(visibility))).first()
    return _as_contract(row) if row is not None else None


def list_companies(session: Session, visibility: CompanyVisibility, *, page: int, per_page: int) -> Page:
    if not (visibility.everything or visibility.company_numbers):
        return Page([], 0, page, per_page)
    conditions: list[sa.ColumnElement[bool]] = []
    if not visibility.everything:
        conditions.append(_co.c.company_number.in_(sorted(visibility.company_numbers)))
    total = session.execute(sa.select(sa.func.count()).select_from(_co).where(*conditions)).scalar_one()
    rows = session.execute(
        sa.select(_co)
        .where(*conditions)
        .order_by(_co.c.name, _co.c.company_number)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page([dict(row._mapping) for row in rows], total, page, per_page)


def list_occupations(session: Session) -> list[dict[str, Any]]:
    query = sa.select(_o.c.code, _o.c.title).order_by(_o.c.title)
    return [dict(row._mapping) for row in session.execute(query)]
