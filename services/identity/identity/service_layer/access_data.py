"""Use cases of the access data: invitations (Account erstellen, Zugang einrichten) and the
register's people per company. Same shape as ``handlers``: ``handle(message, uow, *, deps)``,
each owning its unit of work; the bootstrap merges these mappings into the bus.

Other features invite through ``identity.domain.invitations.invite`` inside their own unit of
work; the bus dependency ``invitation_settings`` (``InvitationSettings``) is what it needs
besides ``now``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chassis.contracts.identity import AccessCodeIssued
from chassis.contracts.training import (
    CompanyChanged,
    CompanyRegistered,
    TrainerAdded,
    TrainerChanged,
    TrainerData,
    TrainerRemoved,
)
from chassis.domain import Conflict, NotFound
from chassis.events.incoming import IncomingEvent
from identity.domain import access
from identity.domain.access_commands import (
    AcceptInvitation,
    CheckInvitation,
    FulfilAccessDataRequest,
    InviteApprentice,
    InviteTrainer,
    ListAccessDataRequests,
    RedeemAccessCode,
    RequestAccessData,
)
from identity.domain.access_requests import (
    AccessDataRequest,
    RequestKind,
    RequestOutcome,
    check_may_issue_access_data,
)
from identity.domain.company_access import (
    CompanyAccess,
    CompanyMasterData,
    RegisteredTrainer,
    take_over_apprentice,
)
from identity.domain.invitations import (
    InvalidInvitation,
    InvitationRefused,
    InvitationSettings,
    Invitee,
    invite,
)
from identity.domain.model import (
    Account,
    AccountStatus,
    CodeHasher,
    InvalidActivation,
    NewActivationCode,
    PasswordHasher,
    check_password_policy,
)
from identity.service_layer.handlers import TimingShield, activated_event
from identity.service_layer.unit_of_work import IdentityUnitOfWork

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

NO_APPRENTICE = "No such apprentice at this company."
NO_TRAINER = "No such trainer at this company."
EMAIL_TAKEN = "This e-mail address belongs to another account."


# -- Account erstellen --------------------------------------------------------------------------------
def invite_apprentice(
    cmd: InviteApprentice, uow: IdentityUnitOfWork, *, clock: Clock, invitation_settings: InvitationSettings
) -> Account:
    """Send the apprentice's account a link to set its password, to ``cmd.email``.

    The account was prepared when the contract was registered (with the contract's e-mail);
    while it awaits activation, the address the company enters replaces that one.
    """
    access.check_may_invite(cmd.principal, cmd.company_number)
    email = cmd.email.strip().lower()
    now = clock()
    with uow:
        if uow.register.apprentice(cmd.company_number, cmd.apprentice_number) is None:
            raise NotFound(NO_APPRENTICE)
        account = uow.accounts.by_apprentice_number(cmd.apprentice_number, for_update=True)
        if account is None:
            raise NotFound(NO_APPRENTICE)
        if account.status is AccountStatus.PENDING_ACTIVATION and account.email != email:
            other = uow.accounts.by_email(email)
            if other is not None:
                raise Conflict(EMAIL_TAKEN)
            account.email = email
        try:
            account = invite(
                uow,
                Invitee(email=account.email, name=account.name, apprentice_number=cmd.apprentice_number),
                now=now,
                settings=invitation_settings,
                account=account,
            )
        except InvitationRefused as exc:
            raise Conflict(str(exc)) from None
        uow.commit()
    return account


def invite_trainer(
    cmd: InviteTrainer, uow: IdentityUnitOfWork, *, clock: Clock, invitation_settings: InvitationSettings
) -> Account:
    """Create (or find) the trainer's account by ``cmd.email`` and grant it the company's role ``trainer``."""
    access.check_may_invite(cmd.principal, cmd.company_number)
    now = clock()
    with uow:
        trainer = uow.register.trainer(cmd.trainer_id)
        if trainer is None or trainer.removed or trainer.company_number != cmd.company_number:
            raise NotFound(NO_TRAINER)
        try:
            account = invite(
                uow,
                Invitee(
                    email=cmd.email,
                    name=trainer.name,
                    company_number=cmd.company_number,
                    company_role="trainer",
                    trainer_id=trainer.trainer_id,
                ),
                now=now,
                settings=invitation_settings,
            )
        except InvitationRefused as exc:
            raise Conflict(str(exc)) from None
        uow.commit()
    return account


# -- Zugang einrichten ----------------------------------------------------------------------------------
def check_invitation(query: CheckInvitation, uow: IdentityUnitOfWork, *, clock: Clock) -> None:
    with uow:
        invitation = uow.invitations.by_token(query.token)
        if invitation is None:
            raise InvalidInvitation("unknown link")
        invitation.check(uow.accounts.get(invitation.account_id), clock())


def accept_invitation(
    cmd: AcceptInvitation, uow: IdentityUnitOfWork, *, hasher: PasswordHasher, clock: Clock
) -> Account:
    """Set the first password through the invitation link; emits ``AccountActivated``.

    Checked, then hashed (argon2) with no transaction open; applied under the link's row
    lock only if it is still unused, so of two concurrent submissions one wins.
    """
    now = clock()
    check_invitation(CheckInvitation(cmd.token), uow, clock=clock)
    check_password_policy(cmd.new_password)
    password_hash = hasher.hash(cmd.new_password)
    with uow:
        invitation = uow.invitations.by_token(cmd.token, for_update=True)
        if invitation is None:
            raise InvalidInvitation("the link was replaced meanwhile")
        account = invitation.accept(uow.accounts.get(invitation.account_id), password_hash, now)
        uow.emit(activated_event(account, now), subject=str(account.id))
        uow.commit()
    return account


# -- company access: the Aktivierungscode of the access letter ---------------------------------------------
def company_registered(
    event: IncomingEvent[CompanyRegistered],
    uow: IdentityUnitOfWork,
    *,
    code_hasher: CodeHasher,
    clock: Clock,
    company_code_valid_for: timedelta,
) -> None:
    """A company was entered in the register: give it a one-time Aktivierungscode for its
    access letter; emits ``AccessCodeIssued`` (documents issues the Anschreiben).

    A company that has a code already (a redelivered or replayed event) keeps it: the
    chamber issues new codes on request only.
    """
    data = event.payload
    now = clock()
    new_code = NewActivationCode.generate(code_hasher)  # keyed hash: microseconds, before the transaction
    with uow:
        company = uow.company_accesses.get(data.company_number, for_update=True)
        if company is not None and company.code_hash is not None:
            log.info("company %s has an access code already; none issued", data.company_number)
            company.follow_master_data(_master_data(data), event.occurred_at)
            uow.commit()
            return
        if company is None:
            company = CompanyAccess(data.company_number, data.name)
            uow.company_accesses.add(company)
        company.follow_master_data(_master_data(data), event.occurred_at)
        code = company.accept_code(new_code, now, company_code_valid_for)
        uow.emit(_code_issued(company, code, "registered"), subject=company.company_number)
        uow.commit()


def company_changed(event: IncomingEvent[CompanyChanged], uow: IdentityUnitOfWork) -> None:
    """The register changed a company's name or address: its next access letter goes there.

    A company identity has no access data for yet (registered before identity kept them, or its
    registration still on the way) gets a record without a code: the chamber can then fulfil
    its request for access data, and the registration, when it arrives, issues the first code.
    An older statement arriving after a newer one changes nothing (events.md: ordering)."""
    data = event.payload
    with uow:
        company = uow.company_accesses.get(data.company_number, for_update=True)
        if company is None:
            company = CompanyAccess(data.company_number, data.name)
            uow.company_accesses.add(company)
        if company.follow_master_data(_master_data(data), event.occurred_at):
            uow.commit()


def _master_data(data: CompanyRegistered | CompanyChanged) -> CompanyMasterData:
    return CompanyMasterData(data.name, data.street, data.postal_code, data.city)


def _code_issued(company: CompanyAccess, code: str, reason: str) -> AccessCodeIssued:
    assert company.expires_at is not None and company.issued_at is not None
    return AccessCodeIssued(
        kind="company",
        number=company.company_number,
        name=company.name,
        street=company.street,
        postal_code=company.postal_code,
        city=company.city,
        activation_code=code,
        expires_at=company.expires_at,
        issued_at=company.issued_at,
        reason=reason,
    )


def redeem_access_code(
    cmd: RedeemAccessCode,
    uow: IdentityUnitOfWork,
    *,
    code_hasher: CodeHasher,
    clock: Clock,
    shield: TimingShield,
) -> Account:
    """Zugang freischalten with an access letter's number and code; returns the caller's account.

    An unknown number, a number without a code and a wrong code cost the same (one code
    verification, the timing shield spends it when there is nothing to check) and raise the
    same ``InvalidActivation``, so the page tells nobody which Identnummern or Azubinummern
    exist. The code is checked with no transaction open, then used under the row locks only
    if it is still the one checked and unused (of two concurrent redemptions one wins).
    """
    redemption = _Redemption(cmd, access.own_account_id(cmd.principal), code_hasher, clock(), shield)
    if cmd.kind == "company":
        return _redeem_company(redemption, uow)
    return _redeem_apprentice(redemption, uow)


@dataclass(frozen=True)
class _Redemption:
    """One attempt at Zugang freischalten: what was typed, by whom, and what checking it needs."""

    cmd: RedeemAccessCode
    account_id: uuid.UUID
    code_hasher: CodeHasher
    now: datetime
    shield: TimingShield


def _own_active_account(uow: IdentityUnitOfWork, account_id: uuid.UUID) -> Account:
    account = uow.accounts.get(account_id)
    if account is None or account.status is not AccountStatus.ACTIVE:
        raise NotFound(access.NO_ACCOUNT)
    return account


def _redeem_company(redemption: _Redemption, uow: IdentityUnitOfWork) -> Account:
    cmd, account_id, code_hasher, now = (
        redemption.cmd,
        redemption.account_id,
        redemption.code_hasher,
        redemption.now,
    )
    with uow:
        company = uow.company_accesses.get(cmd.number)
    if company is None or company.code_hash is None:
        redemption.shield.spend_on_code(code_hasher, cmd.code)
        raise InvalidActivation("unknown company or no code")
    verified = company.verify(cmd.code, now, code_hasher)
    with uow:
        account = _own_active_account(uow, account_id)
        company = uow.company_accesses.get(cmd.number, for_update=True)
        if company is None:
            raise InvalidActivation("the company is gone")
        company.redeem(verified, account, now)
        uow.commit()
    log.info("account %s redeemed the access code of company %s", account_id, company.company_number)
    return account


def _redeem_apprentice(redemption: _Redemption, uow: IdentityUnitOfWork) -> Account:
    cmd, account_id, code_hasher, now = (
        redemption.cmd,
        redemption.account_id,
        redemption.code_hasher,
        redemption.now,
    )
    with uow:
        pending = uow.accounts.by_apprentice_number(cmd.number)
    if pending is None or pending.activation is None:
        redemption.shield.spend_on_code(code_hasher, cmd.code)
        raise InvalidActivation("unknown apprentice number or no code")
    activation = pending.check_activation_code(cmd.code, now, code_hasher)
    with uow:
        account = _own_active_account(uow, account_id)
        pending = uow.accounts.by_apprentice_number(cmd.number, for_update=True)
        if pending is None or pending.id == account.id:
            raise InvalidActivation("the account is gone")
        number = take_over_apprentice(pending, account, activation, now)
        uow.company_accesses.hand_over_apprentice_number(pending, account, number)
        uow.invitations.replace_open(pending.id)  # an invitation of the retired account is void too
        uow.emit(activated_event(account, now), subject=str(account.id))
        uow.commit()
    log.info("account %s took over apprentice number %s", account.id, number)
    return account


# -- Zugangsdaten erneut anfordern ---------------------------------------------------------------------------
def request_access_data(cmd: RequestAccessData, uow: IdentityUnitOfWork, *, clock: Clock) -> None:
    """Note the request for the chamber; returns nothing, so the page answers the same for every number.

    One open request per number: asking again while one is open adds nothing.
    """
    kind = RequestKind(cmd.kind)
    number = cmd.number.strip()
    with uow:
        if uow.access_data_requests.open_for(kind, number) is not None:
            return
        uow.access_data_requests.add(
            AccessDataRequest(uuid.uuid4(), kind, number, cmd.contact_name.strip(), clock())
        )
        uow.commit()


def list_access_data_requests(
    query: ListAccessDataRequests, uow: IdentityUnitOfWork
) -> list[AccessDataRequest]:
    check_may_issue_access_data(query.principal)
    with uow:
        return uow.access_data_requests.newest(open_only=query.open_only, limit=query.limit)


def fulfil_access_data_request(
    cmd: FulfilAccessDataRequest,
    uow: IdentityUnitOfWork,
    *,
    code_hasher: CodeHasher,
    clock: Clock,
    company_code_valid_for: timedelta,
    activation_valid_for: timedelta,
) -> AccessDataRequest:
    """Issue a new code for the request's number (it replaces the old one) and close the request;
    emits ``AccessCodeIssued`` (documents issues the new letter). Nothing to issue for an unknown
    number or an apprentice whose account is active (they use "Passwort vergessen")."""
    check_may_issue_access_data(cmd.principal)
    now = clock()
    new_code = NewActivationCode.generate(code_hasher)
    with uow:
        request = uow.access_data_requests.get(cmd.request_id, for_update=True)
        if request is None:
            raise NotFound("No such request.")
        if not request.is_open:
            raise Conflict("The request was fulfilled already.")
        if request.kind == RequestKind.COMPANY:
            event = _new_company_code(uow, request.number, new_code, now, company_code_valid_for)
        else:
            event = _new_apprentice_code(uow, request.number, new_code, now, activation_valid_for)
        outcome = RequestOutcome.NOTHING_TO_ISSUE if event is None else RequestOutcome.ISSUED
        request.close(outcome, cmd.principal.subject, now)
        if event is not None:
            uow.emit(event, subject=request.number)
        uow.commit()
    return request


def _new_company_code(
    uow: IdentityUnitOfWork, number: str, new_code: NewActivationCode, now: datetime, valid_for: timedelta
) -> AccessCodeIssued | None:
    company = uow.company_accesses.get(number, for_update=True)
    if company is None:
        return None
    code = company.accept_code(new_code, now, valid_for)
    return _code_issued(company, code, "requested")


def _new_apprentice_code(
    uow: IdentityUnitOfWork, number: str, new_code: NewActivationCode, now: datetime, valid_for: timedelta
) -> AccessCodeIssued | None:
    account = uow.accounts.by_apprentice_number(number, for_update=True)
    if account is None or account.status is not AccountStatus.PENDING_ACTIVATION:
        return None
    code = account.accept_activation_code(new_code, now, valid_for)
    assert account.activation is not None
    return AccessCodeIssued(
        kind="apprentice",
        number=number,
        name=account.name,
        street=None,
        postal_code=None,
        city=None,
        activation_code=code,
        expires_at=account.activation.expires_at,
        issued_at=now,
        reason="requested",
    )


# -- the register's people per company -----------------------------------------------------------------
def _trainer_name(data: TrainerData) -> str:
    return f"{data.first_name} {data.last_name}"


def trainer_entered(event: IncomingEvent[TrainerAdded | TrainerChanged], uow: IdentityUnitOfWork) -> None:
    """A trainer was added or changed: identity's copy follows (the payload is the data after)."""
    data = event.payload
    with uow:
        trainer = uow.register.trainer(data.trainer_id)
        if trainer is None:
            uow.register.add_trainer(
                RegisteredTrainer(data.trainer_id, data.company_number, _trainer_name(data), data.email)
            )
        else:
            trainer.company_number = data.company_number
            trainer.name = _trainer_name(data)
            trainer.email = data.email
            trainer.removed = False
        uow.commit()


def trainer_removed(event: IncomingEvent[TrainerRemoved], uow: IdentityUnitOfWork) -> None:
    """The trainer left: no more accounts for them by this company (an existing account keeps its
    role until the roles' own rules take it away)."""
    data = event.payload
    with uow:
        trainer = uow.register.trainer(data.trainer_id)
        if trainer is None:
            uow.register.add_trainer(
                RegisteredTrainer(data.trainer_id, data.company_number, _trainer_name(data), data.email, True)
            )
        else:
            trainer.removed = True
        uow.commit()


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {
    RequestAccessData: request_access_data,
    ListAccessDataRequests: list_access_data_requests,
    FulfilAccessDataRequest: fulfil_access_data_request,
    RedeemAccessCode: redeem_access_code,
    InviteApprentice: invite_apprentice,
    InviteTrainer: invite_trainer,
    AcceptInvitation: accept_invitation,
    CheckInvitation: check_invitation,
}
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {
    CompanyRegistered.TYPE: company_registered,
    CompanyChanged.TYPE: company_changed,
    TrainerAdded.TYPE: trainer_entered,
    TrainerChanged.TYPE: trainer_entered,
    TrainerRemoved.TYPE: trainer_removed,
}
