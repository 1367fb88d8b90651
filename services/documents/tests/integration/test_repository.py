"""Repository guarantees on PostgreSQL that the use cases rely on under concurrency."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from documents.domain.model import Document, Opening, PendingAccess, Rendering


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
        issued_at=datetime.now(UTC),
        template="registration_confirmation",
        template_version=1,
        sealed_data=b"sealed",
        sealed_sha256="0" * 64,
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


def test_storing_the_same_confirmation_at_once_stores_it_once(service) -> None:
    contract_id = uuid.uuid4()
    second_done = threading.Event()
    stored: list[bool] = []
    with service.runtime.uow_factory() as first:
        assert first.documents.add_if_absent(document(contract_id)) is True

        def second() -> None:
            with service.runtime.uow_factory() as uow:
                stored.append(uow.documents.add_if_absent(document(contract_id)))
                uow.commit()
            second_done.set()

        thread = threading.Thread(target=second)
        thread.start()
        # The second insert waits on the unique key until the first transaction ends ...
        assert not second_done.wait(0.5)
        first.commit()
    thread.join(timeout=10)
    # ... and then learns that the confirmation exists: no error, nothing stored.
    assert stored == [False]
    with service.runtime.uow_factory() as uow:
        assert uow.documents.issued_for(contract_id, "registration_confirmation") == {"company"}


def test_a_contracts_second_turn_waits_for_the_first_and_then_sees_what_it_stored(service) -> None:
    contract_id = uuid.uuid4()
    seen: list[object] = []
    second_done = threading.Event()
    at = datetime.now(UTC)
    with service.runtime.uow_factory() as first:
        first.take_turn(contract_id, at)
        first.pending_access.put(
            PendingAccess(contract_id, "20269876", b"sealed", at + timedelta(days=1), at)
        )
        first.session.flush()

        def second() -> None:
            with service.runtime.uow_factory() as uow:
                uow.take_turn(contract_id, at)
                seen.append(uow.pending_access.get(contract_id))
            second_done.set()

        thread = threading.Thread(target=second)
        thread.start()
        assert not second_done.wait(0.5), "the second turn did not wait for the first"
        first.commit()
    thread.join(timeout=10)
    (pending,) = seen
    assert isinstance(pending, PendingAccess) and pending.apprentice_number == "20269876"


def test_a_rendering_is_stored_once_even_when_two_first_openings_race(service) -> None:
    doc = document(uuid.uuid4())
    with service.runtime.uow_factory() as uow:
        uow.documents.add(doc)
        uow.commit()
    at = datetime.now(UTC)
    second_done = threading.Event()
    stored: list[bool] = []
    with service.runtime.uow_factory() as first:
        assert first.documents.store_rendering(Rendering(doc.id, b"%PDF first", at)) is True

        def second() -> None:
            with service.runtime.uow_factory() as uow:
                stored.append(uow.documents.store_rendering(Rendering(doc.id, b"%PDF second", at)))
                uow.commit()
            second_done.set()

        thread = threading.Thread(target=second)
        thread.start()
        # The second compare-and-set waits for the first's row lock ...
        assert not second_done.wait(0.5)
        first.commit()
    thread.join(timeout=10)
    # ... then finds the PDF stored: it changes nothing.
    assert stored == [False]
    with service.runtime.uow_factory() as uow:
        rendered = uow.documents.get(doc.id, with_content=True)
        assert rendered.content == b"%PDF first" and rendered.size == 10 and rendered.rendered_at == at
        assert uow.documents.unrendered(after=None, limit=10) == []


def test_the_database_refuses_a_document_without_pdf_and_seal_or_half_a_pdf(service) -> None:
    for broken in (
        {"sealed_data": None, "sealed_sha256": None, "template": None, "template_version": None},
        {"content": b"%PDF", "size": 4, "sha256": None, "rendered_at": None},
    ):
        doc = document(uuid.uuid4())
        for name, value in broken.items():
            setattr(doc, name, value)
        with service.runtime.uow_factory() as uow:
            uow.documents.add(doc)
            with pytest.raises(IntegrityError):
                uow.commit()
