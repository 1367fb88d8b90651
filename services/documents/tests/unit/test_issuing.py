"""Issuing rules: which confirmations are issued, when, and only once, in either event order.

Issuing seals each document's content and renders nothing (that happens on the first
opening: see test_opening.py).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

CONTRACT = "training.contract.registered"
PREPARED = "identity.apprentice_account.prepared"
ISSUED = "documents.document.issued"


def kinds(world: Any) -> set[str]:
    return {d.recipient_kind for d in world.db.documents.all()}


def find(world: Any, contract_id: str, recipient_kind: str) -> Any:
    return world.db.documents.first(
        lambda d: (d.contract_id, d.recipient_kind) == (uuid.UUID(contract_id), recipient_kind)
    )


def test_contract_alone_issues_the_company_confirmation(world, contract_payload) -> None:
    payload = contract_payload()
    world.deliver(CONTRACT, payload)

    assert kinds(world) == {"company"}
    (document,) = world.db.documents.all()
    assert document.contract_id == uuid.UUID(payload["contract_id"])
    assert document.company_number == "4711001" and document.apprentice_number is None
    assert document.title == "Eintragungsbestätigung 2026-000123"
    assert document.issued_at == world.now and document.first_opened_at is None
    assert not document.rendered and document.content is None and document.sha256 is None
    assert world.renderer.rendered == []
    content = world.sealed_content(document)
    assert (content.template, content.template_version) == ("registration_confirmation", 1)
    assert (document.template, document.template_version) == ("registration_confirmation", 1)
    assert document.sealed_sha256 == content.sha256
    assert content.fields["access"] is None and content.fields["activation_url"] is None
    assert content.fields["recipient_kind"] == "company"
    assert content.fields["issued_at"] == world.now.isoformat()
    assert content.fields["contract"] == {
        "contract_number": "2026-000123",
        "registered_on": "2026-08-03",
        "company_name": "Muster Maschinenbau GmbH",
        "company_number": "4711001",
        "apprentice_name": "Jonas Jüngling",
        "apprentice_birth_date": "2009-03-14",
        "occupation_title": "Industriekaufmann/Industriekauffrau",
        "occupation_code": "78100",
        "start_date": "2026-09-01",
        "end_date": "2029-08-31",
    }
    (event,) = world.db.events_of(ISSUED)
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
    apprentice_doc = find(world, contract["contract_id"], "apprentice")
    assert apprentice_doc.apprentice_number == "20269876"
    # The code is sealed (only ever stored encrypted), not in plain text.
    assert prepared["activation_code"].encode() not in apprentice_doc.sealed_data
    fields = world.sealed_content(apprentice_doc).fields
    assert fields["access"] == {
        "apprentice_number": "20269876",
        "activation_code": prepared["activation_code"],
        "expires_at": prepared["activation_expires_at"],
    }
    assert fields["activation_url"] == "https://portal.example/auth/activate"
    recipient = world.db.events_of(ISSUED)[-1].payload["recipient"]
    assert recipient["name"] == "Jonas Jüngling" and recipient["email"] == "jonas@azubi.example"
    assert recipient["apprentice_number"] == "20269876"
    assert world.db.pending_access.items == {}


def test_access_data_before_the_contract_waits_sealed(world, contract_payload, prepared_payload) -> None:
    contract = contract_payload()
    prepared = prepared_payload(contract["contract_id"])
    world.deliver(PREPARED, prepared)

    assert world.db.documents.items == {}
    (pending,) = world.db.pending_access.all()
    assert prepared["activation_code"].encode() not in pending.sealed_code
    assert prepared["activation_code"] not in repr(pending)

    world.deliver(CONTRACT, contract)
    assert kinds(world) == {"company", "apprentice"}
    apprentice_doc = find(world, contract["contract_id"], "apprentice")
    assert (
        world.sealed_content(apprentice_doc).fields["access"]["activation_code"]
        == prepared["activation_code"]
    )
    assert world.db.pending_access.items == {}


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
    fields = world.sealed_content(find(world, contract["contract_id"], "apprentice")).fields
    assert fields["access"] == {"apprentice_number": "20269876", "activation_code": None, "expires_at": None}
    assert fields["activation_url"] is None
    assert world.db.pending_access.items == {}


@pytest.mark.parametrize("order", [(CONTRACT, PREPARED), (PREPARED, CONTRACT)])
def test_either_order_yields_the_same_documents_and_events(
    world, contract_payload, prepared_payload, order
) -> None:
    contract = contract_payload()
    payloads = {CONTRACT: contract, PREPARED: prepared_payload(contract["contract_id"])}
    for event_type in order:
        world.deliver(event_type, payloads[event_type])

    documents = sorted(world.db.documents.all(), key=lambda d: d.recipient_kind)
    assert [(d.recipient_kind, d.company_number, d.apprentice_number) for d in documents] == [
        ("apprentice", "4711001", "20269876"),
        ("company", "4711001", None),
    ]
    events = world.db.events_of(ISSUED)
    assert sorted(e.payload["recipient"]["kind"] for e in events) == ["apprentice", "company"]
    assert {e.payload["document_id"] for e in events} == {str(d.id) for d in documents}
    # Both handlers serialise on the contract (only while storing: see the tests below).
    assert world.db.turns == [uuid.UUID(contract["contract_id"])] * 2


def test_repeated_events_issue_nothing_twice(world, contract_payload, prepared_payload) -> None:
    contract = contract_payload()
    prepared = prepared_payload(contract["contract_id"])
    for _ in range(2):  # new event ids each time: the inbox would not catch these
        world.deliver(CONTRACT, contract)
        world.deliver(PREPARED, prepared)

    assert len(world.db.documents.items) == 2
    assert len(world.db.events_of(ISSUED)) == 2


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

    assert bool(world.db.documents.items) is issued
    assert len(world.db.events_of(ISSUED)) == (2 if issued else 0)
    assert world.db.pending_access.items == {}


def test_pending_access_of_a_contract_before_the_cutoff_is_dropped(
    world, contract_payload, prepared_payload
) -> None:
    contract = contract_payload(registered_on="2017-09-01")
    world.deliver(PREPARED, prepared_payload(contract["contract_id"]))
    assert len(world.db.pending_access.items) == 1

    world.deliver(CONTRACT, contract)
    assert world.db.documents.items == {} and world.db.pending_access.items == {}


def test_the_cutoff_is_configurable(world, contract_payload) -> None:
    world.cutoff = world.cutoff.replace(year=2027)
    world.deliver(CONTRACT, contract_payload(registered_on="2026-12-31"))
    assert world.db.documents.items == {}


def test_expired_pending_access_is_purged(world, contract_payload, prepared_payload) -> None:
    stale = prepared_payload(str(uuid.uuid4()), activation_expires_at="2026-08-01T00:00:00+00:00")
    world.deliver(PREPARED, stale)
    assert len(world.db.pending_access.items) == 1

    fresh_contract = contract_payload()
    world.deliver(PREPARED, prepared_payload(fresh_contract["contract_id"]))
    assert set(world.db.pending_access.items) == {uuid.UUID(fresh_contract["contract_id"])}


def test_issuing_renders_nothing_and_seals_each_document_with_its_own_salt(
    world, contract_payload, prepared_payload
) -> None:
    for _ in range(2):
        contract = contract_payload()
        world.deliver(PREPARED, prepared_payload(contract["contract_id"]))
        world.deliver(CONTRACT, contract)

    assert world.renderer.rendered == []
    documents = world.db.documents.all()
    assert len(documents) == 4 and not any(d.rendered for d in documents)
    contents = [world.sealed_content(d) for d in documents]
    assert len({c.salt for c in contents}) == len({d.sealed_sha256 for d in documents}) == 4


def test_the_same_event_twice_is_recognised_by_the_inbox(world, contract_payload) -> None:
    contract = contract_payload()
    assert world.deliver(CONTRACT, contract, event_id="e-1") == "handled"
    assert world.deliver(CONTRACT, contract, event_id="e-1") == "duplicate"
    assert len(world.db.documents) == 1 and len(world.db.events_of(ISSUED)) == 1
