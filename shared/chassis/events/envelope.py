"""The envelope every integration event travels in (DESIGN §2 rule 2)."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_load, validate

from chassis.context import actor_var, causation_id_var, current_request_id


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    version: int
    occurred_at: str
    producer: str
    correlation_id: str
    causation_id: str | None
    subject: str
    # Left out of the repr: a payload may carry a one-time secret (see the catalogue).
    payload: dict[str, Any] = field(default_factory=dict, repr=False)
    # Set when a deputy acted for someone ("<deputy account> for <person or company>"): every
    # change made so is recorded as such, downstream too. None when the person acted themselves.
    actor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        # The fields as they are (``asdict`` would deep-copy the payload first, for nothing:
        # every relayed event is serialised once).
        return json.dumps(
            {
                "id": self.id,
                "type": self.type,
                "version": self.version,
                "occurred_at": self.occurred_at,
                "producer": self.producer,
                "correlation_id": self.correlation_id,
                "causation_id": self.causation_id,
                "subject": self.subject,
                "actor": self.actor,
                "payload": self.payload,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )


class EnvelopeSchema(Schema):
    """Validates the envelope itself; the payload is checked against its contract."""

    class Meta:
        # Newer producers may add envelope fields; old consumers must not break.
        unknown = EXCLUDE

    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Length(min=1, max=200))
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True)
    producer = fields.String(required=True)
    correlation_id = fields.String(required=True)
    causation_id = fields.String(load_default=None, allow_none=True)
    subject = fields.String(required=True)
    payload = fields.Dict(required=True)
    actor = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))

    @post_load
    def _make(self, data: dict[str, Any], **_: Any) -> Envelope:
        return Envelope(
            id=str(data["id"]),
            type=data["type"],
            version=data["version"],
            occurred_at=data["occurred_at"].isoformat(),
            producer=data["producer"],
            correlation_id=data["correlation_id"],
            causation_id=data.get("causation_id"),
            subject=data["subject"],
            payload=data["payload"],
            actor=data.get("actor"),
        )


def new_envelope(
    *, producer: str, event_type: str, subject: str, payload: dict[str, Any], version: int = 1
) -> Envelope:
    """A fresh envelope whose correlation and causation come from the current context."""
    return Envelope(
        id=str(uuid.uuid4()),
        type=event_type,
        version=version,
        occurred_at=datetime.now(UTC).isoformat(),
        producer=producer,
        correlation_id=current_request_id(),
        causation_id=causation_id_var.get(),
        subject=subject,
        payload=payload,
        actor=actor_var.get(),
    )
