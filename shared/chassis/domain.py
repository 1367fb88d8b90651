"""Errors a domain or use case raises; the entrypoints turn them into problem+json.

Pure Python so that ``domain/`` can raise them without importing Flask. The app
factory (``chassis.app``) maps each to its RFC 9457 answer once, for every service:

- ``RuleViolation`` -> 422, one entry per offending field (JSON pointer);
- ``Forbidden`` -> 403;
- ``NotFound`` -> 404 (also where existence itself is private);
- ``Conflict`` -> 409.
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of the errors the chassis knows how to answer."""

    status = 400
    title = "Bad Request"
    problem_type = "about:blank"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    problem_type = "forbidden"

    def __init__(self, detail: str = "You may not do this.") -> None:
        super().__init__(detail)


class NotFound(DomainError):
    status = 404
    title = "Not Found"
    problem_type = "not-found"

    def __init__(self, detail: str = "Not found.") -> None:
        super().__init__(detail)


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    problem_type = "conflict"


FieldPath = tuple[str, ...]


class RuleViolation(DomainError):
    """One or more business rules failed; ``errors`` maps a field path to its message."""

    status = 422
    title = "Unprocessable Content"
    problem_type = "validation-error"

    def __init__(
        self, errors: Mapping[FieldPath, str] | Mapping[str, str] | Mapping[FieldPath | str, str]
    ) -> None:
        self.errors: dict[FieldPath, str] = {
            (path,) if isinstance(path, str) else tuple(path): message for path, message in errors.items()
        }
        super().__init__("; ".join(f"{'.'.join(p)}: {m}" for p, m in self.errors.items()))

    def nested(self) -> dict[str, object]:
        """``{("company", "name"): msg}`` -> ``{"company": {"name": [msg]}}``, marshmallow's shape."""
        messages: dict[str, object] = {}
        for path, message in self.errors.items():
            node = messages
            for part in path[:-1]:
                child = node.setdefault(part, {})
                assert isinstance(child, dict)
                node = child
            leaf = node.setdefault(path[-1], [])
            assert isinstance(leaf, list)
            leaf.append(message)
        return messages
