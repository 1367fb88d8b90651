"""Acting for someone (RFC 8693 ``act``): the principal says so, and every event and log line of
the request carries who acted for whom."""

from __future__ import annotations

import logging

import pytest
from flask import Flask

from chassis.auth import authenticate, init_auth
from chassis.context import actor_var
from chassis.events.envelope import EnvelopeSchema, new_envelope
from chassis.logging import ContextFilter
from chassis.principal import Principal
from chassis.testing.tokens import TestIssuer

DEPUTY = "0000aaaa-0000-4000-8000-000000000001"


def test_a_deputys_principal_names_the_actor_and_whom_they_act_for() -> None:
    principal = Principal.from_claims(
        {
            "sub": DEPUTY,
            "company_roles": {"4711001": ["manager"]},
            "service_rights": {"4711001": ["exam_registration"]},
            "act": {"sub": DEPUTY, "name": "Detlef"},
            "acting_for": {"kind": "company", "company_number": "4711001"},
            "ctx": f"deputy:{DEPUTY}",
        }
    )
    assert principal.is_acting_for_someone and principal.acting_account == DEPUTY
    assert principal.audit_label() == f"{DEPUTY} for 4711001"
    assert principal.has_service_right("4711001", "exam_registration")
    assert not principal.has_service_right("4711002", "exam_registration")
    assert principal.context == f"deputy:{DEPUTY}"


def test_a_person_acting_in_person_is_labelled_by_their_subject() -> None:
    principal = Principal.from_claims({"sub": "s-1", "roles": ["chamber_clerk"]})
    assert not principal.is_acting_for_someone
    assert principal.audit_label() == "s-1" and principal.service_rights == {}


@pytest.mark.parametrize("act", ["not-an-object", {"name": "no sub"}, None])
def test_a_malformed_act_claim_makes_no_actor(act: object) -> None:
    assert Principal.from_claims({"sub": "s-1", "act": act}).actor is None


def test_events_and_log_lines_of_an_acting_request_carry_the_actor() -> None:
    issuer = TestIssuer()
    app = Flask(__name__)
    init_auth(app, issuer.validator())
    headers = issuer.header(
        "person-1", act={"sub": DEPUTY}, acting_for={"kind": "person", "account_id": "person-1"}
    )
    with app.test_request_context(headers=headers):
        authenticate()
        envelope = new_envelope(producer="t", event_type="x.y", subject="s", payload={})
        record = logging.LogRecord("t", logging.INFO, __file__, 1, "m", None, None)
        ContextFilter().filter(record)
    assert envelope.actor == f"{DEPUTY} for person-1"
    assert record.actor == f"{DEPUTY} for person-1"
    actor_var.set(None)


def test_the_actor_travels_in_the_envelope_and_old_envelopes_have_none() -> None:
    token = actor_var.set("d for c")
    try:
        envelope = new_envelope(producer="t", event_type="x.y", subject="s", payload={})
    finally:
        actor_var.reset(token)
    assert EnvelopeSchema().loads(envelope.to_json()).actor == "d for c"
    old = envelope.to_dict()
    old.pop("actor")
    assert EnvelopeSchema().load(old).actor is None
    assert new_envelope(producer="t", event_type="x.y", subject="s", payload={}).actor is None
