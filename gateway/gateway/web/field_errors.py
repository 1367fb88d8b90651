"""RFC 9457 validation problems from the services, mapped back to form fields in German.

The services name the field as a JSON pointer (``#/apprentice/birth_date``)
and describe the error in English; users read German next to the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Generic marshmallow messages; "{label}" is the field's German label.
_GENERIC = (
    (re.compile(r"missing data|may not be null|required", re.I), "Bitte füllen Sie das Feld „{label}“ aus."),
    (re.compile(r"not a valid date", re.I), "Bitte geben Sie ein gültiges Datum im Format TT.MM.JJJJ ein."),
    (re.compile(r"e-?mail", re.I), "Bitte geben Sie eine gültige E-Mail-Adresse ein."),
    (re.compile(r"length|longer|shorter", re.I), "Die Angabe im Feld „{label}“ ist zu lang oder zu kurz."),
    (
        re.compile(r"must be one of|unknown|not found|does not exist", re.I),
        "Bitte wählen Sie einen gültigen Eintrag für „{label}“ aus.",
    ),
)

# Rules of the training-records domain, by field.
_DOMAIN = {
    "end_date": (
        (
            re.compile(r"after|before|earlier|later", re.I),
            "Das Ende der Ausbildung muss nach dem Beginn liegen.",
        ),
    ),
    "birth_date": (
        (
            re.compile(r"past|future|before|after|old|young|age", re.I),
            "Das Geburtsdatum muss in der Vergangenheit liegen und plausibel sein.",
        ),
    ),
}


@dataclass
class MappedErrors:
    by_field: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


def map_problem_errors(
    errors: Iterable[Mapping[str, Any]],
    labels: Mapping[str, str],
    aliases: Mapping[str, str] | None = None,
) -> MappedErrors:
    """Assign each problem entry to the form field its pointer names.

    ``labels`` maps form field names to German labels; ``aliases`` maps other
    pointer segments (``occupation``) to form fields (``occupation_code``).
    Entries whose pointer names no field become general messages.
    """
    aliases = aliases or {}
    mapped = MappedErrors()
    for entry in errors:
        detail = str(entry.get("detail") or "")
        name = _field_for(str(entry.get("pointer") or ""), labels, aliases)
        if name is None:
            message = "Bitte prüfen Sie Ihre Eingaben."
            if message not in mapped.general:
                mapped.general.append(message)
            continue
        message = german_message(name, labels[name], detail)
        messages = mapped.by_field.setdefault(name, [])
        if message not in messages:
            messages.append(message)
    return mapped


def german_message(name: str, label: str, detail: str) -> str:
    for pattern, message in _DOMAIN.get(name, ()):
        if pattern.search(detail):
            return message
    for pattern, message in _GENERIC:
        if pattern.search(detail):
            return message.format(label=label)
    return f"Bitte prüfen Sie die Angabe im Feld „{label}“."


def _field_for(pointer: str, labels: Mapping[str, str], aliases: Mapping[str, str]) -> str | None:
    segments = [_unescape(part) for part in pointer.lstrip("#").strip("/").split("/") if part]
    # The innermost segment that names a field wins: "#/occupation/code" -> occupation.
    for segment in reversed(segments):
        if segment in labels:
            return segment
        if segment in aliases:
            return aliases[segment]
    return None


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")
