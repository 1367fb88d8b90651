"""How the chassis tells kinds of failure apart: bad values and unavailable dependencies.

An HTTP request answers 422 for the first and 503 (with Retry-After) for the
second. A consumer does not count an unavailable database or broker as a failed
attempt: it waits for it to come back instead of dead-lettering the event.
"""

from __future__ import annotations

from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError


def is_bad_value(exc: BaseException) -> bool:
    """The database refused a value itself (numeric overflow, NUL byte, bad encoding)."""
    return isinstance(exc, DataError) or (isinstance(exc, ValueError) and "NUL" in str(exc))


def is_unavailable(exc: BaseException) -> bool:
    """A database or broker that cannot be reached right now."""
    if isinstance(exc, OperationalError | InterfaceError | KombuOperationalError | ConnectionError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
