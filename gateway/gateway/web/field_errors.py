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

# Rules of the training-records domain, by field; the first pattern that matches wins.
_DOMAIN = {
    "end_date": (
        (
            re.compile(r"extension must end after", re.I),
            "Das neue Ende muss nach dem bisherigen Ende liegen.",
        ),
        (
            re.compile(r"shortening must end before", re.I),
            "Das neue Ende muss vor dem bisherigen Ende liegen.",
        ),
        (
            re.compile(r"shortened by at most", re.I),
            "Ein Ausbildungsverhältnis kann insgesamt um höchstens 12 Monate verkürzt werden.",
        ),
        (
            re.compile(r"after the day training resumes", re.I),
            "Das neue Ende muss nach dem Tag der Fortsetzung liegen.",
        ),
        (
            re.compile(r"longer than .* allows", re.I),
            "Die Ausbildung ist für diesen Beruf zu lang (Regeldauer, Teilzeit und Verlängerung berücksichtigt).",
        ),
        (
            re.compile(r"shorter than the standard", re.I),
            "Die Ausbildung ist für diesen Beruf zu kurz (Regeldauer abzüglich der Verkürzung).",
        ),
        (re.compile(r"cannot last", re.I), "Ein Ausbildungsverhältnis dauert weniger als sechs Jahre."),
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
    "effective_on": (
        (
            re.compile(r"interruption must begin within", re.I),
            "Die Unterbrechung muss innerhalb der Ausbildungszeit beginnen.",
        ),
        (
            re.compile(r"cannot resume before", re.I),
            "Die Ausbildung kann nicht vor Beginn der Unterbrechung fortgesetzt werden.",
        ),
        (
            re.compile(r"cannot be completed before", re.I),
            "Die Ausbildung kann nicht vor ihrem Beginn abgeschlossen werden.",
        ),
        (
            re.compile(r"cannot end before it was entered", re.I),
            "Das Ausbildungsverhältnis kann nicht vor seiner Eintragung und seinem Beginn enden.",
        ),
        (
            re.compile(r"must be before the end date", re.I),
            "Eine vorzeitige Lösung muss vor dem Ende der Ausbildung liegen.",
        ),
    ),
    "reason": ((re.compile(r"probation", re.I), "Das Datum liegt nicht in der Probezeit."),),
    "probation_months": (
        (re.compile(r"probation period lasts", re.I), "Die Probezeit beträgt 1 bis 4 Monate (BBiG § 20)."),
    ),
    "shortened_by_months": ((re.compile(r"shortening is", re.I), "Die Verkürzung beträgt 0 bis 12 Monate."),),
    "specialism": (
        (
            re.compile(r"requires a specialism", re.I),
            "Bitte wählen Sie die Fachrichtung des Ausbildungsberufs.",
        ),
        (re.compile(r"has no specialisms", re.I), "Der gewählte Ausbildungsberuf hat keine Fachrichtungen."),
        (
            re.compile(r"not a specialism", re.I),
            "Diese Fachrichtung gehört nicht zum gewählten Ausbildungsberuf.",
        ),
    ),
    "trainer_id": (
        (re.compile(r"already assigned", re.I), "Diese/r Ausbilder/-in ist bereits zugeordnet."),
        (re.compile(r"removed", re.I), "Diese/r Ausbilder/-in wurde entfernt."),
        (
            re.compile(r"belong to the contract's company", re.I),
            "Die/der Ausbilder/-in gehört nicht zum Ausbildungsbetrieb.",
        ),
        (
            re.compile(r"running contracts", re.I),
            "Bitte ordnen Sie die laufenden Ausbildungsverhältnisse zuerst einer/einem anderen Ausbilder/-in zu.",
        ),
    ),
    "email": (
        (
            re.compile(r"already has a trainer", re.I),
            "Im Betrieb gibt es bereits eine/n Ausbilder/-in mit dieser E-Mail-Adresse.",
        ),
    ),
    "file": (
        (
            re.compile(r"only \.csv and \.xlsx", re.I),
            "Bitte wählen Sie eine CSV- oder XLSX-Datei (.csv, .xlsx).",
        ),
        (re.compile(r"empty", re.I), "Die Datei ist leer."),
        (re.compile(r"larger than", re.I), "Die Datei ist zu groß (höchstens 64 MB)."),
    ),
    "postal_code": ((re.compile(r"five digits", re.I), "Die Postleitzahl hat fünf Ziffern."),),
    "places": ((re.compile(r"999|range|between", re.I), "Bitte geben Sie eine Zahl von 0 bis 999 ein."),),
    "website": ((re.compile(r"url", re.I), "Bitte geben Sie die Adresse mit https:// an."),),
}

# Problems about the request as a whole (no form field), by the pointer's last segment.
_GENERAL = {
    "state": (
        (
            re.compile(r"has ended", re.I),
            "Das Ausbildungsverhältnis ist beendet und kann nicht mehr geändert werden.",
        ),
        (re.compile(r"already interrupted", re.I), "Das Ausbildungsverhältnis ist bereits unterbrochen."),
        (
            re.compile(r"only an interrupted", re.I),
            "Nur ein unterbrochenes Ausbildungsverhältnis kann fortgesetzt werden.",
        ),
    ),
    "trainer_id": (
        (
            re.compile(r"running contracts", re.I),
            "Diese/r Ausbilder/-in ist noch laufenden Ausbildungsverhältnissen zugeordnet. "
            "Bitte ordnen Sie diese zuerst einer/einem anderen Ausbilder/-in zu.",
        ),
    ),
}

GENERAL_MESSAGE = "Bitte prüfen Sie Ihre Eingaben."


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
        pointer = str(entry.get("pointer") or "")
        name = _field_for(pointer, labels, aliases)
        if name is None:
            message = general_message(pointer, detail)
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


def general_message(pointer: str, detail: str) -> str:
    """A German sentence for a problem that names no field of the form."""
    segments = [_unescape(part) for part in pointer.lstrip("#").strip("/").split("/") if part]
    for pattern, message in _GENERAL.get(segments[-1] if segments else "", ()):
        if pattern.search(detail):
            return message
    return GENERAL_MESSAGE


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
