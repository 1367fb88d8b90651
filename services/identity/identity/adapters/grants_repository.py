"""Finders of roles, rights, company services, deputyships and head offices' reach, in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from chassis.pagination import Page, PageRequest, SortKey
from chassis.repository import SqlAlchemyRepository, keyset_page
from identity.adapters.orm import accounts, company_branches, company_services, deputyships, head_office_reach
from identity.domain.deputies import Deputyship, DeputyshipStatus
from identity.domain.grants import CompanyService
from identity.domain.model import Account

MEMBER_ORDER = (SortKey("name"), SortKey("id"))
OPEN_ORDER = (SortKey("requested_at"), SortKey("id"))


def _json_has_key(column: sa.ColumnElement[object], key: str, dialect: str) -> sa.ColumnElement[bool]:
    """``column`` (a JSON object) has ``key``: jsonb's ``?`` on PostgreSQL, json_extract on SQLite."""
    if dialect == "postgresql":
        return sa.cast(column, postgresql.JSONB).has_key(key)
    return sa.func.json_extract(column, sa.literal(f'$."{key}"')).is_not(None)


def _json_list_contains(column: sa.ColumnElement[object], item: str, dialect: str) -> sa.ColumnElement[bool]:
    if dialect == "postgresql":
        return sa.cast(column, postgresql.JSONB).contains([item])
    return sa.exists(
        sa.select(sa.literal(1))
        .select_from(sa.func.json_each(column))
        .where(sa.text("value = :v").bindparams(v=item))
    )


class SqlAccountGrants:
    """The accounts holding roles at a company, or chamber roles."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def members(self, company_number: str, request: PageRequest) -> Page[Account]:
        stmt = sa.select(Account).where(
            _json_has_key(accounts.c.company_roles, company_number, self._dialect)
        )
        return keyset_page(self.session, stmt, MEMBER_ORDER, request)

    def administrators(self, company_number: str) -> int:
        """How many Administrators the company has (their rows locked until commit)."""
        members = self.all_members(company_number)
        return sum(1 for account in members if "admin" in account.company_roles[company_number])

    def chamber_staff(self, request: PageRequest) -> Page[Account]:
        dialect = self._dialect
        stmt = sa.select(Account).where(
            sa.or_(*(_json_list_contains(accounts.c.roles, role, dialect) for role in sorted(_CHAMBER)))
        )
        return keyset_page(self.session, stmt, MEMBER_ORDER, request)

    def chamber_admins(self) -> int:
        stmt = sa.select(Account).where(_json_list_contains(accounts.c.roles, "chamber_admin", self._dialect))
        return len(self.session.scalars(stmt.with_for_update()).all())

    def all_members(self, company_number: str) -> Sequence[Account]:
        """Every account holding a role at the company (locked until commit)."""
        stmt = sa.select(Account).where(
            _json_has_key(accounts.c.company_roles, company_number, self._dialect)
        )
        # populate_existing: an account read earlier in this transaction is refreshed under the lock.
        return self.session.scalars(stmt.with_for_update().execution_options(populate_existing=True)).all()


_CHAMBER = frozenset({"chamber_clerk", "chamber_exam_organiser", "chamber_admin"})


class SqlCompanyServices(SqlAlchemyRepository[CompanyService]):
    model = CompanyService

    def switched_on(self, company_number: str) -> frozenset[str]:
        rows = self.session.execute(
            sa.select(company_services.c.service).where(company_services.c.company_number == company_number)
        ).scalars()
        return frozenset(rows)

    def find_one(self, company_number: str, service: str) -> CompanyService | None:
        return self.get((company_number, service))


class SqlDeputyships(SqlAlchemyRepository[Deputyship]):
    model = Deputyship

    def open_requests(self, request: PageRequest) -> Page[Deputyship]:
        stmt = sa.select(Deputyship).where(deputyships.c.status == DeputyshipStatus.REQUESTED.value)
        return self.page(stmt, OPEN_ORDER, request)

    def for_update(self, deputyship_id: uuid.UUID) -> Deputyship | None:
        return self.session.scalars(
            sa.select(Deputyship).where(deputyships.c.id == deputyship_id).with_for_update()
        ).first()

    def involving(self, account_id: uuid.UUID, company_numbers: Sequence[str]) -> Sequence[Deputyship]:
        """Those that name the account (as represented or as deputy) or one of the companies;
        not the ended ones."""
        conditions = [
            deputyships.c.represented_account_id == account_id,
            deputyships.c.deputy_account_id == account_id,
        ]
        if company_numbers:
            conditions.append(deputyships.c.company_number.in_(list(company_numbers)))
        stmt = (
            sa.select(Deputyship)
            .where(
                sa.or_(*conditions),
                deputyships.c.status.in_([DeputyshipStatus.REQUESTED.value, DeputyshipStatus.APPROVED.value]),
            )
            .order_by(deputyships.c.requested_at, deputyships.c.id)
            .limit(200)
        )
        return self.session.scalars(stmt).all()


class SqlCompanyStructure:
    """Head offices, their branches, and whose reach the chamber switched on."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def assign_branch(self, branch_number: str, head_office_number: str) -> None:
        self.session.execute(
            sa.delete(company_branches).where(company_branches.c.branch_number == branch_number)
        )
        self.session.execute(
            sa.insert(company_branches).values(
                branch_number=branch_number, head_office_number=head_office_number
            )
        )

    def remove_branch(self, branch_number: str, head_office_number: str) -> None:
        self.session.execute(
            sa.delete(company_branches).where(
                company_branches.c.branch_number == branch_number,
                company_branches.c.head_office_number == head_office_number,
            )
        )

    def set_reach(self, company_number: str, enabled: bool) -> None:
        self.session.execute(
            sa.delete(head_office_reach).where(head_office_reach.c.company_number == company_number)
        )
        self.session.execute(
            sa.insert(head_office_reach).values(company_number=company_number, enabled=enabled)
        )

    def reach(self, head_offices: Sequence[str]) -> Mapping[str, Sequence[str]]:
        """{head office: [branches]} for those of ``head_offices`` whose reach is on."""
        if not head_offices:
            return {}
        rows = self.session.execute(
            sa.select(company_branches.c.head_office_number, company_branches.c.branch_number)
            .join(
                head_office_reach, head_office_reach.c.company_number == company_branches.c.head_office_number
            )
            .where(
                head_office_reach.c.enabled.is_(True),
                company_branches.c.head_office_number.in_(list(head_offices)),
            )
            .order_by(company_branches.c.head_office_number, company_branches.c.branch_number)
        ).all()
        reach: dict[str, list[str]] = {}
        for head_office, branch in rows:
            reach.setdefault(head_office, []).append(branch)
        return reach
