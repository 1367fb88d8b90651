"""Marshmallow fields every service's API uses for untrusted input."""

from __future__ import annotations

import unicodedata
from typing import Any

from marshmallow import fields


class Text(fields.String):
    """A string with surrounding whitespace removed; blank and control characters are refused.

    Control characters (NUL above all, which PostgreSQL cannot store) have no
    place in names, numbers or codes, in bodies or in query strings.
    """

    default_error_messages = {  # noqa: RUF012 - marshmallow's own convention
        "blank": "Must not be blank.",
        "control": "Must not contain control characters.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise self.make_error("blank")
        if any(unicodedata.category(char) == "Cc" for char in text):
            raise self.make_error("control")
        return text
