import time

import pytest
from marshmallow import ValidationError

from chassis.context import causation_id_var, request_id_var
from chassis.events.catalogue import check_outgoing
from chassis.events.consumer import PoisonMessage, parse_message
from chassis.events.envelope import new_envelope
from chassis.problems import ProblemError
from chassis.testing.tokens import TestIssuer


def test_envelope_carries_correlation_and_causation(contract_payload) -> None:
    request_id_var.set("req-1")
    token = causation_id_var.set("cause-1")
    try:
        envelope = new_envelope(
            producer="training-records", event_type="training.contract.registered", subject="s", payload={}
        )
    finally:
        causation_id_var.reset(token)
    assert envelope.correlation_id == "req-1"
    assert envelope.causation_id == "cause-1"
    assert envelope.version == 1


def test_parse_message_validates_envelope_and_payload(contract_payload) -> None:
    good = new_envelope(
        producer="training-records",
        event_type="training.contract.registered",
        subject="s",
        payload=contract_payload(),
    )
    event = parse_message(good.to_json().encode())
    assert event.payload.apprentice.birth_date.year == 2008
    with pytest.raises(PoisonMessage, match="invalid payload"):
        parse_message({**good.to_dict(), "payload": {**good.payload, "surprise": 1}})
    with pytest.raises(PoisonMessage, match="not in the event catalogue"):
        parse_message({**good.to_dict(), "type": "nobody.knows"})
    with pytest.raises(PoisonMessage, match="invalid envelope"):
        parse_message({"type": "x"})
    with pytest.raises(PoisonMessage, match="not JSON"):
        parse_message(b"\xff")


def test_producers_cannot_emit_invalid_payloads(contract_payload) -> None:
    with pytest.raises(ValidationError):
        check_outgoing("training.contract.registered", 1, contract_payload(end_date="soon"))


def test_token_validation() -> None:
    issuer = TestIssuer()
    validator = issuer.validator()
    principal = validator.validate(
        issuer.token("u1", roles=["chamber_clerk"], company_roles={"4711": ["admin"]})
    )
    assert principal.subject == "u1" and principal.is_chamber
    assert principal.has_company_role("4711", "admin") and not principal.has_company_role("4711", "trainer")

    other = TestIssuer()
    for bad in (
        other.token("u1"),  # signed by a key we do not trust
        issuer.token("u1", lifetime=-10),  # expired
        issuer.token("u1", aud="someone-else"),
        issuer.token("u1", iss="http://evil.test"),
        "garbage",
    ):
        with pytest.raises(ProblemError) as raised:
            validator.validate(bad)
        assert raised.value.status == 401
    assert time.time() > 0
