"""Who may read which document, and the read receipt: first opening by the recipient side only."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from chassis.domain import NotFound
from chassis.pagination import PageRequest
from chassis.principal import Principal
from documents.domain.access import first_opening, may_read
from documents.domain.commands import OpenDocument
from documents.domain.model import DocumentFilter
from documents.domain.queries import GetDocument, ListContractDocuments, ListDocuments

OPENED = "documents.document.opened"

APPRENTICE = Principal(
    subject=str(uuid.uuid4()), roles=frozenset({"apprentice"}), apprentice_number="20269876"
)
OTHER_APPRENTICE = Principal(
    subject=str(uuid.uuid4()), roles=frozenset({"apprentice"}), apprentice_number="20260001"
)
COMPANY_ADMIN = Principal(subject=str(uuid.uuid4()), company_roles={"4711001": frozenset({"admin"})})
COMPANY_MANAGER = Principal(subject=str(uuid.uuid4()), company_roles={"4711001": frozenset({"manager"})})
COMPANY_TRAINER = Principal(subject=str(uuid.uuid4()), company_roles={"4711001": frozenset({"trainer"})})
OTHER_COMPANY = Principal(subject=str(uuid.uuid4()), company_roles={"9999999": frozenset({"admin"})})
CHAMBER = Principal(subject=str(uuid.uuid4()), roles=frozenset({"chamber_clerk"}))
NOBODY = Principal(subject=str(uuid.uuid4()))
PAGE = PageRequest(limit=100)


@pytest.mark.parametrize(
    ("viewer", "company_doc", "apprentice_doc"),
    [
        (APPRENTICE, False, True),
        (OTHER_APPRENTICE, False, False),
        (COMPANY_ADMIN, True, False),
        (COMPANY_MANAGER, True, False),
        (COMPANY_TRAINER, False, False),
        (OTHER_COMPANY, False, False),
        (CHAMBER, True, True),
        (NOBODY, False, False),
    ],
)
def test_read_access_matrix(make_document, viewer, company_doc, apprentice_doc) -> None:
    company = make_document(recipient_kind="company", apprentice_number=None)
    apprentice = make_document(recipient_kind="apprentice")
    assert may_read(viewer, company) is company_doc
    assert may_read(viewer, apprentice) is apprentice_doc


def test_only_the_recipient_sides_first_opening_is_a_read_receipt(make_document) -> None:
    document = make_document()
    at = document.issued_at + timedelta(hours=2)
    assert first_opening(document, CHAMBER, at) is None
    opening = first_opening(document, APPRENTICE, at)
    assert opening is not None and (opening.opened_at, opening.opened_by) == (at, APPRENTICE.subject)

    document.first_opened_at, document.first_opened_by = at, APPRENTICE.subject
    assert first_opening(document, APPRENTICE, at + timedelta(days=1)) is None


def test_a_chamber_member_who_is_the_recipient_counts_as_recipient(make_document) -> None:
    both = Principal(
        subject=str(uuid.uuid4()), roles=frozenset({"chamber_clerk"}), apprentice_number="20269876"
    )
    assert first_opening(make_document(), both, make_document().issued_at) is not None


def issue_both(world, contract_payload, prepared_payload) -> dict[str, object]:
    contract = contract_payload()
    world.deliver("training.contract.registered", contract)
    world.deliver("identity.apprentice_account.prepared", prepared_payload(contract["contract_id"]))
    return {d.recipient_kind: d for d in world.db.documents.all()}


def test_opening_records_the_receipt_once_and_emits_once(world, contract_payload, prepared_payload) -> None:
    docs = issue_both(world, contract_payload, prepared_payload)
    document = docs["apprentice"]
    issued_at = world.now

    world.later(minutes=5)
    assert world.handle(OpenDocument(CHAMBER, document.id)).content == document.content
    assert document.first_opened_at is None and world.db.events_of(OPENED) == []

    world.later(minutes=5)
    world.handle(OpenDocument(APPRENTICE, document.id))
    first = document.first_opened_at
    assert first == issued_at + timedelta(minutes=10)
    assert document.first_opened_by == APPRENTICE.subject

    world.later(minutes=10)
    world.handle(OpenDocument(APPRENTICE, document.id))
    assert document.first_opened_at == first

    (event,) = world.db.events_of(OPENED)
    assert event.payload["document_id"] == str(document.id)
    assert event.payload["recipient_kind"] == "apprentice"
    assert event.payload["opened_by"] == APPRENTICE.subject


def test_others_cannot_open_or_see_a_document(world, contract_payload, prepared_payload) -> None:
    docs = issue_both(world, contract_payload, prepared_payload)
    for viewer, document in [
        (OTHER_APPRENTICE, docs["apprentice"]),
        (COMPANY_ADMIN, docs["apprentice"]),
        (APPRENTICE, docs["company"]),
        (OTHER_COMPANY, docs["company"]),
        (COMPANY_TRAINER, docs["company"]),
    ]:
        with pytest.raises(NotFound):
            world.handle(OpenDocument(viewer, document.id))
        with pytest.raises(NotFound):
            world.handle(GetDocument(viewer, document.id))
    assert all(d.first_opened_at is None for d in docs.values())
    with pytest.raises(NotFound):
        world.handle(GetDocument(CHAMBER, uuid.uuid4()))


def test_listing_is_scoped_and_filterable(world, contract_payload, prepared_payload) -> None:
    docs = issue_both(world, contract_payload, prepared_payload)

    def listed(viewer: Principal, **filters: object) -> set[str]:
        page = world.handle(ListDocuments(viewer, PAGE, DocumentFilter(**filters)))  # type: ignore[arg-type]
        assert page.next_cursor is None
        return {d.recipient_kind for d in page.items}

    assert listed(APPRENTICE) == {"apprentice"}
    assert listed(COMPANY_ADMIN) == {"company"}
    assert listed(CHAMBER) == {"company", "apprentice"}
    assert listed(CHAMBER, recipient_kind="company") == {"company"}
    assert listed(OTHER_COMPANY) == set() and listed(NOBODY) == set() and listed(COMPANY_TRAINER) == set()

    world.handle(OpenDocument(APPRENTICE, docs["apprentice"].id))
    assert listed(APPRENTICE, unread=True) == set()
    assert listed(CHAMBER, unread=True) == {"company"}


def test_contract_documents_for_its_company_and_the_chamber_only(
    world, contract_payload, prepared_payload
) -> None:
    docs = issue_both(world, contract_payload, prepared_payload)
    contract_id = docs["company"].contract_id
    for viewer in (COMPANY_ADMIN, COMPANY_MANAGER, CHAMBER):
        page = world.handle(ListContractDocuments(viewer, contract_id, PAGE))
        assert {d.recipient_kind for d in page.items} == {"company", "apprentice"}
    for viewer in (APPRENTICE, OTHER_COMPANY, COMPANY_TRAINER, NOBODY):
        with pytest.raises(NotFound):
            world.handle(ListContractDocuments(viewer, contract_id, PAGE))
    with pytest.raises(NotFound):
        world.handle(ListContractDocuments(CHAMBER, uuid.uuid4(), PAGE))


def test_pages_follow_the_cursor_newest_first_without_gaps_or_repeats(world, contract_payload) -> None:
    for _ in range(7):
        world.deliver("training.contract.registered", contract_payload())
        world.later(minutes=1)
    seen = []
    cursor = None
    while True:
        page = world.handle(ListDocuments(CHAMBER, PageRequest(cursor=cursor, limit=3)))
        seen += list(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len({d.id for d in seen}) == 7
    assert [d.issued_at for d in seen] == sorted((d.issued_at for d in seen), reverse=True)
    assert world.handle(ListDocuments(NOBODY, PAGE)).items == ()
