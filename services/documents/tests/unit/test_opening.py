"""Rendering on the first opening: from the sealed content, once, with no unit of work open; same bytes ever after."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import pytest

from chassis.domain import NotFound
from chassis.principal import Principal
from documents.domain.commands import OpenDocument, RenderDocument
from documents.domain.model import BrokenSeal, Document, UnreadableSeal
from documents.domain.queries import ListUnrendered

CONTRACT = "training.contract.registered"
PREPARED = "identity.apprentice_account.prepared"
OPENED = "documents.document.opened"

APPRENTICE = Principal(
    subject=str(uuid.uuid4()), roles=frozenset({"apprentice"}), apprentice_number="20269876"
)
OTHER_APPRENTICE = Principal(
    subject=str(uuid.uuid4()), roles=frozenset({"apprentice"}), apprentice_number="20260001"
)
COMPANY_ADMIN = Principal(subject=str(uuid.uuid4()), company_roles={"4711001": frozenset({"admin"})})
CHAMBER = Principal(subject=str(uuid.uuid4()), roles=frozenset({"chamber_clerk"}))


@pytest.fixture
def issued(world, contract_payload, prepared_payload) -> dict[str, Document]:
    contract = contract_payload()
    world.deliver(CONTRACT, contract)
    world.deliver(PREPARED, prepared_payload(contract["contract_id"], activation_code="QX7-SECRET-CODE"))
    return {d.recipient_kind: d for d in world.db.documents.all()}


def open_as(world: Any, principal: Principal, document: Document) -> Document:
    return world.handle(OpenDocument(principal, document.id))


def test_the_first_opening_renders_the_sealed_content_and_every_opening_answers_those_bytes(
    world, issued
) -> None:
    document = issued["apprentice"]
    world.later(minutes=5)
    first = open_as(world, APPRENTICE, document).content

    (content,) = world.renderer.rendered
    assert content == world.sealed_content(document)  # exactly what was sealed at issue
    assert first == b"%PDF-fake #1 apprentice 2026-000123 QX7-SECRET-CODE"
    stored = world.db.documents.get(document.id)
    assert stored.content == first and stored.rendered_at == world.now
    assert (stored.size, stored.sha256) == (len(first), hashlib.sha256(first).hexdigest())

    world.later(days=30)
    for principal in (APPRENTICE, CHAMBER, APPRENTICE):
        assert open_as(world, principal, document).content == first
    assert len(world.renderer.rendered) == 1  # never rendered again
    assert stored.rendered_at == world.now - timedelta(days=30)


def test_no_unit_of_work_is_open_while_rendering(world, issued) -> None:
    open_as(world, APPRENTICE, issued["apprentice"])
    open_as(world, COMPANY_ADMIN, issued["company"])
    assert world.renderer.units_open_while_rendering == [0, 0]
    assert world.db.open_units == 0


def test_a_concurrent_first_opening_answers_the_rendering_stored_first(world, issued) -> None:
    document = issued["apprentice"]
    answers: list[bytes] = []
    # While this opening renders (#1), another one renders (#2) and stores its PDF first.
    world.renderer.while_rendering = lambda _content: answers.append(
        open_as(world, APPRENTICE, document).content
    )
    answers.append(open_as(world, APPRENTICE, document).content)

    assert len(world.renderer.rendered) == 2
    assert answers == [b"%PDF-fake #2 apprentice 2026-000123 QX7-SECRET-CODE"] * 2
    assert world.db.documents.get(document.id).content == answers[0]
    # One read receipt, one event.
    (event,) = world.db.events_of(OPENED)
    assert event.payload["document_id"] == str(document.id)


def test_the_read_receipt_is_the_recipients_first_opening_whoever_rendered_it(world, issued) -> None:
    document = issued["company"]
    open_as(world, CHAMBER, document)  # rendered now, for support: no receipt
    assert document.first_opened_at is None and world.db.events_of(OPENED) == []

    world.later(hours=1)
    opened = open_as(world, COMPANY_ADMIN, document)
    assert opened.first_opened_at == world.now and opened.first_opened_by == COMPANY_ADMIN.subject
    assert len(world.renderer.rendered) == 1
    (event,) = world.db.events_of(OPENED)
    assert event.payload["recipient_kind"] == "company"


def test_the_first_opening_by_the_recipient_records_the_receipt_with_the_rendering(world, issued) -> None:
    document = issued["apprentice"]
    opened = open_as(world, APPRENTICE, document)
    assert opened.first_opened_at == world.now and opened.first_opened_by == APPRENTICE.subject
    assert len(world.db.events_of(OPENED)) == 1


def test_whoever_may_not_read_a_document_renders_nothing(world, issued) -> None:
    for principal, document in [(OTHER_APPRENTICE, issued["apprentice"]), (APPRENTICE, issued["company"])]:
        with pytest.raises(NotFound):
            open_as(world, principal, document)
    assert world.renderer.rendered == []
    assert not any(d.rendered for d in issued.values())


def test_a_document_rendered_at_issue_is_served_as_it_is(world, make_document) -> None:
    legacy = make_document(content=b"%PDF-1.7 issued before sealing")
    world.db.documents.add(legacy)
    assert open_as(world, APPRENTICE, legacy).content == b"%PDF-1.7 issued before sealing"
    assert world.renderer.rendered == []


def test_sealed_content_that_is_not_what_was_sealed_is_not_rendered(world, issued) -> None:
    document = issued["apprentice"]
    digest = document.sealed_sha256
    document.sealed_sha256 = "0" * 64
    with pytest.raises(BrokenSeal):
        open_as(world, APPRENTICE, document)
    document.sealed_sha256, document.sealed_data = digest, b"garbage"
    with pytest.raises(UnreadableSeal):
        open_as(world, APPRENTICE, document)
    assert world.renderer.rendered == [] and not document.rendered and document.first_opened_at is None


def test_rendering_ahead_stores_the_pdf_without_a_receipt(world, issued) -> None:
    ids = sorted(d.id for d in issued.values())
    assert world.handle(ListUnrendered()) == ids
    assert world.handle(ListUnrendered(after=ids[0])) == ids[1:]
    assert world.handle(ListUnrendered(limit=1)) == ids[:1]

    assert world.handle(RenderDocument(ids[0])) is True
    assert world.handle(RenderDocument(ids[0])) is False  # rendered already: nothing rendered again
    assert len(world.renderer.rendered) == 1
    assert world.handle(ListUnrendered()) == ids[1:]
    rendered = world.db.documents.get(ids[0])
    assert rendered.rendered and rendered.first_opened_at is None and world.db.events_of(OPENED) == []
    with pytest.raises(NotFound):
        world.handle(RenderDocument(uuid.uuid4()))

    # An opening afterwards answers the stored bytes and records the receipt.
    principal = APPRENTICE if rendered.recipient_kind == "apprentice" else COMPANY_ADMIN
    assert open_as(world, principal, rendered).content == rendered.content
    assert len(world.renderer.rendered) == 1 and len(world.db.events_of(OPENED)) == 1
