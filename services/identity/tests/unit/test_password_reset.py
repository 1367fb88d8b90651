"""Password reset: who gets a link, and when a link stops working."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chassis.contracts.identity import PasswordResetRequested
from identity.domain.commands import LogIn, RequestPasswordReset, ResetPassword
from identity.domain.model import (
    APPRENTICE_ROLE,
    Account,
    AccountLockedOut,
    AccountStatus,
    InvalidCredentials,
    InvalidPasswordReset,
    LockoutPolicy,
    password_reset_token_hash,
)
from identity.domain.password_policy import PasswordPolicyViolation
from identity.domain.queries import CheckPasswordResetLink
from identity.service_layer import handlers
from identity.service_layer.handlers import TimingShield
from identity.service_layer.links import AccountLinks

LINKS = AccountLinks("https://portal.example/idp")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
VALID_FOR = timedelta(minutes=60)
OLD_PASSWORD = "Mein-altes-Passwort-2025"
NEW_PASSWORD = "Mein-neues-Passwort-2026"


LINK_PREFIX = "https://portal.example/auth/password/reset/"


def reset_url(token: str) -> str:
    return f"https://portal.example/auth/password/reset/{token}"


def check_password_reset_link(fake_uow, token: str, *, now: datetime) -> None:  # type: ignore[no-untyped-def]
    handlers.check_password_reset_link(CheckPasswordResetLink(token), fake_uow, clock=lambda: now)


@pytest.fixture
def make_account(fake_uow, fast_hasher):
    def make(status: AccountStatus = AccountStatus.ACTIVE, apprentice_number: str | None = None) -> Account:
        account = Account(
            id=uuid.uuid4(),
            email=f"person.{uuid.uuid4().hex[:8]}@example.org",
            name="Paula Probst",
            status=status,
            username=None if apprentice_number else f"user{uuid.uuid4().hex[:8]}",
            password_hash=fast_hasher.hash(OLD_PASSWORD),
        )
        if apprentice_number:
            account.make_apprentice(apprentice_number)
        fake_uow.accounts.add(account)
        return account

    return make


def request(fake_uow, login: str, now: datetime = NOW) -> str | None:
    """Ask for a link; returns the token from the mail, or None when no mail goes out."""
    sent = len(fake_uow.events)
    handlers.request_password_reset(
        RequestPasswordReset(login, link_prefix=LINK_PREFIX),
        fake_uow,
        clock=lambda: now,
        password_reset_valid_for=VALID_FOR,
    )
    if len(fake_uow.events) == sent:
        return None
    return fake_uow.events[-1].payload["reset_url"].rsplit("/", 1)[1]


def reset(fake_uow, fast_hasher, token: str, password: str = NEW_PASSWORD, now: datetime = NOW) -> Account:
    return handlers.reset_password(
        ResetPassword(token, password), fake_uow, hasher=fast_hasher, clock=lambda: now, links=LINKS
    )


def log_in(fake_uow, fast_hasher, login: str, password: str, now: datetime = NOW) -> Account:
    return handlers.log_in(
        LogIn(login, password),
        fake_uow,
        hasher=fast_hasher,
        clock=lambda: now,
        policy=LockoutPolicy(),
        shield=TimingShield(fast_hasher.hash("x"), "unused: no activation here"),
        links=LINKS,
    )


def test_request_emits_the_link_and_stores_only_its_hash(fake_uow, make_account) -> None:
    account = make_account()
    token = request(fake_uow, account.email.upper())
    assert token is not None and len(token) >= 43
    event = fake_uow.events[-1]
    assert event.type == PasswordResetRequested.TYPE
    assert event.payload == {
        "account_id": str(account.id),
        "email": account.email,
        "name": "Paula Probst",
        "reset_url": reset_url(token),
        "expires_at": (NOW + VALID_FOR).isoformat(),
    }
    assert account.password_reset is not None
    assert account.password_reset.token_hash == password_reset_token_hash(token) != token


def test_username_works_as_well(fake_uow, make_account) -> None:
    account = make_account()
    assert request(fake_uow, account.username) is not None


def test_unknown_login_sends_nothing(fake_uow, make_account) -> None:
    make_account()
    assert request(fake_uow, "niemand@example.org") is None
    assert fake_uow.commits == 0


@pytest.mark.parametrize("status", [AccountStatus.PENDING_ACTIVATION, AccountStatus.LOCKED])
def test_only_active_accounts_get_a_link(fake_uow, make_account, status) -> None:
    account = make_account(status=status)
    assert request(fake_uow, account.email) is None
    assert account.password_reset is None


def test_apprentice_must_ask_with_the_azubinummer(fake_uow, make_account) -> None:
    apprentice = make_account(apprentice_number="20260101")
    assert APPRENTICE_ROLE in apprentice.roles
    assert request(fake_uow, apprentice.email) is None
    assert request(fake_uow, " 20260101 ") is not None


def test_new_password_through_the_link(fake_uow, fast_hasher, make_account) -> None:
    account = make_account()
    token = request(fake_uow, account.email)
    check_password_reset_link(fake_uow, token, now=NOW)
    reset(fake_uow, fast_hasher, token)
    assert log_in(fake_uow, fast_hasher, account.email, NEW_PASSWORD).id == account.id


def test_new_password_logs_out_everywhere(fake_uow, fast_hasher, make_account) -> None:
    account, other = make_account(), make_account()
    token = request(fake_uow, account.email)
    reset(fake_uow, fast_hasher, token)
    assert fake_uow.login_sessions.ended_for == [account.id]
    assert fake_uow.oauth.revoked_for == [str(account.id)]
    assert other.id not in fake_uow.login_sessions.ended_for


def test_a_void_link_logs_nobody_out(fake_uow, fast_hasher, make_account) -> None:
    account = make_account()
    token = request(fake_uow, account.email)
    with pytest.raises(PasswordPolicyViolation):
        reset(fake_uow, fast_hasher, token, "zu-kurz")
    with pytest.raises(InvalidPasswordReset):
        reset(fake_uow, fast_hasher, "kein-gueltiger-token")
    assert fake_uow.login_sessions.ended_for == [] and fake_uow.oauth.revoked_for == []


def test_link_works_once(fake_uow, fast_hasher, make_account) -> None:
    account = make_account()
    token = request(fake_uow, account.email)
    reset(fake_uow, fast_hasher, token)
    with pytest.raises(InvalidPasswordReset):
        reset(fake_uow, fast_hasher, token, "Noch-ein-anderes-Passwort")


def test_link_expires(fake_uow, fast_hasher, make_account) -> None:
    account = make_account()
    token = request(fake_uow, account.email)
    reset(fake_uow, fast_hasher, token, now=NOW + VALID_FOR - timedelta(seconds=1))
    token = request(fake_uow, account.email)
    with pytest.raises(InvalidPasswordReset):
        check_password_reset_link(fake_uow, token, now=NOW + VALID_FOR)
    with pytest.raises(InvalidPasswordReset):
        reset(fake_uow, fast_hasher, token, now=NOW + VALID_FOR)


def test_a_new_request_replaces_the_old_link(fake_uow, fast_hasher, make_account) -> None:
    account = make_account()
    first = request(fake_uow, account.email)
    second = request(fake_uow, account.email)
    assert first != second
    with pytest.raises(InvalidPasswordReset):
        reset(fake_uow, fast_hasher, first)
    reset(fake_uow, fast_hasher, second)


def test_login_with_the_old_password_voids_the_link(fake_uow, fast_hasher, make_account) -> None:
    account = make_account()
    token = request(fake_uow, account.email)
    log_in(fake_uow, fast_hasher, account.email, OLD_PASSWORD)
    with pytest.raises(InvalidPasswordReset):
        reset(fake_uow, fast_hasher, token)
    # The mail that carried the link loses it.
    assert fake_uow.events[-1].type == "identity.account_link.used"
    assert fake_uow.events[-1].payload["link"] == "password_reset"


def test_failed_login_keeps_the_link(fake_uow, fast_hasher, make_account) -> None:
    account = make_account()
    token = request(fake_uow, account.email)
    with pytest.raises(InvalidCredentials):
        log_in(fake_uow, fast_hasher, account.email, "falsches-Passwort")
    reset(fake_uow, fast_hasher, token)


def test_link_of_an_account_locked_meanwhile_is_void(fake_uow, fast_hasher, make_account) -> None:
    account = make_account()
    token = request(fake_uow, account.email)
    account.status = AccountStatus.LOCKED
    with pytest.raises(InvalidPasswordReset):
        reset(fake_uow, fast_hasher, token)


def test_password_policy_applies_and_keeps_the_link(fake_uow, fast_hasher, make_account) -> None:
    account = make_account()
    token = request(fake_uow, account.email)
    with pytest.raises(PasswordPolicyViolation):
        reset(fake_uow, fast_hasher, token, "zu-kurz")
    reset(fake_uow, fast_hasher, token)


def test_new_password_lifts_the_temporary_lockout(fake_uow, fast_hasher, make_account) -> None:
    account = make_account()
    token = request(fake_uow, account.email)
    account.failed_logins = 3
    account.locked_until = NOW + timedelta(hours=24)
    with pytest.raises(AccountLockedOut):
        log_in(fake_uow, fast_hasher, account.email, OLD_PASSWORD)
    reset(fake_uow, fast_hasher, token)
    assert account.failed_logins == 0 and account.locked_until is None
    log_in(fake_uow, fast_hasher, account.email, NEW_PASSWORD)


def test_unknown_token_is_invalid(fake_uow, fast_hasher, make_account) -> None:
    make_account()
    with pytest.raises(InvalidPasswordReset):
        check_password_reset_link(fake_uow, "kein-gueltiger-token", now=NOW)
    with pytest.raises(InvalidPasswordReset):
        reset(fake_uow, fast_hasher, "kein-gueltiger-token")


def test_a_locked_out_account_can_still_ask_for_a_link_and_the_reset_lifts_the_lock(
    fake_uow, fast_hasher, make_account
) -> None:
    # Lockout by someone guessing (Azubinummern are guessable) must not keep the owner out.
    account = make_account()
    for _ in range(5):
        with pytest.raises((InvalidCredentials, AccountLockedOut)):
            log_in(fake_uow, fast_hasher, account.email, "falsches-Passwort")
    assert account.is_locked_out(NOW)
    token = request(fake_uow, account.email)
    assert token is not None
    reset(fake_uow, fast_hasher, token)
    assert not account.is_locked_out(NOW)
    assert log_in(fake_uow, fast_hasher, account.email, NEW_PASSWORD).id == account.id


def test_the_reset_tells_the_owner_voids_the_mailed_link_and_is_audited(
    fake_uow, fast_hasher, make_account
) -> None:
    account = make_account()
    token = request(fake_uow, account.email)
    before = len(fake_uow.events)
    reset(fake_uow, fast_hasher, token)
    changed, used = fake_uow.events[before:]
    assert changed.type == "identity.password.changed"
    assert changed.payload["how"] == "reset"
    assert changed.payload["password_forgotten_url"] == "https://portal.example/idp/password/forgotten"
    assert NEW_PASSWORD not in str(changed.payload) and token not in str(changed.payload)
    assert used.type == "identity.account_link.used"
    assert used.payload == {
        "account_id": str(account.id),
        "link": "password_reset",
        "expires_at": (NOW + VALID_FOR).isoformat(),
    }
    assert fake_uow.audit.kinds() == ["password.reset_requested", "password.reset"]


def test_the_policy_refuses_a_common_password_and_the_own_address(
    fake_uow, fast_hasher, make_account
) -> None:
    account = make_account()
    token = request(fake_uow, account.email)
    with pytest.raises(PasswordPolicyViolation) as common:
        reset(fake_uow, fast_hasher, token, "passwordpassword")
    assert common.value.rule == "common"
    with pytest.raises(PasswordPolicyViolation) as personal:
        reset(fake_uow, fast_hasher, token, account.email.upper())
    assert personal.value.rule == "personal"
