"""Per-request / per-message context that travels from HTTP into events and logs."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# The id of the event being handled, so events raised while handling it name their cause.
causation_id_var: ContextVar[str | None] = ContextVar("causation_id", default=None)
service_var: ContextVar[str | None] = ContextVar("service", default=None)
# Who really acts when a deputy acts for someone (RFC 8693 ``act``): "<deputy> for <whom>".
# Set by chassis.auth for the request; every event emitted meanwhile and every log line carry it.
actor_var: ContextVar[str | None] = ContextVar("actor", default=None)


def current_request_id() -> str:
    """The correlation id of the current flow; a fresh one where none exists yet."""
    value = request_id_var.get()
    if value is None:
        value = str(uuid.uuid4())
        request_id_var.set(value)
    return value
