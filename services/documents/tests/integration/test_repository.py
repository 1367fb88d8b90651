"""Repository guarantees on PostgreSQL that the use cases rely on under concurrency."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from documents.domain.model import Document, Opening


def document(contract_id: uuid.UUID, recipient_kind: str = "company") -> Document:
    return Document(
        id=uuid.uuid4(),
        kind="registration_confirmation",
        title="Eintragungsbestätigung 2026-000123",
        contract_id=contract_id,
        recipient_kind=recipient_kind,
        company_number="4711001",
        apprentice_number=None,
        recipient_name="Muster Maschinenbau GmbH",
        recipient_email="ausbildung@muster-maschinenbau.example",
        filename="x.pdf",
        media_type="application/pdf",
        size=4,
        sha256="0" * 64,
        issued_at=datetime.now(UTC),
        content=b"%PDF",
    )


def test_a_read_receipt_is_stored_once_even_when_two_openings_race(service) -> None:
    doc = document(uuid.uuid4())
    with service.runtime.uow_factory() as uow:
        uow.documents.add(doc)
        uow.commit()
    at = datetime.now(UTC)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    # Both openings read "not yet opened" before either writes: the conditional update decides.
    with service.runtime.uow_factory() as a, service.runtime.uow_factory() as b:
        assert a.documents.get(doc.id).first_opened_at is None
        assert b.documents.get(doc.id).first_opened_at is None
        assert a.documents.record_first_opening(Opening(doc.id, at, first)) is True
        a.commit()
        assert b.documents.record_first_opening(Opening(doc.id, at + timedelta(seconds=1), second)) is False
        b.commit()
    with service.runtime.uow_factory() as uow:
        stored = uow.documents.get(doc.id)
        assert (stored.first_opened_at, stored.first_opened_by) == (at, first)


def test_one_confirmation_per_contract_and_recipient(service) -> None:
    contract_id = uuid.uuid4()
    with service.runtime.uow_factory() as uow:
        uow.documents.add(document(contract_id))
        uow.commit()
    with service.runtime.uow_factory() as uow:
        uow.documents.add(document(contract_id))
        with pytest.raises(IntegrityError):
            uow.commit()
