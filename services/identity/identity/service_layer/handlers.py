"""identity's use cases: every command, query and event handler, as ``handle(message, uow, *, deps)``.

Each handler owns its unit of work: it opens it and commits what it changes (for
an event, the inbox row joins that commit). argon2 (passwords) is slow on purpose, so
it runs while no transaction is open: no row lock and no database connection is held
while a password is hashed or verified, nor while an activation code is checked (an
old code may still have an argon2 hash). Activation codes are hashed with a keyed hash
(``code_hasher``, HMAC-SHA256), never with argon2. The bootstrap binds the keyword
dependencies (hasher, code_hasher, clock, shield, policies, lifetimes).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from chassis.contracts.identity import (
    AccountActivated,
    AccountLinkUsed,
    ApprenticeAccountPrepared,
    PasswordChanged,
    PasswordResetRequested,
)
from chassis.contracts.identity import AccountLockedOut as AccountLockedOutEvent
from chassis.contracts.training import ContractRegistered
from chassis.events.incoming import IncomingEvent
from identity.adapters.oauth_models import OAuthClient, sha256
from identity.domain import access
from identity.domain.audit import AuditKind
from identity.domain.commands import (
    ActivateAccount,
    EndLoginSession,
    LogIn,
    LogInAtProvider,
    RegisterClient,
    RequestPasswordReset,
    ResetPassword,
    StartLoginSession,
)
from identity.domain.company_access import RegisteredApprentice
from identity.domain.model import (
    APPRENTICE_ROLE,
    Account,
    AccountLockedOut,
    AccountStatus,
    CodeHasher,
    InvalidActivation,
    InvalidCredentials,
    InvalidPasswordReset,
    LockoutPolicy,
    LoggedIn,
    LoginSession,
    NewActivationCode,
    PasswordHasher,
    check_password_policy,
    normalise_activation_code,
)
from identity.domain.queries import (
    CheckPasswordResetLink,
    FindLoginSession,
    GetOwnAccount,
    IsAccessTokenRevoked,
)
from identity.service_layer.links import AccountLinks
from identity.service_layer.unit_of_work import IdentityUnitOfWork

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")


@dataclass(frozen=True)
class TimingShield:
    """Hashes to verify against when there is nothing to check, so that an unknown login
    takes as long as a wrong password, and an unknown Azubinummer as long as a wrong
    activation code: the answer's timing does not reveal who has an account.

    Each path spends what its wrong-secret path spends: a login one argon2 verification
    (the password hasher), an activation one verification by the code hasher (an HMAC,
    plus the argon2 verification the code hasher spends on every code while it accepts
    codes hashed with argon2 before the keyed hash).
    """

    dummy_password_hash: str
    dummy_code_hash: str

    @classmethod
    def for_hashers(cls, hasher: PasswordHasher, code_hasher: CodeHasher) -> TimingShield:
        # "0" is not in the codes' alphabet: no code ever matches the dummy.
        return cls(hasher.hash("no account has this password"), code_hasher.hash("0000-0000-0000"))

    def spend_on_password(self, hasher: PasswordHasher, password: str) -> None:
        hasher.verify(self.dummy_password_hash, password)

    def spend_on_code(self, code_hasher: CodeHasher, code: str) -> None:
        code_hasher.verify(self.dummy_code_hash, normalise_activation_code(code))


# -- login -------------------------------------------------------------------------------------
def log_in(
    cmd: LogIn,
    uow: IdentityUnitOfWork,
    *,
    hasher: PasswordHasher,
    clock: Clock,
    policy: LockoutPolicy,
    shield: TimingShield,
    links: AccountLinks,
) -> Account:
    """Check a login; raises ``InvalidCredentials`` or ``AccountLockedOut``.

    The account is read, the password verified with no transaction open, and the
    outcome written with one conditional UPDATE (see the repository): concurrent
    failures are all counted, a lock set meanwhile is respected, and a password
    replaced meanwhile does not log in. Every path spends one argon2 verification,
    so that an unknown login, a wrong password and a locked account take as long.
    The failure that locks the account tells its owner (``identity.account.locked_out``).
    """
    return _check_login(
        cmd, uow, hasher=hasher, clock=clock, policy=policy, shield=shield, links=links, then=_nothing
    )[0]


def log_in_at_provider(
    cmd: LogInAtProvider,
    uow: IdentityUnitOfWork,
    *,
    hasher: PasswordHasher,
    clock: Clock,
    policy: LockoutPolicy,
    shield: TimingShield,
    links: AccountLinks,
    login_session_lifetime: timedelta,
) -> LoggedIn:
    """The login page's login: ``log_in``, and on success the login session starts in the same
    transaction as the login's record (``start_login_session``'s rows): one commit, not two."""

    def start_session(uow: IdentityUnitOfWork, account: Account, now: datetime) -> str:
        return _start_session(uow, account.id, now, login_session_lifetime, replaces=cmd.replaces)

    account, session_id = _check_login(
        LogIn(cmd.login, cmd.password, client=cmd.client),
        uow,
        hasher=hasher,
        clock=clock,
        policy=policy,
        shield=shield,
        links=links,
        then=start_session,
    )
    return LoggedIn(account, session_id)


def _nothing(_uow: IdentityUnitOfWork, _account: Account, _now: datetime) -> None:
    return None


def _check_login(
    cmd: LogIn,
    uow: IdentityUnitOfWork,
    *,
    hasher: PasswordHasher,
    clock: Clock,
    policy: LockoutPolicy,
    shield: TimingShield,
    links: AccountLinks,
    then: Callable[[IdentityUnitOfWork, Account, datetime], T],
) -> tuple[Account, T]:
    """``log_in``'s work; ``then`` runs in the transaction that records a successful login."""
    now = clock()
    with uow:
        account = uow.accounts.by_login(cmd.login)
    # The read transaction is over: nothing below holds a connection while hashing.
    if account is None:
        shield.spend_on_password(hasher, cmd.password)
        raise InvalidCredentials("unknown login")
    if (
        account.status is not AccountStatus.ACTIVE
        or account.password_hash is None
        or account.is_locked_out(now)
    ):
        # No password to verify (pending, disabled), or none worth verifying (locked): spend
        # a hash anyway, so that the answer's timing tells none of them from an unknown login.
        # The dummy never matches, so guessing during the lock learns nothing.
        shield.spend_on_password(hasher, cmd.password)
    account.refuse_login_early(now)
    verified_hash = account.password_hash
    assert verified_hash is not None
    if not hasher.verify(verified_hash, cmd.password):
        with uow:
            # The failure counter and the lock must persist although the login fails.
            failed = uow.accounts.record_failed_login(account.id, now, policy)
            uow.audit.record(AuditKind.LOGIN_FAILED, account.id, details={"client": cmd.client}, at=now)
            if failed.just_locked:
                assert failed.locked_until is not None
                uow.audit.record(
                    AuditKind.ACCOUNT_LOCKED_OUT,
                    account.id,
                    details={"until": failed.locked_until.isoformat(), "client": cmd.client},
                    at=now,
                )
                uow.emit(
                    AccountLockedOutEvent(
                        account_id=account.id,
                        email=account.email,
                        name=account.name,
                        locked_until=failed.locked_until,
                        password_forgotten_url=links.password_forgotten,
                    ),
                    subject=str(account.id),
                )
            uow.commit()
        if failed.locked_until is not None:
            raise AccountLockedOut(failed.locked_until)
        raise InvalidCredentials("wrong password")
    # The cost parameters changed since this hash was made: upgrade it now that we
    # hold the plain password (still outside any transaction).
    new_hash = hasher.hash(cmd.password) if hasher.needs_rehash(verified_hash) else None
    open_reset = account.password_reset  # read before the login voids it
    with uow:
        if not uow.accounts.record_login(
            account.id, verified_hash=verified_hash, now=now, new_password_hash=new_hash
        ):
            # Changed while the password was checked: locked by concurrent failures,
            # disabled, or given a new password (the one just checked is the old one).
            current = uow.accounts.get(account.id)
            if current is not None and current.is_locked_out(now):
                assert current.locked_until is not None
                raise AccountLockedOut(current.locked_until)
            raise InvalidCredentials("account changed during the login")
        # Before the audit record is added: statements ``then`` runs (the login session's
        # DELETEs) flush nothing, and the commit writes every added row in one flush.
        result = then(uow, account, now)
        uow.audit.record(AuditKind.LOGIN_SUCCEEDED, account.id, details={"client": cmd.client}, at=now)
        if open_reset is not None:
            # The login voided the open reset link: the mail that carried it loses it.
            _link_used(uow, account, "password_reset", open_reset.expires_at)
        uow.commit()
    account.record_login(now, new_hash)
    return account, result


def _link_used(uow: IdentityUnitOfWork, account: Account, link: str, expires_at: datetime) -> None:
    """The mailed link (and any older one of its kind) is void: notifications drops it from its mails."""
    uow.emit(
        AccountLinkUsed(account_id=account.id, link=link, expires_at=expires_at), subject=str(account.id)
    )


def _password_changed(
    uow: IdentityUnitOfWork, account: Account, now: datetime, how: str, links: AccountLinks
) -> None:
    """Tell the owner their password changed (no secret in it), with the way back if it was not them."""
    uow.emit(
        PasswordChanged(
            account_id=account.id,
            email=account.email,
            name=account.name,
            changed_at=now,
            how=how,
            password_forgotten_url=links.password_forgotten,
        ),
        subject=str(account.id),
    )


# -- login sessions at the provider ----------------------------------------------------------------
def start_login_session(
    cmd: StartLoginSession, uow: IdentityUnitOfWork, *, clock: Clock, login_session_lifetime: timedelta
) -> str:
    """Open a login session; the browser's previous one ends. Returns the id for the cookie."""
    with uow:
        session_id = _start_session(
            uow, cmd.account_id, clock(), login_session_lifetime, replaces=cmd.replaces
        )
        uow.commit()
    return session_id


def _start_session(
    uow: IdentityUnitOfWork,
    account_id: uuid.UUID,
    now: datetime,
    lifetime: timedelta,
    *,
    replaces: str | None,
) -> str:
    """Add a login session in ``uow``'s transaction, ending ``replaces``; the id for the cookie."""
    session, session_id = LoginSession.start(account_id, now, lifetime)
    if replaces:
        uow.login_sessions.end(replaces)
    uow.login_sessions.delete_expired(now)
    uow.login_sessions.add(session)
    return session_id


def end_login_session(cmd: EndLoginSession, uow: IdentityUnitOfWork) -> None:
    with uow:
        uow.login_sessions.end(cmd.session_id)
        uow.commit()


def find_login_session(
    query: FindLoginSession, uow: IdentityUnitOfWork, *, clock: Clock
) -> LoginSession | None:
    with uow:
        return uow.login_sessions.live(query.session_id, clock())


# -- activation --------------------------------------------------------------------------------------
def activate_account(
    cmd: ActivateAccount,
    uow: IdentityUnitOfWork,
    *,
    hasher: PasswordHasher,
    code_hasher: CodeHasher,
    clock: Clock,
    shield: TimingShield,
    links: AccountLinks,
) -> Account:
    """Activate with Azubinummer + one-time code; emits ``AccountActivated`` and ``PasswordChanged``.

    The code is verified (keyed hash; argon2 for a code issued before it) and the new
    password hashed (argon2) with no transaction open; the activation is then applied
    under the account's row lock, only if the account still has that code unused (a
    concurrent activation wins once).
    """
    now = clock()
    with uow:
        account = uow.accounts.by_apprentice_number(cmd.apprentice_number)
    if account is None or account.activation is None:
        # Same cost as checking a code, whether or not there is one to check.
        shield.spend_on_code(code_hasher, cmd.activation_code)
    if account is None:
        raise InvalidActivation("unknown apprentice number")
    verified = account.verify_activation(cmd.activation_code, cmd.new_password, now, code_hasher)
    password_hash = hasher.hash(cmd.new_password)
    with uow:
        account = uow.accounts.by_apprentice_number(cmd.apprentice_number, for_update=True)
        if account is None:
            raise InvalidActivation("the account is gone")
        account.complete_activation(verified, password_hash, now)
        uow.emit(activated_event(account, now), subject=str(account.id))
        uow.audit.record(AuditKind.ACCOUNT_ACTIVATED, account.id, at=now)
        _password_changed(uow, account, now, "activation", links)
        uow.commit()
    return account


def activated_event(account: Account, now: datetime) -> AccountActivated:
    """The account can log in now (by activation, an invitation link, or an apprentice's code)."""
    return AccountActivated(
        account_id=account.id,
        apprentice_number=account.apprentice_number,
        email=account.email,
        activated_at=now,
    )


def contract_registered(
    event: IncomingEvent[ContractRegistered],
    uow: IdentityUnitOfWork,
    *,
    code_hasher: CodeHasher,
    clock: Clock,
    activation_valid_for: timedelta,
) -> None:
    """Give the apprentice of a newly registered contract an Azubinummer and an activation code.

    - No account with the apprentice's e-mail: create one (pending activation).
    - A pending account: keep its Azubinummer (or assign one) and issue a fresh code;
      the earlier code stops working, so only the newest letter is valid.
    - An active or locked account: it already has access data. Make sure it holds
      the apprentice role and an Azubinummer, and announce the account without a
      code: the contract still needs the Azubinummer and the apprentice their
      Eintragungsbestätigung, and the person logs in as before.
    """
    contract = event.payload
    apprentice = contract.apprentice
    email = apprentice.email.strip().lower()
    now = clock()
    # The code's keyed hash (microseconds, no argon2) is made before the transaction takes
    # its locks; an account that turns out to be active simply does not use it.
    new_code = NewActivationCode.generate(code_hasher)
    code: str | None
    with uow:
        account = uow.accounts.by_email(email, for_update=True)
        if account is None:
            account = Account(
                id=uuid.uuid4(),
                email=email,
                name=f"{apprentice.first_name} {apprentice.last_name}",
                created_at=now,
            )
            account.make_apprentice(uow.apprentice_numbers.next())
            code = account.accept_activation_code(new_code, now, activation_valid_for)
            uow.accounts.add(account)
        elif account.status is AccountStatus.PENDING_ACTIVATION:
            account.make_apprentice(account.apprentice_number or uow.apprentice_numbers.next())
            code = account.accept_activation_code(new_code, now, activation_valid_for)
        else:
            if account.apprentice_number is None or APPRENTICE_ROLE not in account.roles:
                account.make_apprentice(account.apprentice_number or uow.apprentice_numbers.next())
            log.info(
                "apprentice account %s is already %s; no activation code issued", account.id, account.status
            )
            code = None
        assert account.apprentice_number is not None
        # identity's copy of who trains where: a company creates accounts only for its own apprentices.
        uow.register.add_apprentice(
            RegisteredApprentice(contract.company.company_number, account.apprentice_number, account.name)
        )
        expires_at = account.activation.expires_at if code is not None and account.activation else None
        uow.emit(
            ApprenticeAccountPrepared(
                account_id=account.id,
                contract_id=contract.contract_id,
                apprentice_number=account.apprentice_number,
                activation_code=code,
                activation_expires_at=expires_at,
                email=account.email,
            ),
            subject=str(account.id),
        )
        uow.commit()


# -- password reset ------------------------------------------------------------------------------------
def request_password_reset(
    cmd: RequestPasswordReset,
    uow: IdentityUnitOfWork,
    *,
    clock: Clock,
    password_reset_valid_for: timedelta,
) -> None:
    """Send a reset link to an active account; emits ``PasswordResetRequested``.

    Returns nothing on purpose: the caller answers the same whether or not a link
    went out, so the page does not tell who has an account. The mail leaves via
    the outbox, so known and unknown logins cost about the same here.
    """
    now = clock()
    with uow:
        account = uow.accounts.by_login(cmd.login, for_update=True)
        if account is None or not account.may_reset_password_with(cmd.login):
            log.info("password reset requested for no account that may reset; no link sent")
            return
        token = account.issue_password_reset(now, password_reset_valid_for)
        assert account.password_reset is not None
        uow.emit(
            PasswordResetRequested(
                account_id=account.id,
                email=account.email,
                name=account.name,
                reset_url=cmd.link_prefix + token,
                expires_at=account.password_reset.expires_at,
            ),
            subject=str(account.id),
        )
        uow.audit.record(AuditKind.PASSWORD_RESET_REQUESTED, account.id, at=now)
        uow.commit()


def check_password_reset_link(
    query: CheckPasswordResetLink, uow: IdentityUnitOfWork, *, clock: Clock
) -> None:
    """Raises ``InvalidPasswordReset`` unless the link can still set a password."""
    with uow:
        account = uow.accounts.by_password_reset_token(query.token)
    if account is None:
        raise InvalidPasswordReset("unknown token")
    account.check_password_reset(query.token, clock())


def reset_password(
    cmd: ResetPassword, uow: IdentityUnitOfWork, *, hasher: PasswordHasher, clock: Clock, links: AccountLinks
) -> Account:
    """Set a new password through a reset link; raises ``InvalidPasswordReset`` or
    ``PasswordPolicyViolation``. The new password is hashed with no transaction open."""
    now = clock()
    with uow:
        account = uow.accounts.by_password_reset_token(cmd.token)
    if account is None:
        raise InvalidPasswordReset("unknown token")
    account.check_password_reset(cmd.token, now)
    check_password_policy(cmd.new_password, account.personal_data())
    password_hash = hasher.hash(cmd.new_password)
    with uow:
        # Looked up again under the row lock: a link used or replaced meanwhile finds nothing.
        account = uow.accounts.by_password_reset_token(cmd.token, for_update=True)
        if account is None:
            raise InvalidPasswordReset("the link was used or replaced meanwhile")
        was_locked = account.is_locked_out(now)
        used_link = account.password_reset
        # Also lifts a lockout: whoever holds the link controls the mailbox.
        account.reset_password(cmd.token, password_hash, now)
        uow.audit.record(AuditKind.PASSWORD_RESET, account.id, details={"lifted_lock": was_locked}, at=now)
        _password_changed(uow, account, now, "reset", links)
        assert used_link is not None
        _link_used(uow, account, "password_reset", used_link.expires_at)
        # Whoever was logged in with the old password is logged out everywhere: the
        # login sessions at identity end, and so do the account's tokens (a portal
        # session ends at its next refresh, within the access tokens' 5 minutes).
        uow.login_sessions.end_all(account.id)
        uow.oauth.revoke_account(account.id, now)
        uow.commit()
    return account


# -- the API and the OAuth clients ----------------------------------------------------------------------
def get_own_account(query: GetOwnAccount, uow: IdentityUnitOfWork) -> Account:
    account_id = access.own_account_id(query.principal)
    with uow:
        account = uow.accounts.get(account_id)
    return access.readable_account(query.principal, account)


def is_access_token_revoked(query: IsAccessTokenRevoked, uow: IdentityUnitOfWork) -> bool:
    with uow:
        stored = uow.oauth.by_access_token(query.access_token)
    return stored is None or stored.is_revoked()


def register_client(cmd: RegisterClient, uow: IdentityUnitOfWork, *, clock: Clock) -> None:
    """Register (or update) an OIDC client; idempotent."""
    with uow:
        uow.oauth.upsert_client(
            OAuthClient(
                client_id=cmd.client_id,
                secret_hash=sha256(cmd.secret),
                name=cmd.name,
                redirect_uris=list(cmd.redirect_uris),
                post_logout_redirect_uris=list(cmd.post_logout_redirect_uris),
                scope=cmd.scope,
                grant_types=list(cmd.grant_types),
                token_endpoint_auth_method=cmd.token_endpoint_auth_method,
            ),
            clock(),
        )
        uow.commit()


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {
    LogIn: log_in,
    LogInAtProvider: log_in_at_provider,
    ActivateAccount: activate_account,
    RequestPasswordReset: request_password_reset,
    ResetPassword: reset_password,
    StartLoginSession: start_login_session,
    EndLoginSession: end_login_session,
    RegisterClient: register_client,
    CheckPasswordResetLink: check_password_reset_link,
    FindLoginSession: find_login_session,
    GetOwnAccount: get_own_account,
    IsAccessTokenRevoked: is_access_token_revoked,
}
# The activation code's argon2 hash is made outside the unit of work (a quarter second at the
# default cost): in a batch the batch's transaction, and the apprentice-number counter's row lock
# an earlier event took, would stay open meanwhile.
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {
    # Batched: the activation code's keyed hash is cheap, so nothing slow runs in the batch.
    ContractRegistered.TYPE: contract_registered,
}
