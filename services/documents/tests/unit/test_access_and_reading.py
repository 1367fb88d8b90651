"""Who may read which document, and the read receipt: first opening by the recipient side only."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from documents.domain.model import ContractNotFound, DocumentFilter, DocumentNotFound, Viewer, first_opening
from documents.service_layer import services

OPENED = "documents.document.opened"

APPRENTICE = Viewer(subject=str(uuid.uuid4()), apprentice_number="20269876")
OTHER_APPRENTICE = Viewer(subject=str(uuid.uuid4()), apprentice_number="20260001")
COMPANY_ADMIN = Viewer(subject=str(uuid.uuid4()), company_roles={"4711001": frozenset({"admin"})})
COMPANY_MANAGER = Viewer(subject=str(uuid.uuid4()), company_roles={"4711001": frozenset({"manager"})})
COMPANY_TRAINER = Viewer(subject=str(uuid.uuid4()), company_roles={"4711001": frozenset({"trainer"})})
OTHER_COMPANY = Viewer(subject=str(uuid.uuid4()), company_roles={"9999999": frozenset({"admin"})})
CHAMBER = Viewer(subject=str(uuid.uuid4()), is_chamber=True)
NOBODY = Viewer(subject=str(uuid.uuid4()))


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
    assert viewer.may_read(company) is company_doc
    assert viewer.may_read(apprentice) is apprentice_doc


def test_only_the_recipient_sides_first_opening_is_a_read_receipt(make_document) -> None:
    document = make_document()
    at = document.issued_at + timedelta(hours=2)
    assert first_opening(document, CHAMBER, at) is None
    opening = first_opening(document, APPRENTICE, at)
    assert opening is not None and (opening.opened_at, opening.opened_by) == (at, APPRENTICE.subject)

    document.first_opened_at, document.first_opened_by = at, APPRENTICE.subject
    assert first_opening(document, APPRENTICE, at + timedelta(days=1)) is None


def test_a_chamber_member_who_is_the_recipient_counts_as_recipient(make_document) -> None:
    both = Viewer(subject=str(uuid.uuid4()), is_chamber=True, apprentice_number="20269876")
    assert first_opening(make_document(), both, make_document().issued_at) is not None


def issue_both(world, contract_payload, prepared_payload) -> dict[str, object]:
    contract = contract_payload()
    world.deliver("training.contract.registered", contract)
    world.deliver("identity.apprentice_account.prepared", prepared_payload(contract["contract_id"]))
    return {d.recipient_kind: d for d in world.uow.documents.rows.values()}


def test_opening_records_the_receipt_once_and_emits_once(world, contract_payload, prepared_payload) -> None:
    docs = issue_both(world, contract_payload, prepared_payload)
    document = docs["apprentice"]
    clock_times = iter([world.now + timedelta(minutes=m) for m in (5, 10, 20)])

    def clock():
        return next(clock_times)

    with world.uow as uow:
        services.open_document(uow, CHAMBER, document.id, clock)
    assert document.first_opened_at is None and world.uow.events(OPENED) == []

    with world.uow as uow:
        services.open_document(uow, APPRENTICE, document.id, clock)
    first = document.first_opened_at
    assert first == world.now + timedelta(minutes=10)
    assert document.first_opened_by == APPRENTICE.subject

    with world.uow as uow:
        services.open_document(uow, APPRENTICE, document.id, clock)
    assert document.first_opened_at == first

    (event,) = world.uow.events(OPENED)
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
        with world.uow as uow, pytest.raises(DocumentNotFound):
            services.open_document(uow, viewer, document.id, lambda: world.now)
        with world.uow as uow, pytest.raises(DocumentNotFound):
            services.get_document(uow, viewer, document.id)
    assert all(d.first_opened_at is None for d in docs.values())
    with world.uow as uow, pytest.raises(DocumentNotFound):
        services.get_document(uow, CHAMBER, uuid.uuid4())


def test_listing_is_scoped_and_filterable(world, contract_payload, prepared_payload) -> None:
    docs = issue_both(world, contract_payload, prepared_payload)

    def listed(viewer: Viewer, **filters: object) -> set[str]:
        with world.uow as uow:
            return {d.recipient_kind for d in services.list_documents(uow, viewer, DocumentFilter(**filters))}

    assert listed(APPRENTICE) == {"apprentice"}
    assert listed(COMPANY_ADMIN) == {"company"}
    assert listed(CHAMBER) == {"company", "apprentice"}
    assert listed(CHAMBER, recipient_kind="company") == {"company"}
    assert listed(OTHER_COMPANY) == set() and listed(NOBODY) == set() and listed(COMPANY_TRAINER) == set()

    with world.uow as uow:
        services.open_document(uow, APPRENTICE, docs["apprentice"].id, lambda: world.now)
    assert listed(APPRENTICE, unread=True) == set()
    assert listed(CHAMBER, unread=True) == {"company"}


def test_contract_documents_for_its_company_and_the_chamber_only(
    world, contract_payload, prepared_payload
) -> None:
    docs = issue_both(world, contract_payload, prepared_payload)
    contract_id = docs["company"].contract_id
    for viewer in (COMPANY_ADMIN, COMPANY_MANAGER, CHAMBER):
        with world.uow as uow:
            assert {d.recipient_kind for d in services.contract_documents(uow, viewer, contract_id)} == {
                "company",
                "apprentice",
            }
    for viewer in (APPRENTICE, OTHER_COMPANY, COMPANY_TRAINER, NOBODY):
        with world.uow as uow, pytest.raises(ContractNotFound):
            services.contract_documents(uow, viewer, contract_id)
    with world.uow as uow, pytest.raises(ContractNotFound):
        services.contract_documents(uow, CHAMBER, uuid.uuid4())
