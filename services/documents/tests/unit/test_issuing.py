"""Issuing rules: which confirmations are issued, when, and only once, in either event order."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

CONTRACT = "training.contract.registered"
PREPARED = "identity.apprentice_account.prepared"
ISSUED = "documents.document.issued"


def kinds(world: Any) -> set[str]:
    return {d.recipient_kind for d in world.uow.documents.rows.values()}


def test_contract_alone_issues_the_company_confirmation(world, contract_payload) -> None:
    payload = contract_payload()
    world.deliver(CONTRACT, payload)

    assert kinds(world) == {"company"}
    (document,) = world.uow.documents.rows.values()
    assert document.contract_id == uuid.UUID(payload["contract_id"])
    assert document.company_number == "4711001" and document.apprentice_number is None
    assert document.title == "Eintragungsbestätigung 2026-000123"
    assert document.issued_at == world.now and document.first_opened_at is None
    (rendered,) = world.renderer.rendered
    assert rendered.access is None and rendered.activation_url is None
    (event,) = world.uow.events(ISSUED)
    assert event.payload["recipient"] == {
        "kind": "company",
        "company_number": "4711001",
        "apprentice_number": None,
        "name": "Muster Maschinenbau GmbH",
        "email": "ausbildung@muster-maschinenbau.example",
    }
    assert event.subject == str(document.id)


def test_access_data_after_the_contract_issues_the_apprentice_confirmation(
    world, contract_payload, prepared_payload
) -> None:
    contract = contract_payload()
    prepared = prepared_payload(contract["contract_id"])
    world.deliver(CONTRACT, contract)
    world.deliver(PREPARED, prepared)

    assert kinds(world) == {"company", "apprentice"}
    apprentice_doc = world.uow.documents.find(
        uuid.UUID(contract["contract_id"]), "registration_confirmation", "apprentice"
    )
    assert apprentice_doc.apprentice_number == "20269876"
    assert prepared["activation_code"].encode() in apprentice_doc.content
    rendered = world.renderer.rendered[-1]
    assert rendered.access.activation_code == prepared["activation_code"]
    assert rendered.activation_url == "https://portal.example/auth/activate"
    recipient = world.uow.events(ISSUED)[-1].payload["recipient"]
    assert recipient["name"] == "Jonas Jüngling" and recipient["email"] == "jonas@azubi.example"
    assert recipient["apprentice_number"] == "20269876"
    assert world.uow.pending_access.rows == {}


def test_access_data_before_the_contract_waits_sealed(world, contract_payload, prepared_payload) -> None:
    contract = contract_payload()
    prepared = prepared_payload(contract["contract_id"])
    world.deliver(PREPARED, prepared)

    assert world.uow.documents.rows == {}
    (pending,) = world.uow.pending_access.rows.values()
    assert prepared["activation_code"].encode() not in pending.sealed_code
    assert prepared["activation_code"] not in repr(pending)

    world.deliver(CONTRACT, contract)
    assert kinds(world) == {"company", "apprentice"}
    assert world.renderer.rendered[-1].access.activation_code == prepared["activation_code"]
    assert world.uow.pending_access.rows == {}


@pytest.mark.parametrize("order", [(CONTRACT, PREPARED), (PREPARED, CONTRACT)])
def test_an_already_active_account_gets_its_confirmation_without_access_data(
    world, contract_payload, prepared_payload, order
) -> None:
    contract = contract_payload()
    payloads = {
        CONTRACT: contract,
        PREPARED: prepared_payload(contract["contract_id"], activation_code=None, activation_expires_at=None),
    }
    for event_type in order:
        world.deliver(event_type, payloads[event_type])

    assert kinds(world) == {"company", "apprentice"}
    rendered = next(r for r in world.renderer.rendered if r.recipient_kind == "apprentice")
    assert rendered.access.apprentice_number == "20269876"
    assert rendered.access.activation_code is None and rendered.activation_url is None
    assert world.uow.pending_access.rows == {}


@pytest.mark.parametrize("order", [(CONTRACT, PREPARED), (PREPARED, CONTRACT)])
def test_either_order_yields_the_same_documents_and_events(
    world, contract_payload, prepared_payload, order
) -> None:
    contract = contract_payload()
    payloads = {CONTRACT: contract, PREPARED: prepared_payload(contract["contract_id"])}
    for event_type in order:
        world.deliver(event_type, payloads[event_type])

    documents = sorted(world.uow.documents.rows.values(), key=lambda d: d.recipient_kind)
    assert [(d.recipient_kind, d.company_number, d.apprentice_number) for d in documents] == [
        ("apprentice", "4711001", "20269876"),
        ("company", "4711001", None),
    ]
    events = world.uow.events(ISSUED)
    assert sorted(e.payload["recipient"]["kind"] for e in events) == ["apprentice", "company"]
    assert {e.payload["document_id"] for e in events} == {str(d.id) for d in documents}
    # Both handlers serialise on the contract.
    assert world.uow.locked == [uuid.UUID(contract["contract_id"])] * 2


def test_repeated_events_issue_nothing_twice(world, contract_payload, prepared_payload) -> None:
    contract = contract_payload()
    prepared = prepared_payload(contract["contract_id"])
    for _ in range(2):  # new event ids each time: the inbox would not catch these
        world.deliver(CONTRACT, contract)
        world.deliver(PREPARED, prepared)

    assert len(world.uow.documents.rows) == 2
    assert len(world.uow.events(ISSUED)) == 2


@pytest.mark.parametrize(
    ("registered_on", "issued"),
    [("2018-01-31", False), ("2018-02-01", True), ("2010-06-01", False), ("2026-08-03", True)],
)
def test_contracts_registered_before_the_cutoff_get_no_digital_confirmation(
    world, contract_payload, prepared_payload, registered_on, issued
) -> None:
    contract = contract_payload(registered_on=registered_on)
    world.deliver(CONTRACT, contract)
    world.deliver(PREPARED, prepared_payload(contract["contract_id"]))

    assert bool(world.uow.documents.rows) is issued
    assert len(world.uow.events(ISSUED)) == (2 if issued else 0)
    assert world.uow.pending_access.rows == {}


def test_pending_access_of_a_contract_before_the_cutoff_is_dropped(
    world, contract_payload, prepared_payload
) -> None:
    contract = contract_payload(registered_on="2017-09-01")
    world.deliver(PREPARED, prepared_payload(contract["contract_id"]))
    assert len(world.uow.pending_access.rows) == 1

    world.deliver(CONTRACT, contract)
    assert world.uow.documents.rows == {} and world.uow.pending_access.rows == {}


def test_the_cutoff_is_configurable(world, contract_payload) -> None:
    world.cutoff = world.cutoff.replace(year=2027)
    world.deliver(CONTRACT, contract_payload(registered_on="2026-12-31"))
    assert world.uow.documents.rows == {}


def test_expired_pending_access_is_purged(world, contract_payload, prepared_payload) -> None:
    stale = prepared_payload(str(uuid.uuid4()), activation_expires_at="2026-08-01T00:00:00+00:00")
    world.deliver(PREPARED, stale)
    assert len(world.uow.pending_access.rows) == 1

    fresh_contract = contract_payload()
    world.deliver(PREPARED, prepared_payload(fresh_contract["contract_id"]))
    assert set(world.uow.pending_access.rows) == {uuid.UUID(fresh_contract["contract_id"])}
