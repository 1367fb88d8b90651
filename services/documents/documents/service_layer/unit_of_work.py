"""The documents unit of work: one transaction with its repositories, outbox and inbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from chassis.events.incoming import IncomingEvent
from chassis.repository import batch_cache, insert_for, preload, statement_for
from chassis.uow import SqlAlchemyUnitOfWork
from documents.adapters import orm
from documents.adapters.access_letters import SqlAccessLetters
from documents.adapters.repository import SqlContracts, SqlDocuments, SqlPendingAccess
from documents.domain.model import ContractRecord, PendingAccess

TURNS = "documents.turns"  # in the batch cache: the contracts whose turn this transaction holds


class DocumentsUnitOfWork(SqlAlchemyUnitOfWork):
    contracts: SqlContracts
    documents: SqlDocuments
    pending_access: SqlPendingAccess
    access_letters: SqlAccessLetters

    def _open(self) -> None:
        self.contracts = SqlContracts(self.session)
        self.documents = SqlDocuments(self.session)
        self.pending_access = SqlPendingAccess(self.session)
        self.access_letters = SqlAccessLetters(self.session)

    def take_turn(self, contract_id: uuid.UUID, at: datetime) -> None:
        """Make this transaction the contract's only writer until it ends.

        The contract and its access data arrive on different queues. Two transactions
        storing them at once could each miss the other's uncommitted half, and the
        apprentice's confirmation would never be issued. Upserting the contract's row in
        ``contract_turns`` (INSERT ... ON CONFLICT DO UPDATE) makes the second wait until
        the first has committed; it then reads what the first stored. Taken only by the
        short transaction that stores, never while a PDF renders. On SQLite (embedded
        mode) writers serialise anyway; the upsert is the same statement there.
        """
        turns = batch_cache(self.session).get(TURNS)
        if turns is not None and contract_id in turns:
            return  # taken for the whole batch (prepare_batch)
        _take_turns(self.session, [contract_id], at)

    def prepare_batch(self, session: Session, events: Sequence[IncomingEvent[Any]]) -> None:
        """Take the turns of every contract of the batch (in id order, so two batches never wait
        for each other in a circle), then load what the handlers read: the contracts, their
        waiting access data and their issued documents, a query each."""
        contract_ids = sorted(_contract_ids(events))
        if not contract_ids:
            return
        _take_turns(session, contract_ids, datetime.now(UTC))
        preload(session, ContractRecord, contract_ids)
        preload(session, PendingAccess, contract_ids)
        SqlDocuments(session).preload_issued(contract_ids)
        batch_cache(session)[TURNS] = set(contract_ids)


def _contract_ids(events: Iterable[IncomingEvent[Any]]) -> set[uuid.UUID]:
    ids = (getattr(event.payload, "contract_id", None) for event in events)
    return {contract_id for contract_id in ids if isinstance(contract_id, uuid.UUID)}


def _take_turns(session: Session, contract_ids: list[uuid.UUID], at: datetime) -> None:
    """Upsert the contracts' rows of ``contract_turns`` (one statement), which locks them until
    the transaction ends."""
    table = orm.contract_turns

    def build() -> Any:
        stmt = insert_for(session, table)
        return stmt.on_conflict_do_update(
            index_elements=["contract_id"], set_={"taken_at": stmt.excluded.taken_at}
        )

    stmt = statement_for(session, "documents.take_turn", build)
    if len(contract_ids) == 1:
        session.execute(stmt, {"contract_id": contract_ids[0], "taken_at": at})
    else:
        session.execute(stmt.values([{"contract_id": c, "taken_at": at} for c in contract_ids]))
