from __future__ import annotations

from marshmallow import RAISE, Schema


class StrictSchema(Schema):
    """A payload of one version has exactly these fields; changes make a new version."""

    class Meta:
        unknown = RAISE
