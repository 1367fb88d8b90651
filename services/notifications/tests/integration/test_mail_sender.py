"""The mail sender at volume, on real PostgreSQL and a real (aiosmtpd) SMTP server.

Batches are claimed and recorded in one statement each, one SMTP session carries many mails,
and a failure in the middle of a batch leaves the unsent mails pending: they go out later, and
no mail the server accepted goes out twice.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from chassis.events.consumer import parse_message
from notifications.domain.model import MailStatus
from notifications.service_layer import handlers


@pytest.fixture
def mail_env() -> dict[str, str]:
    """The sender's settings of a test (parametrize to change them)."""
    return {}


@pytest.fixture
def runtime_env(runtime_env: dict[str, str], mail_env: dict[str, str]) -> dict[str, str]:
    return {**runtime_env, "NOTIFICATIONS_MAIL_SESSIONS": "1", **mail_env}


def queue(service, envelopes) -> list[str]:
    """Hand the events to the service's handlers (as its consumer would); the mails' Message-IDs."""
    for envelope in envelopes:
        assert service.runtime.bus.handle_event(parse_message(envelope.to_json())) == "handled"
    return [f"<{envelope.id}@bildungsportal>" for envelope in envelopes]


def statements(engine: sa.engine.Engine) -> list[str]:
    """Every SQL statement the engine runs from now on."""
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def by_message_id(service) -> dict[str, Any]:
    return {mail.message_id: mail for mail in service.mails()}


@pytest.mark.parametrize("mail_env", [{"NOTIFICATIONS_MAIL_BATCH_SIZE": "40"}])
def test_a_batch_is_claimed_and_recorded_in_one_statement_each_over_one_session(
    pg_service, issued_envelope, scripted_smtp_server, wait_until
) -> None:
    count = 100
    ids = queue(pg_service, [issued_envelope(kind="company") for _ in range(count)])
    sql = statements(pg_service.runtime.engine)
    with scripted_smtp_server() as server:
        pg_service.start(only={"mailer"})
        server.wait_for(count, timeout=30)
        wait_until(lambda: all(m.status is MailStatus.SENT for m in pg_service.mails()))

    assert sorted(server.message_ids()) == sorted(ids)  # each once
    assert len(set(server.peers)) == 1  # one SMTP session carried all of them
    batches = math.ceil(count / 40)
    claims = [s for s in sql if s.lstrip().upper().startswith("UPDATE MAILS SET ATTEMPTS")]
    recorded = [s for s in sql if s.lstrip().upper().startswith("UPDATE MAILS SET STATUS")]
    assert len(recorded) == batches  # 40 + 40 + 20: one UPDATE per batch, not one per mail
    assert len(claims) >= batches and all("SKIP LOCKED" in s.upper() for s in claims)
    assert not any("WHERE mails.id = " in s for s in sql)  # no mail read or written one by one
    assert {(m.attempts, m.last_error) for m in pg_service.mails()} == {(1, None)}


@pytest.mark.parametrize("mail_env", [{"NOTIFICATIONS_SMTP_SESSION_IDLE": "1"}])
def test_the_session_stays_open_between_batches_and_closes_when_idle(
    pg_service, issued_envelope, scripted_smtp_server, wait_until
) -> None:
    with scripted_smtp_server() as server:
        pg_service.start(only={"mailer"})
        queue(pg_service, [issued_envelope() for _ in range(3)])
        server.wait_for(3, timeout=20)
        queue(pg_service, [issued_envelope() for _ in range(3)])  # woken again: the same session
        server.wait_for(6, timeout=20)
        assert len(set(server.peers)) == 1
        # Unused for longer than NOTIFICATIONS_SMTP_SESSION_IDLE: closed; the next mail opens a new one.
        wait_until(lambda: server.quits == server.peers[:1], timeout=10)
        queue(pg_service, [issued_envelope()])
        server.wait_for(7, timeout=20)
    assert len(set(server.peers)) == 2
    assert len(set(server.peers[:6])) == 1


@pytest.mark.parametrize("mail_env", [{"NOTIFICATIONS_MAIL_BATCH_SIZE": "50"}])
def test_a_server_limit_of_mails_per_session_costs_no_retry(
    pg_service, issued_envelope, scripted_smtp_server, wait_until
) -> None:
    ids = queue(pg_service, [issued_envelope() for _ in range(25)])
    with scripted_smtp_server() as server:
        server.mails_per_session = 10
        pg_service.start(only={"mailer"})
        server.wait_for(25, timeout=30)
        wait_until(lambda: all(m.status is MailStatus.SENT for m in pg_service.mails()))
    assert sorted(server.message_ids()) == sorted(ids)
    assert len(set(server.peers)) == 3  # 10 + 10 + 5: a new session where the server closed one
    # The 421 came at MAIL FROM of a session that had carried mails: nothing was accepted, so the
    # mail went out at once on a new session, not as a failed attempt.
    assert {(m.attempts, m.last_error) for m in pg_service.mails()} == {(1, None)}


@pytest.mark.parametrize("mail_env", [{"NOTIFICATIONS_MAIL_BATCH_SIZE": "30"}])
def test_a_mail_refused_mid_batch_is_retried_and_the_others_go_out_once(
    pg_service, issued_envelope, scripted_smtp_server, wait_until
) -> None:
    ids = queue(pg_service, [issued_envelope() for _ in range(30)])
    with scripted_smtp_server() as server:
        # The 6th and 7th mail of the batch: "try again later"; the rest of the batch goes on.
        server.data_replies = [None] * 5 + ["451 4.3.0 Bitte später erneut versuchen"] * 2
        pg_service.start(only={"mailer"})
        server.wait_for(30, timeout=30)
        wait_until(lambda: all(m.status is MailStatus.SENT for m in pg_service.mails()))

    assert sorted(server.message_ids()) == sorted(ids)  # every mail once, the refused ones included
    mails = by_message_id(pg_service)
    refused = set(ids[5:7])
    assert {mails[i].attempts for i in refused} == {2}
    assert {mails[i].attempts for i in set(ids) - refused} == {1}
    assert all(m.last_error is None and m.sent_at is not None for m in mails.values())
    # The refused two went out after the others: the batch did not stop at them.
    assert set(server.message_ids()[-2:]) == refused


@pytest.mark.parametrize("mail_env", [{"NOTIFICATIONS_MAIL_BATCH_SIZE": "40"}])
def test_the_server_dying_mid_batch_leaves_the_rest_pending_and_nothing_goes_out_twice(
    pg_service, reset_envelope, scripted_smtp_server, wait_until, caplog
) -> None:
    caplog.set_level(logging.INFO)
    envelopes = [
        reset_envelope(reset_url=f"https://portal.example/auth/password/reset/Einmal-Token_{i}")
        for i in range(40)
    ]
    ids = queue(pg_service, envelopes)
    with scripted_smtp_server() as first:
        first.accept_limit = 12  # then it drops every connection, and is gone for good
        pg_service.start(only={"mailer"})
        assert first.gone.wait(timeout=30)
    # Connections are refused now: the sender records the failures and backs off.
    wait_until(lambda: all(m.status is MailStatus.SENT or m.last_error for m in pg_service.mails()))
    accepted = first.message_ids()
    assert len(accepted) == len(set(accepted)) == 12
    mails = by_message_id(pg_service)
    assert {i for i, m in mails.items() if m.status is MailStatus.SENT} == set(accepted)
    unsent = [m for i, m in mails.items() if i not in accepted]
    assert len(unsent) == 28 and all(m.status is MailStatus.PENDING and m.last_error for m in unsent)

    with scripted_smtp_server() as second:
        second.wait_for(28, timeout=30)
        wait_until(lambda: all(m.status is MailStatus.SENT for m in pg_service.mails()))
    # The rest went out later, and none of the accepted ones again.
    assert sorted(second.message_ids()) == sorted(set(ids) - set(accepted))
    assert Counter(accepted + second.message_ids()) == Counter(ids)
    # The one-time links went into the mails and nowhere else: not into a log line, not into an error.
    links = [e.payload["reset_url"] for e in envelopes]
    assert any(links[0] in m.get_body(preferencelist=("plain",)).get_content() for m in first.messages)
    assert "Einmal-Token" not in caplog.text
    assert not any("Einmal-Token" in (m.last_error or "") for m in pg_service.mails())


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_handling_an_event_queues_its_mail_without_a_look_up_and_only_once(
    dialect, pg_service, embedded_service, issued_event, reset_event
) -> None:
    service = pg_service if dialect == "postgresql" else embedded_service
    runtime = service.runtime
    document, reset = issued_event(kind="apprentice"), reset_event()
    sql = statements(runtime.engine)
    for _ in range(2):  # the second time as if replayed under a new inbox: nothing is added
        with runtime.uow_factory() as uow:
            handlers.document_issued(document, uow, clock=runtime.clock, portal_url="https://portal.example/")
        with runtime.uow_factory() as uow:
            handlers.password_reset_requested(reset, uow, clock=runtime.clock)
    handled = [s for s in sql if re.search(r"\b(FROM|INTO|UPDATE) (mails|notices)\b", s, re.I)]
    keys = sorted(mail.idempotency_key for mail in service.mails())
    assert keys == sorted([document.envelope.id, reset.envelope.id])
    with runtime.uow_factory() as uow:
        assert uow.notices.get_by_source(document.envelope.id) is not None
    # One INSERT ... ON CONFLICT DO NOTHING per row and no look-up before it: a bulk import
    # brings thousands of events (the mails are composed before the transaction).
    assert len(handled) == 6
    assert all(s.lstrip().upper().startswith("INSERT") and "ON CONFLICT" in s.upper() for s in handled)
