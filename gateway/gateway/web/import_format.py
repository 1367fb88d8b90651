"""The columns of the chamber's import file, as the "Dateiformat" page explains them to clerks.

training-records reads the file (``training_records.domain.import_rows``); this is the
clerk's documentation of it, and the German header for a column its error list names by
its normalised key (``azubi_geburtsdatum`` → "Azubi Geburtsdatum").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImportColumn:
    key: str  # training-records' normalised column name
    label: str  # the header as the sample file writes it
    required: bool
    meaning: str


COLUMNS: tuple[ImportColumn, ...] = (
    ImportColumn(
        "vertragsnummer",
        "Vertragsnummer",
        True,
        "Nummer des Vertrags im Register der Kammer; "
        "an ihr erkennt eine erneute Übermittlung denselben Vertrag.",
    ),
    ImportColumn("identnummer", "Identnummer", True, "Identnummer des Ausbildungsbetriebs."),
    ImportColumn("firma", "Firma", True, "Name des Ausbildungsbetriebs."),
    ImportColumn("strasse", "Straße", False, "Straße und Hausnummer."),
    ImportColumn(
        "plz", "PLZ", False, "Fünfstellige Postleitzahl (eine fehlende führende Null wird ergänzt)."
    ),
    ImportColumn("ort", "Ort", False, "Ort des Betriebs."),
    ImportColumn("firma_email", "Firma E-Mail", True, "E-Mail-Adresse des Betriebs."),
    ImportColumn(
        "zentrale_identnummer",
        "Zentrale Identnummer",
        False,
        "Bei einer Niederlassung: Identnummer der Zentrale (im Register oder weiter oben in der Datei).",
    ),
    ImportColumn("ausbilder_vorname", "Ausbilder Vorname", False, "Ausbilder/-in des Vertrags (optional)."),
    ImportColumn("ausbilder_nachname", "Ausbilder Nachname", False, "Ausbilder/-in des Vertrags (optional)."),
    ImportColumn(
        "ausbilder_email",
        "Ausbilder E-Mail",
        False,
        "Nötig, wenn eine Ausbilderin oder ein Ausbilder angegeben ist.",
    ),
    ImportColumn("ausbildereignung", "Ausbildereignung", False, "ja oder nein."),
    ImportColumn("azubi_vorname", "Azubi Vorname", True, "Vorname der/des Auszubildenden."),
    ImportColumn("azubi_nachname", "Azubi Nachname", True, "Nachname der/des Auszubildenden."),
    ImportColumn("azubi_geburtsdatum", "Azubi Geburtsdatum", True, "TT.MM.JJJJ."),
    ImportColumn("azubi_email", "Azubi E-Mail", True, "E-Mail-Adresse der/des Auszubildenden."),
    ImportColumn("beruf", "Beruf", True, "Berufsnummer des Ausbildungsberufs, z. B. 78100."),
    ImportColumn("fachrichtung", "Fachrichtung", False, "Nur bei Berufen mit Fachrichtungen, dann Pflicht."),
    ImportColumn("beginn", "Beginn", True, "Beginn der Ausbildung, TT.MM.JJJJ."),
    ImportColumn("ende", "Ende", True, "Ende der Ausbildung, TT.MM.JJJJ."),
    ImportColumn("probezeit_monate", "Probezeit Monate", True, "1 bis 4."),
    ImportColumn("teilzeit", "Teilzeit", False, "ja oder nein (leer: nein)."),
    ImportColumn("verkuerzung_monate", "Verkürzung Monate", False, "0 bis 12 (leer: 0)."),
    ImportColumn("eingetragen_am", "Eingetragen am", False, "Eintragungsdatum, TT.MM.JJJJ (leer: heute)."),
)

LABELS = {column.key: column.label for column in COLUMNS}


def column_label(key: str | None) -> str:
    """The header of a column the error list names by key; unknown keys as they are."""
    return LABELS.get(key or "", key or "–")
