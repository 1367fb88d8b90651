"""The mail sender's rules against fakes: send, back off, give up, and survive a crash."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from notifications.domain.messages import mail_for
from notifications.domain.model import MailStatus, RetryPolicy
from notifications.service_layer import delivery
from notifications.service_layer.delivery import (
    MailDeliveryError,
    MailSender,
    claim_due_mails,
    deliver_due_mails,
)
from notifications.service_layer.handlers import issued_document

POLICY = RetryPolicy(max_attempts=3, base_delay=10, max_delay=25)
LEASE = timedelta(seconds=60)


@pytest.fixture
def queued(fake_uow, issued_event, clock):
    def queue(count: int = 1, at: datetime | None = None) -> list[str]:
        ids = []
        for _ in range(count):
            document = issued_document(issued_event())
            mail = mail_for(document, "https://portal.example/", at or clock.now)
            fake_uow.mails.add(mail)
            ids.append(mail.id)
        return ids

    return queue


def deliver(fake_uow, transport, clock, batch_size: int = 10):
    """One batch over the transport's kept-open connection (the first one it made)."""
    connection = transport.connections[0] if transport.connections else transport()
    return deliver_due_mails(
        lambda: fake_uow, connection, POLICY, lease=LEASE, batch_size=batch_size, clock=clock
    )


def test_due_mails_are_sent_once_and_marked_sent(fake_uow, fake_transport, clock, queued) -> None:
    ids = queued(2)
    report = deliver(fake_uow, fake_transport, clock)
    assert (report.claimed, report.sent) == (2, 2)
    assert sorted(m.id for m in fake_transport.sent) == sorted(ids)
    assert fake_transport.sessions == 1
    assert fake_uow.mails.mark_sent_calls == 1  # the batch is recorded sent in one statement
    assert all(fake_uow.mails.get(i).status is MailStatus.SENT for i in ids)
    assert deliver(fake_uow, fake_transport, clock).claimed == 0
    assert len(fake_transport.sent) == 2


def test_unreachable_server_backs_off_then_delivers(fake_uow, fake_transport, clock, queued) -> None:
    [mail_id] = queued()
    fake_transport.connect_failures = [MailDeliveryError("ConnectionRefusedError: [Errno 111]")]
    report = deliver(fake_uow, fake_transport, clock)
    assert (report.sent, report.retrying) == (0, 1)
    mail = fake_uow.mails.get(mail_id)
    assert mail.status is MailStatus.PENDING and mail.attempts == 1
    assert mail.next_attempt_at == clock.now + timedelta(seconds=10)
    assert "ConnectionRefused" in mail.last_error

    clock.advance(9)
    assert deliver(fake_uow, fake_transport, clock).claimed == 0  # still backing off
    clock.advance(1)
    assert deliver(fake_uow, fake_transport, clock).sent == 1
    mail = fake_uow.mails.get(mail_id)
    assert (mail.status, mail.attempts, mail.last_error) == (MailStatus.SENT, 2, None)


def test_an_unavailable_server_defers_the_whole_batch_after_one_try(
    fake_uow, fake_transport, clock, queued
) -> None:
    ids = queued(3)
    fake_transport.send_failures = [MailDeliveryError("ConnectionRefusedError", server_unavailable=True)]
    report = deliver(fake_uow, fake_transport, clock)
    assert (report.claimed, report.sent, report.retrying) == (3, 0, 3)
    assert fake_transport.send_failures == []  # tried once, not once per mail
    assert all(fake_uow.mails.get(i).last_error == "ConnectionRefusedError" for i in ids)
    clock.advance(10)
    assert deliver(fake_uow, fake_transport, clock).sent == 3


def test_backoff_grows_and_is_capped() -> None:
    delays = [POLICY.delay_after(n).total_seconds() for n in (1, 2, 3, 4)]
    assert delays == [10, 20, 25, 25]


def test_gives_up_after_max_attempts(fake_uow, fake_transport, clock, queued) -> None:
    [mail_id] = queued()
    for attempt in range(1, POLICY.max_attempts + 1):
        fake_transport.send_failures = [MailDeliveryError("SMTP 451: try again later")]
        report = deliver(fake_uow, fake_transport, clock)
        assert report.claimed == 1
        clock.advance(60)
        assert fake_uow.mails.get(mail_id).attempts == attempt
    mail = fake_uow.mails.get(mail_id)
    assert mail.status is MailStatus.FAILED
    assert deliver(fake_uow, fake_transport, clock).claimed == 0
    assert fake_transport.sent == []


def test_permanent_refusal_fails_at_once_and_others_still_go(fake_uow, fake_transport, clock, queued) -> None:
    first, second = queued(2)
    fake_transport.send_failures = [MailDeliveryError("recipient refused (550)", permanent=True)]
    report = deliver(fake_uow, fake_transport, clock)
    assert (report.failed, report.sent) == (1, 1)
    assert {fake_uow.mails.get(first).status, fake_uow.mails.get(second).status} == {
        MailStatus.FAILED,
        MailStatus.SENT,
    }


def test_a_sender_that_died_mid_send_leaves_the_mail_for_after_the_lease(
    fake_uow, fake_transport, clock, queued
) -> None:
    [mail_id] = queued()
    # A sender claims the mail and dies before recording anything.
    claim_due_mails(fake_uow, now=clock.now, lease=LEASE, batch_size=10)
    assert deliver(fake_uow, fake_transport, clock).claimed == 0  # hidden while leased
    clock.advance(LEASE.total_seconds())
    assert deliver(fake_uow, fake_transport, clock).sent == 1
    [sent] = fake_transport.sent
    assert sent.id == mail_id and sent.attempts == 2
    assert sent.message_id == fake_uow.mails.get(mail_id).message_id  # same idempotency key


def test_batch_size_limits_one_round(fake_uow, fake_transport, clock, queued) -> None:
    queued(5)
    assert deliver(fake_uow, fake_transport, clock, batch_size=2).sent == 2
    assert deliver(fake_uow, fake_transport, clock, batch_size=10).sent == 3


def _sender(fake_uow, fake_transport, wakeup: threading.Event) -> MailSender:
    return MailSender(lambda: fake_uow, fake_transport, POLICY, wakeup=wakeup, poll_interval=60, lease=LEASE)


def test_sender_loop_wakes_on_new_mail_and_stops_promptly(fake_uow, fake_transport, queued) -> None:
    wakeup, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=_sender(fake_uow, fake_transport, wakeup).run, args=(stop,))
    thread.start()
    try:
        time.sleep(0.3)  # the first round found nothing; now it idles for up to 60 s
        queued(at=datetime.now(UTC))  # the loop runs on the real clock
        wakeup.set()
        deadline = time.monotonic() + 5
        while not fake_transport.sent and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(fake_transport.sent) == 1
    finally:
        stop.set()
        thread.join(timeout=2)
    assert not thread.is_alive()


def test_sender_loop_survives_a_failing_database(fake_transport, queued, fake_uow) -> None:
    queued(at=datetime.now(UTC))
    calls = {"n": 0}

    def flaky_uow():
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database is away")
        return fake_uow

    stop = threading.Event()
    sender = MailSender(flaky_uow, fake_transport, POLICY, wakeup=threading.Event(), poll_interval=0.05)
    thread = threading.Thread(target=sender.run, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not fake_transport.sent and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=3)
    assert len(fake_transport.sent) == 1 and calls["n"] > 1


def test_one_session_carries_batch_after_batch(fake_uow, fake_transport, clock, queued) -> None:
    queued(25)
    reports = [deliver(fake_uow, fake_transport, clock, batch_size=10) for _ in range(3)]
    assert [r.sent for r in reports] == [10, 10, 5]
    assert fake_transport.sessions == 1 and fake_transport.closed == 0
    assert fake_uow.mails.mark_sent_calls == 3  # one statement per batch


def test_a_failure_mid_batch_records_what_was_accepted_and_defers_the_rest(
    fake_uow, fake_transport, clock, queued
) -> None:
    ids = queued(6)
    failures = [MailDeliveryError("SMTPServerDisconnected: gone", server_unavailable=True)]
    fake_transport.before_send = lambda mail: (
        fake_transport.send_failures.extend(failures) if len(fake_transport.sent) == 2 else None
    )
    report = deliver(fake_uow, fake_transport, clock)
    assert (report.claimed, report.sent, report.retrying) == (6, 2, 4)
    sent_ids = {m.id for m in fake_transport.sent}
    assert {i for i in ids if fake_uow.mails.get(i).status is MailStatus.SENT} == sent_ids
    waiting = [fake_uow.mails.get(i) for i in ids if i not in sent_ids]
    assert all(m.status is MailStatus.PENDING and m.last_error for m in waiting)

    fake_transport.before_send = None
    clock.advance(10)
    assert deliver(fake_uow, fake_transport, clock).sent == 4
    assert sorted(m.id for m in fake_transport.sent) == sorted(ids)  # the first two not again
    assert fake_transport.sessions == 2  # the lost session was replaced


def test_a_batch_stops_sending_at_half_its_lease_and_hands_the_rest_back(
    fake_uow, fake_transport, clock, queued
) -> None:
    ids = queued(5)
    fake_transport.before_send = lambda mail: clock.advance(12)  # a slow server: 12 s a mail
    report = deliver(fake_uow, fake_transport, clock)
    # Claimed at t, leased until t+60: the 3rd send starts at t+24, the 4th would at t+36 > t+30.
    assert (report.claimed, report.sent, report.released) == (5, 3, 2)
    released = [fake_uow.mails.get(i) for i in ids if i not in {m.id for m in fake_transport.sent}]
    assert all(m.status is MailStatus.PENDING for m in released)
    assert all(m.attempts == 0 and m.next_attempt_at <= clock.now for m in released)  # due, uncounted
    fake_transport.before_send = None
    assert deliver(fake_uow, fake_transport, clock).sent == 2
    assert {m.attempts for m in fake_uow.mails.all()} == {1}


def test_what_was_accepted_is_recorded_even_when_the_loop_breaks(
    fake_uow, fake_transport, clock, queued
) -> None:
    queued(3)

    def explode(mail) -> None:
        if len(fake_transport.sent) == 1:
            raise RuntimeError("a bug")

    fake_transport.before_send = explode
    with pytest.raises(RuntimeError):
        deliver(fake_uow, fake_transport, clock)
    [sent] = fake_transport.sent
    assert fake_uow.mails.get(sent.id).status is MailStatus.SENT
    # The other two stay leased, to be tried again after the lease.
    assert sorted(m.status for m in fake_uow.mails.all()) == [
        MailStatus.PENDING,
        MailStatus.PENDING,
        MailStatus.SENT,
    ]


def test_recording_outlasts_a_short_database_outage(
    fake_uow, fake_transport, clock, queued, monkeypatch
) -> None:
    monkeypatch.setattr(delivery, "RECORD_RETRY_DELAYS", (0.0, 0.0))
    [mail_id] = queued()
    calls = {"n": 0}

    def flaky_uow():
        calls["n"] += 1
        if calls["n"] == 2:  # the claim works; the first try to record does not
            raise ConnectionError("database restarting")
        return fake_uow

    connection = fake_transport()
    report = deliver_due_mails(flaky_uow, connection, POLICY, lease=LEASE, batch_size=10, clock=clock)
    assert report.sent == 1 and calls["n"] == 3
    assert fake_uow.mails.get(mail_id).status is MailStatus.SENT


def test_sender_closes_an_idle_session(fake_uow, fake_transport, queued) -> None:
    wakeup, stop = threading.Event(), threading.Event()
    sender = MailSender(
        lambda: fake_uow,
        fake_transport,
        POLICY,
        wakeup=wakeup,
        poll_interval=0.05,
        lease=LEASE,
        session_idle=0.3,
    )
    queued(at=datetime.now(UTC))
    thread = threading.Thread(target=sender.run, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not fake_transport.closed and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(fake_transport.sent) == 1 and fake_transport.closed == 1
    finally:
        stop.set()
        thread.join(timeout=2)
    assert not thread.is_alive()


def test_the_sessions_share_the_batch_size(fake_uow, fake_transport, queued) -> None:
    """A sender that dies leaves at most ``batch_size`` mails accepted but unrecorded, however many sessions."""
    queued(30, at=datetime.now(UTC) - timedelta(seconds=1))
    sender = MailSender(
        lambda: fake_uow, fake_transport, POLICY, wakeup=threading.Event(), batch_size=20, sessions=3
    )
    assert (sender.sessions, sender.loop_batch) == (3, 6)
    assert sender.run_once(fake_transport()).claimed == 6
    few = MailSender(
        lambda: fake_uow, fake_transport, POLICY, wakeup=threading.Event(), batch_size=2, sessions=4
    )
    assert (few.sessions, few.loop_batch) == (2, 1)


def test_a_stopping_sender_hands_the_rest_of_its_batch_back(fake_uow, fake_transport, clock, queued) -> None:
    ids = queued(5)
    stop = threading.Event()
    fake_transport.before_send = lambda mail: stop.set() if len(fake_transport.sent) == 1 else None
    report = deliver_due_mails(
        lambda: fake_uow, fake_transport(), POLICY, lease=LEASE, batch_size=10, clock=clock, stop=stop
    )
    # The mail being sent when the stop came goes out; the three after it wait for the next sender.
    assert (report.claimed, report.sent, report.released) == (5, 2, 3)
    waiting = [fake_uow.mails.get(i) for i in ids if fake_uow.mails.get(i).status is MailStatus.PENDING]
    assert len(waiting) == 3 and all(m.attempts == 0 and m.next_attempt_at <= clock.now for m in waiting)
