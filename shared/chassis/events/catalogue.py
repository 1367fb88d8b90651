"""The event catalogue: type, version, producer, consumers and payload schema.

This module is the single source; ``docs/events.md`` is rendered from it
(``python -m chassis.events.catalogue``) and tests keep both, and every
service's producers and consumers, true to it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields

from chassis.contracts import documents, identity, training


@dataclass(frozen=True)
class EventContract:
    type: str
    version: int
    producer: str
    consumers: tuple[str, ...]
    schema: type[Schema]
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
        "A chamber clerk entered a training contract in the register (state 'eingetragen').",
    ),
    EventContract(
        "identity.apprentice_account.prepared",
        1,
        "identity",
        ("documents", "training-records"),
        identity.ApprenticeAccountPreparedV1,
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
        "A person activated their account with Azubinummer and activation code.",
    ),
    EventContract(
        "identity.password_reset.requested",
        1,
        "identity",
        ("notifications",),
        identity.PasswordResetRequestedV1,
        "An active account asked for a new password (Passwort vergessen); carries the "
        "one-time reset link for the mail.",
        secret_fields=("reset_url",),
    ),
    EventContract(
        "documents.document.issued",
        1,
        "documents",
        ("notifications",),
        documents.DocumentIssuedV1,
        "A document (e.g. Eintragungsbestätigung) is ready for its recipient.",
    ),
    EventContract(
        "documents.document.opened",
        1,
        "documents",
        ("training-records",),
        documents.DocumentOpenedV1,
        "A document was opened for the first time; date and time are recorded.",
    ),
)

_BY_KEY = {(c.type, c.version): c for c in CATALOGUE}


REDACTED = "[redacted]"


class UnknownEvent(LookupError):
    pass


def contract_for(event_type: str, version: int) -> EventContract:
    try:
        return _BY_KEY[(event_type, version)]
    except KeyError:
        raise UnknownEvent(f"{event_type} v{version} is not in the event catalogue") from None


def validate_payload(event_type: str, version: int, payload: dict[str, Any]) -> dict[str, Any]:
    """Load a payload with its contract; raises ``ValidationError`` or ``UnknownEvent``."""
    return contract_for(event_type, version).schema().load(payload)


def check_outgoing(event_type: str, version: int, payload: dict[str, Any]) -> None:
    errors = contract_for(event_type, version).schema().validate(payload)
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
