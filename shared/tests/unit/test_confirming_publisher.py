"""The relay publisher's own parts (``chassis.events.bus``): the bookkeeping of publisher confirms
for one batch (``BatchAnswers``) and the encoding of message properties.

The broker numbers a confirm-mode channel's publishes 1, 2, 3, …; it may answer each tag on
its own, in any order, or many at once (``multiple``: every tag up to this one not yet
answered). Only an ack counts as confirmed, and answers for other batches change nothing.
"""

from __future__ import annotations

import pytest

from chassis.events.bus import BatchAnswers, encode_properties


def test_single_answers_in_any_order_settle_their_own_tag() -> None:
    batch = BatchAnswers(first_tag=11, count=4)  # tags 11..14
    batch.settle(13, multiple=False, ack=True)
    batch.settle(11, multiple=False, ack=True)
    assert batch.open == 2
    outcome = batch.outcome()
    assert outcome.confirmed == [0, 2]
    assert outcome.nacked == []
    batch.settle(14, multiple=False, ack=False)
    batch.settle(12, multiple=False, ack=True)
    assert batch.open == 0
    outcome = batch.outcome()
    assert (outcome.confirmed, outcome.nacked, outcome.complete) == ([0, 1, 2], [3], False)


def test_a_multiple_ack_settles_every_open_tag_up_to_its_own() -> None:
    batch = BatchAnswers(first_tag=1, count=6)
    batch.settle(2, multiple=False, ack=False)  # refused on its own first
    batch.settle(4, multiple=True, ack=True)
    assert batch.open == 2
    outcome = batch.outcome()
    assert outcome.confirmed == [0, 2, 3]
    assert outcome.nacked == [1]  # the first answer for a tag is the one that counts
    batch.settle(6, multiple=True, ack=False)
    assert batch.open == 0
    assert batch.outcome().nacked == [1, 4, 5]


def test_answers_for_other_batches_and_repeated_answers_change_nothing() -> None:
    batch = BatchAnswers(first_tag=501, count=3)
    batch.settle(500, multiple=True, ack=True)  # the previous batch's last answer, arriving late
    batch.settle(504, multiple=False, ack=True)  # not a tag of this batch
    assert batch.open == 3
    batch.settle(502, multiple=False, ack=True)
    batch.settle(502, multiple=False, ack=False)
    batch.settle(502, multiple=True, ack=False)  # settles 501, leaves 502 acked
    assert batch.open == 1
    outcome = batch.outcome()
    assert (outcome.confirmed, outcome.nacked) == ([1], [0])


def test_a_failure_leaves_the_unanswered_neither_confirmed_nor_refused() -> None:
    batch = BatchAnswers(first_tag=1, count=5)
    batch.settle(2, multiple=True, ack=True)
    outcome = batch.outcome(ConnectionResetError("gone"))
    assert outcome.confirmed == [0, 1]
    assert outcome.nacked == []
    assert not outcome.complete
    assert isinstance(outcome.failure, ConnectionResetError)


def test_an_empty_batch_is_complete_at_once() -> None:
    batch = BatchAnswers(first_tag=7, count=0)
    assert batch.open == 0
    assert batch.outcome().complete


# -- the relay's content header encoding is py-amqp's, byte for byte ----------------------------


def _py_amqp(message_id: str, headers: dict[str, object]) -> bytes:
    import amqp

    message = amqp.Message(
        b"{}",
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
        message_id=message_id,
        application_headers={k: v for k, v in headers.items() if v is not None},
    )
    return bytes(message._serialize_properties())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-request-id": "6f1c0f0e-5b7a-4a53-9a35-0d1b8f3c2e11"},
        {"x-request-id": "r-1", "x-causation-id": None},
        {"x-request-id": "Anfrage äöü ß €", "x-causation-id": "b" * 300},
    ],
)
def test_encoded_properties_are_what_py_amqp_sends(headers: dict[str, object]) -> None:
    message_id = "0a5c2d3e-1111-4222-8333-444455556666"
    assert encode_properties(message_id, headers) == _py_amqp(message_id, headers)


def test_headers_it_does_not_encode_are_left_to_py_amqp() -> None:
    assert encode_properties("id", {"x-attempts": 3}) is None
    assert encode_properties("id", {"k" * 256: "v"}) is None
    assert encode_properties("i" * 256, {}) is None
