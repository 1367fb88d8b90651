"""The event catalogue: type, version, producer, consumers and payload schema.

This module is the single source; ``docs/events.md`` is rendered from it
(``python -m chassis.events.catalogue``) and tests keep both, and every
service's producers and consumers, true to it.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import json
import sys
import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

from marshmallow import Schema, ValidationError, fields

from chassis.contracts import documents, identity, training
from chassis.events.envelope import Envelope, new_envelope
from chassis.messages import IntegrationEvent

E = TypeVar("E", bound=IntegrationEvent)


@dataclass(frozen=True)
class EventContract:
    type: str
    version: int
    producer: str
    consumers: tuple[str, ...]
    schema: builtins.type[Schema]
    payload_class: builtins.type[IntegrationEvent]
    description: str
    # Payload fields holding a one-time, short-lived secret: they travel to the
    # consumers once and are redacted from the producer's outbox once sent.
    secret_fields: tuple[str, ...] = ()


CATALOGUE: tuple[EventContract, ...] = (
    EventContract(
        "training.contract.registered",
        1,
        "training-records",
        ("identity", "documents", "exams"),
        training.ContractRegisteredV1,
        training.ContractRegistered,
        "A chamber clerk entered a training contract in the register (state 'eingetragen').",
    ),
    EventContract(
        "training.contract.changed",
        1,
        "training-records",
        (),
        training.ContractChangedV1,
        training.ContractChanged,
        "A step in a registered contract's life: extended, shortened, interrupted, resumed, trainer "
        "changed, corrected by the chamber's import, completed or terminated early (with the reason).",
    ),
    EventContract(
        "training.company.registered",
        1,
        "training-records",
        ("identity",),
        training.CompanyDataV1,
        training.CompanyRegistered,
        "A company (Ausbildungsbetrieb) was entered in the register, by a clerk, a contract or the import.",
    ),
    EventContract(
        "training.company.changed",
        1,
        "training-records",
        ("identity",),
        training.CompanyDataV1,
        training.CompanyChanged,
        "A company's master data changed; the payload is the data after the change.",
    ),
    EventContract(
        "training.company.branch_assigned",
        1,
        "training-records",
        ("identity",),
        training.BranchV1,
        training.BranchAssigned,
        "A company became a branch (Niederlassung) of a head office (Zentrale).",
    ),
    EventContract(
        "training.company.branch_removed",
        1,
        "training-records",
        ("identity",),
        training.BranchV1,
        training.BranchRemoved,
        "A branch no longer belongs to its head office.",
    ),
    EventContract(
        "training.company.branch_reach_changed",
        1,
        "training-records",
        ("identity",),
        training.BranchReachV1,
        training.BranchReachChanged,
        "The chamber switched a head office's reach over its branches on or off: with reach, the "
        "head office's roles apply to every branch.",
    ),
    EventContract(
        "training.occupation.added",
        1,
        "training-records",
        (),
        training.OccupationAddedV1,
        training.OccupationAdded,
        "An occupation (Ausbildungsberuf) joined the catalogue (shipped data or a chamber administrator).",
    ),
    EventContract(
        "training.occupation.retired",
        1,
        "training-records",
        (),
        training.OccupationRetiredV1,
        training.OccupationRetired,
        "A chamber administrator retired an occupation: it takes no new contracts.",
    ),
    EventContract(
        "training.trainer.added",
        1,
        "training-records",
        ("identity",),
        training.TrainerV1,
        training.TrainerAdded,
        "A company's trainer (Ausbilder/-in) was entered, by the company, a clerk or the import.",
    ),
    EventContract(
        "training.trainer.changed",
        1,
        "training-records",
        ("identity",),
        training.TrainerV1,
        training.TrainerChanged,
        "A trainer's data changed; the payload is the data after the change.",
    ),
    EventContract(
        "training.trainer.removed",
        1,
        "training-records",
        ("identity",),
        training.TrainerV1,
        training.TrainerRemoved,
        "A trainer no longer trains for the company.",
    ),
    EventContract(
        "identity.apprentice_account.prepared",
        1,
        "identity",
        ("documents", "training-records"),
        identity.ApprenticeAccountPreparedV1,
        identity.ApprenticeAccountPrepared,
        "The apprentice of a contract has an account and Azubinummer; a new or not yet "
        "activated account comes with a one-time activation code (null for an active one).",
        secret_fields=("activation_code",),
    ),
    EventContract(
        "identity.account.activated",
        1,
        "identity",
        ("training-records",),
        identity.AccountActivatedV1,
        identity.AccountActivated,
        "A person activated their account with Azubinummer and activation code.",
    ),
    EventContract(
        "identity.password_reset.requested",
        1,
        "identity",
        ("notifications",),
        identity.PasswordResetRequestedV1,
        identity.PasswordResetRequested,
        "An active account asked for a new password (Passwort vergessen); carries the "
        "one-time reset link for the mail.",
        secret_fields=("reset_url",),
    ),
    EventContract(
        "identity.registration.requested",
        1,
        "identity",
        ("notifications",),
        identity.RegistrationRequestedV1,
        identity.RegistrationRequested,
        "Someone registered (Registrieren) with a new e-mail address; carries the one-time "
        "confirmation link (24 hours) for the mail.",
        secret_fields=("confirm_url",),
    ),
    EventContract(
        "identity.registration.existing_account",
        1,
        "identity",
        ("notifications",),
        identity.RegistrationForExistingAccountV1,
        identity.RegistrationForExistingAccount,
        "Someone registered with the e-mail address of an existing account: the owner is told "
        "so (with the way to a new password) instead of getting a link; the page answers alike.",
    ),
    EventContract(
        "identity.account.locked_out",
        1,
        "identity",
        ("notifications",),
        identity.AccountLockedOutV1,
        identity.AccountLockedOut,
        "Too many failed logins in a row: password logins are locked until the given time; "
        "the owner is told, with Passwort vergessen as the way out.",
    ),
    EventContract(
        "identity.password.changed",
        1,
        "identity",
        ("notifications",),
        identity.PasswordChangedV1,
        identity.PasswordChanged,
        "An account's password was changed (reset, activation or registration); the owner gets "
        "a confirmation without any secret.",
    ),
    EventContract(
        "identity.account_link.used",
        1,
        "identity",
        ("notifications",),
        identity.AccountLinkUsedV1,
        identity.AccountLinkUsed,
        "A mailed one-time link (password reset or registration) was used or replaced: the "
        "stored mails lose it.",
    ),
    EventContract(
        "identity.account.invited",
        1,
        "identity",
        ("notifications", "training-records"),
        identity.AccountInvitedV1,
        identity.AccountInvited,
        "A company's Administrator or Verwalter created an account for an apprentice or trainer by "
        "e-mail (Account erstellen); carries the one-time link that sets the password, null when the "
        "person's account is already active.",
        secret_fields=("invite_url",),
    ),
    EventContract(
        "identity.access_code.issued",
        1,
        "identity",
        ("documents",),
        identity.AccessCodeIssuedV1,
        identity.AccessCodeIssued,
        "A company (by Identnummer) or an apprentice (by Azubinummer) got a one-time Aktivierungscode "
        "for its access letter (Anschreiben), when the company was registered or when the chamber "
        "fulfilled a request for new access data; the newest code replaces earlier ones.",
        secret_fields=("activation_code",),
    ),
    EventContract(
        "identity.deputyship.requested",
        1,
        "identity",
        (),
        identity.DeputyshipV1,
        identity.DeputyshipRequested,
        "A person, or a company's Administrator, named a deputy (Vertretung); it waits for the "
        "chamber's approval.",
    ),
    EventContract(
        "identity.deputyship.approved",
        1,
        "identity",
        ("notifications",),
        identity.DeputyshipV1,
        identity.DeputyshipApproved,
        "The chamber approved a deputyship: the deputy may act from now on and is told by mail "
        "(a new employee without an account is invited to set up access).",
    ),
    EventContract(
        "identity.deputyship.rejected",
        1,
        "identity",
        (),
        identity.DeputyshipV1,
        identity.DeputyshipRejected,
        "The chamber rejected a requested deputyship.",
    ),
    EventContract(
        "identity.deputyship.removed",
        1,
        "identity",
        (),
        identity.DeputyshipV1,
        identity.DeputyshipRemoved,
        "A deputyship ended (removed by the represented person or the company's Administrator); "
        "the deputy's next token no longer lets them act.",
    ),
    EventContract(
        "documents.document.issued",
        1,
        "documents",
        ("notifications",),
        documents.DocumentIssuedV1,
        documents.DocumentIssued,
        "A document (e.g. Eintragungsbestätigung) is ready for its recipient.",
    ),
    EventContract(
        "documents.document.opened",
        1,
        "documents",
        ("training-records",),
        documents.DocumentOpenedV1,
        documents.DocumentOpened,
        "A document was opened for the first time; date and time are recorded.",
    ),
)

_BY_KEY = {(c.type, c.version): c for c in CATALOGUE}
assert all((c.type, c.version) == (c.payload_class.TYPE, c.payload_class.VERSION) for c in CATALOGUE)


REDACTED = "[redacted]"


class UnknownEvent(LookupError):
    pass


def contract_for(event_type: str, version: int) -> EventContract:
    try:
        return _BY_KEY[(event_type, version)]
    except KeyError:
        raise UnknownEvent(f"{event_type} v{version} is not in the event catalogue") from None


@functools.cache
def _schema(event_type: str, version: int) -> Schema:
    """One schema instance per contract: building marshmallow schemas costs more than using them,
    and a bulk import emits tens of thousands of events (instances are reused read-only)."""
    return contract_for(event_type, version).schema()


_HINTS: dict[builtins.type[Any], dict[str, Any]] = {}


def _type_hints(cls: builtins.type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def validate_payload(event_type: str, version: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Load a payload with its contract; raises ``ValidationError`` or ``UnknownEvent``."""
    loaded: dict[str, Any] = _schema(event_type, version).load(payload)
    return loaded


def load_payload(event_type: str, version: int, payload: dict[str, Any]) -> IntegrationEvent:
    """The typed payload of an incoming event; raises ``ValidationError`` or ``UnknownEvent``."""
    contract = contract_for(event_type, version)
    return _build(contract.payload_class, _schema(event_type, version).load(payload))


def dump_payload(event: IntegrationEvent) -> dict[str, Any]:
    """The JSON-ready payload of a typed event, as its contract's schema writes it."""
    contract = contract_for(event.TYPE, event.VERSION)
    if not isinstance(event, contract.payload_class):
        raise TypeError(f"{type(event).__name__} is not the payload of {event.TYPE} v{event.VERSION}")
    dumped: dict[str, Any] = _schema(event.TYPE, event.VERSION).dump(event)
    return dumped


_PLANS: dict[builtins.type[Any], list[tuple[str, builtins.type[Any] | None]]] = {}


def _plan(cls: builtins.type[Any]) -> list[tuple[str, builtins.type[Any] | None]]:
    """Each field of a payload dataclass and the dataclass it nests (None for a plain value),
    worked out once per class."""
    plan = _PLANS.get(cls)
    if plan is None:
        hints = _type_hints(cls)
        plan = _PLANS[cls] = [(f.name, _dataclass_in(hints[f.name])) for f in dataclasses.fields(cls)]
    return plan


def _build(cls: builtins.type[Any], data: Any) -> Any:
    """A (nested) frozen dataclass from the dict a contract schema loaded."""
    values = {}
    for name, target in _plan(cls):
        value = data.get(name)
        values[name] = _build(target, value) if target is not None and value is not None else value
    return cls(**values)


def _dataclass_in(hint: Any) -> builtins.type[Any] | None:
    """The dataclass a field's type names, also inside ``X | None``."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arg in typing.get_args(hint):
            if dataclasses.is_dataclass(arg) and isinstance(arg, type):
                return arg
    return None


def outgoing_envelope(event: IntegrationEvent, *, producer: str, subject: str) -> Envelope:
    """The envelope of a typed event a producer emits, its payload checked against its contract."""
    payload = dump_payload(event)
    check_outgoing(event.TYPE, event.VERSION, payload)
    return new_envelope(
        producer=producer, event_type=event.TYPE, subject=subject, payload=payload, version=event.VERSION
    )


def check_outgoing(event_type: str, version: int, payload: dict[str, Any]) -> None:
    errors = _schema(event_type, version).validate(payload)
    if errors:
        raise ValidationError(errors)


def redact_secrets(event_type: str, body: str) -> str | None:
    """The envelope JSON with the contract's secret fields replaced; None if it has none."""
    secrets = next((c.secret_fields for c in CATALOGUE if c.type == event_type and c.secret_fields), ())
    if not secrets:
        return None
    envelope = json.loads(body)
    payload = envelope.get("payload") or {}
    for name in secrets:
        if payload.get(name) is not None:
            payload[name] = REDACTED
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def produced_by(service: str) -> set[str]:
    return {c.type for c in CATALOGUE if c.producer == service}


def consumed_by(service: str) -> set[str]:
    return {c.type for c in CATALOGUE if service in c.consumers}


def _describe_field(field: fields.Field) -> str:
    kind = type(field).__name__
    if isinstance(field, fields.Nested):
        nested = field.schema
        inner = ", ".join(f"{n}: {_describe_field(f)}" for n, f in nested.fields.items())
        kind = f"object {{{inner}}}"
    flags = []
    if field.required:
        flags.append("required")
    if field.allow_none:
        flags.append("nullable")
    return kind + (f" ({', '.join(flags)})" if flags else "")


def render_markdown() -> str:
    lines = [
        "# Event catalogue",
        "",
        "Generated from `shared/chassis/events/catalogue.py` by",
        "`python -m chassis.events.catalogue > docs/events.md`; a test keeps it equal.",
        "",
        "Every event travels in the envelope of DESIGN §2 rule 2 (`id`, `type`, `version`,",
        "`occurred_at`, `producer`, `correlation_id`, `causation_id`, `subject`, `payload`)",
        "on the durable topic exchange `bildungsportal.events`, routed by `type`. Each consumer",
        "has one quorum queue per event, named `<consumer>.<type>`, dead-lettering to",
        "`<consumer>.<type>.dlq` after a bounded number of failed attempts.",
        "",
        "## Ordering: what consumers may rely on",
        "",
        "- **Nothing across event types.** Each consumer has one queue per event type, and each queue is",
        "  consumed on its own. An `identity.account.activated` may be handled before the",
        "  `identity.apprentice_account.prepared` of the same account. Handlers are written so that either",
        "  order ends in the same state (state only moves forward; a missing aggregate is created or the",
        "  event is retried until it exists).",
        "- **Nothing across producers.** Two services' events about the same contract arrive in any order.",
        "- **Within one queue, publication order only in the normal case.** One relay publishes in outbox",
        "  order (batch after batch, each confirmed by the broker before the next is sent), but several",
        "  worker replicas publish interleaved batches, an event the broker did not confirm (refused, or",
        "  the connection lost) is published again after the rest of its batch, a retried event is",
        "  re-queued behind newer ones, a dead letter replayed later arrives after everything since, and",
        "  a broker or consumer restart redelivers unacknowledged messages.",
        '  Consumers must not infer "newer" from arrival order: they compare the payload\'s own facts',
        "  (timestamps such as `opened_at`, states that only move forward).",
        "- **Exactly once in effect, at least once in delivery.** An event may arrive more than once; the",
        "  inbox (consumer, event id) makes the second delivery change nothing. Inbox rows are kept for",
        "  `BP_MESSAGE_RETENTION_DAYS` (default 30).",
        "",
        "| type | version | producer | consumers | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in CATALOGUE:
        lines.append(
            f"| `{c.type}` | {c.version} | {c.producer} | {', '.join(c.consumers) or '–'} | {c.description} |"
        )
    for c in CATALOGUE:
        lines += [
            "",
            f"## `{c.type}` v{c.version}",
            "",
            c.description,
            "",
            "| field | type |",
            "| --- | --- |",
        ]
        for name, field in c.schema().fields.items():
            secret = (
                " — one-time secret, redacted from the outbox once sent" if name in c.secret_fields else ""
            )
            lines.append(f"| `{name}` | {_describe_field(field)}{secret} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
