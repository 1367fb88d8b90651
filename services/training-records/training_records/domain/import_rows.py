"""The chamber's data import (Datenübermittlung): the column spec and one row into a typed record.

Plain Python only (DESIGN §2 rule 8): the adapter ``training_records.adapters.import_file`` reads a
CSV or XLSX file into rows of text keyed by column name; this module says which columns there are
(with the header variants clerks write), turns one row into an :class:`ImportRecord` or a list of
:class:`RowError` with German messages, finds rows that repeat within one file, and fingerprints a
record so that a re-import can tell unchanged from changed data.

One row is one training contract, with its company and, optionally, its trainer. The rules of the
register (durations, ages, probation range, known occupations, master data) belong to the domain
model; this module checks only what a single cell can tell: presence, syntax, length and range of
dates. ``docs/import-format.md`` documents the columns for clerks.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Protocol

# -- the columns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the import file.

    ``name`` is the normalised header (the key of a row's values), ``label`` the German header as
    the documentation and the messages write it. A ``required`` column must be in the header and
    filled in every row; an optional one may be missing or empty.
    """

    name: str
    label: str
    required: bool
    max_length: int
    aliases: tuple[str, ...] = ()


NAME_MAX = 100  # first and last names, city, specialism (as the API: ApprenticeInputSchema)
COMPANY_NAME_MAX = 200
STREET_MAX = 200
EMAIL_MAX = 254  # RFC 5321 path limit
NUMBER_MAX = 20  # Identnummer, occupation code (as the API)
CONTRACT_KEY_MAX = 40
# Dates, flags and month counts are checked by their format; the length cap only stops junk.
TYPED_MAX = 40


def _person_aliases(suffix: str, *prefixes: str) -> tuple[str, ...]:
    """``ausbilder_vorname``, ``vorname_ausbilder``, … for every prefix (normalised spelling)."""
    return tuple(alias for prefix in prefixes for alias in (f"{prefix}_{suffix}", f"{suffix}_{prefix}"))


_TRAINER = ("ausbilder", "ausbilder_in", "ausbilderin")
_APPRENTICE = ("azubi", "auszubildende", "auszubildender", "auszubildende_r")

COLUMNS: tuple[Column, ...] = (
    Column(
        "vertragsnummer",
        "Vertragsnummer",
        True,
        CONTRACT_KEY_MAX,
        ("vertragsnr", "vertrags_nr", "vertrag_nr", "vertrag_nummer", "ausbildungsvertragsnummer"),
    ),
    Column(
        "identnummer",
        "Identnummer",
        True,
        NUMBER_MAX,
        ("identnr", "ident_nr", "ident", "ihk_identnummer", "betrieb_identnummer", "firma_identnummer"),
    ),
    Column(
        "firma",
        "Firma",
        True,
        COMPANY_NAME_MAX,
        ("firmenname", "firma_name", "name_firma", "betrieb", "betriebsname", "ausbildungsbetrieb"),
    ),
    Column(
        "strasse",
        "Straße",
        False,
        STREET_MAX,
        ("str", "strasse_nr", "strasse_hausnr", "strasse_hausnummer", "strasse_und_hausnummer", "strase"),
    ),
    Column("plz", "PLZ", False, TYPED_MAX, ("postleitzahl",)),
    Column("ort", "Ort", False, NAME_MAX, ("stadt",)),
    Column(
        "firma_email",
        "Firma E-Mail",
        True,
        EMAIL_MAX,
        ("firmen_email", "email_firma", "betrieb_email", "email_betrieb", "betriebs_email"),
    ),
    Column(
        "zentrale_identnummer",
        "Zentrale Identnummer",
        False,
        NUMBER_MAX,
        (
            "zentrale",
            "identnummer_zentrale",
            "hauptsitz",
            "hauptsitz_identnummer",
            "identnummer_hauptsitz",
        ),
    ),
    Column("ausbilder_vorname", "Ausbilder Vorname", False, NAME_MAX, _person_aliases("vorname", *_TRAINER)),
    Column(
        "ausbilder_nachname",
        "Ausbilder Nachname",
        False,
        NAME_MAX,
        _person_aliases("nachname", *_TRAINER) + _person_aliases("name", *_TRAINER),
    ),
    Column("ausbilder_email", "Ausbilder E-Mail", False, EMAIL_MAX, _person_aliases("email", *_TRAINER)),
    Column(
        "ausbildereignung",
        "Ausbildereignung",
        False,
        TYPED_MAX,
        ("aevo", "ausbildereignung_ja_nein", "ausbildereignung_vorhanden", "ausbilder_eignung"),
    ),
    Column("azubi_vorname", "Azubi Vorname", True, NAME_MAX, _person_aliases("vorname", *_APPRENTICE)),
    Column(
        "azubi_nachname",
        "Azubi Nachname",
        True,
        NAME_MAX,
        _person_aliases("nachname", *_APPRENTICE) + _person_aliases("name", *_APPRENTICE),
    ),
    Column(
        "azubi_geburtsdatum",
        "Azubi Geburtsdatum",
        True,
        TYPED_MAX,
        _person_aliases("geburtsdatum", *_APPRENTICE) + _person_aliases("geb_datum", *_APPRENTICE),
    ),
    Column("azubi_email", "Azubi E-Mail", True, EMAIL_MAX, _person_aliases("email", *_APPRENTICE)),
    Column(
        "beruf",
        "Beruf",
        True,
        NUMBER_MAX,
        ("berufsnummer", "berufsnr", "beruf_nr", "beruf_nummer", "berufskennziffer", "ausbildungsberuf"),
    ),
    Column("fachrichtung", "Fachrichtung", False, NAME_MAX, ("fachrichtung_schwerpunkt", "schwerpunkt")),
    Column(
        "beginn",
        "Beginn",
        True,
        TYPED_MAX,
        ("ausbildungsbeginn", "vertragsbeginn", "beginn_der_ausbildung", "beginndatum"),
    ),
    Column(
        "ende",
        "Ende",
        True,
        TYPED_MAX,
        ("ausbildungsende", "vertragsende", "ende_der_ausbildung", "enddatum"),
    ),
    Column(
        "probezeit_monate",
        "Probezeit Monate",
        True,
        TYPED_MAX,
        ("probezeit", "probezeit_in_monaten", "monate_probezeit"),
    ),
    Column("teilzeit", "Teilzeit", False, TYPED_MAX, ("teilzeitausbildung",)),
    Column(
        "verkuerzung_monate",
        "Verkürzung Monate",
        False,
        TYPED_MAX,
        ("verkuerzung", "verkuerzung_in_monaten", "verkurzung", "verkurzung_monate", "monate_verkuerzung"),
    ),
    Column(
        "eingetragen_am",
        "Eingetragen am",
        False,
        TYPED_MAX,
        ("eintragungsdatum", "eingetragen", "datum_der_eintragung", "eintragung_am"),
    ),
)

COLUMNS_BY_NAME: Mapping[str, Column] = {column.name: column for column in COLUMNS}
REQUIRED_COLUMNS: tuple[str, ...] = tuple(column.name for column in COLUMNS if column.required)
TRAINER_COLUMNS: tuple[str, ...] = (
    "ausbilder_vorname",
    "ausbilder_nachname",
    "ausbilder_email",
    "ausbildereignung",
)


def _header_key(text: str) -> str:
    """Lower case, umlauts spelt out, hints in brackets and marks dropped, words joined by ``_``."""
    key = unicodedata.normalize("NFC", text).casefold()  # casefold turns ß into ss
    key = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", key)  # "Beginn (TT.MM.JJJJ)", "Teilzeit [ja/nein]"
    for umlaut, spelt in (("ä", "ae"), ("ö", "oe"), ("ü", "ue")):
        key = key.replace(umlaut, spelt)
    words = re.findall(r"[a-z0-9]+", key)
    joined: list[str] = []
    for word in words:  # "E-Mail" and "e mail" are "email"
        if word == "mail" and joined and joined[-1] == "e":
            joined[-1] = "email"
        else:
            joined.append(word)
    return "_".join(joined)


def _alias_table(columns: Iterable[Column]) -> dict[str, str]:
    table: dict[str, str] = {}
    for column in columns:
        for alias in (column.name, column.label, *column.aliases):
            key = _header_key(alias)
            if table.setdefault(key, column.name) != column.name:
                raise ValueError(f"header {alias!r} would mean both {table[key]} and {column.name}")
    return table


ALIASES: Mapping[str, str] = _alias_table(COLUMNS)


def canonical_column(header: str) -> str:
    """The column name a header cell means (``"Postleitzahl"`` → ``"plz"``).

    Headers that name no known column keep their normalised spelling, so that the caller can
    still tell them apart; an empty or blank header gives ``""``.
    """
    key = _header_key(header)
    return ALIASES.get(key, key)


def column_label(name: str) -> str:
    """The German header of a column, or the name itself for columns the import does not know."""
    column = COLUMNS_BY_NAME.get(name)
    return column.label if column else name


# -- the records ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ImportCompany:
    company_number: str  # Identnummer
    name: str
    email: str
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    head_office_number: str | None = None  # the head office's Identnummer if this is a branch


@dataclass(frozen=True, kw_only=True)
class ImportTrainer:
    first_name: str
    last_name: str
    email: str
    qualified: bool | None = None  # Ausbildereignung; None where the file does not say


@dataclass(frozen=True, kw_only=True)
class ImportApprentice:
    first_name: str
    last_name: str
    birth_date: date
    email: str


FINGERPRINT_VERSION = 1  # bump when the canonical form changes (every fingerprint changes with it)


@dataclass(frozen=True, kw_only=True)
class ImportRecord:
    """One row of the import file: a training contract with its company and optional trainer.

    ``line`` is where the row starts in the file; it is not part of the data (equality and the
    fingerprint ignore it).
    """

    line: int = field(compare=False)
    source_contract_number: str  # Vertragsnummer: the source register's key of the contract
    company: ImportCompany
    trainer: ImportTrainer | None
    apprentice: ImportApprentice
    occupation_code: str
    specialism: str | None
    start_date: date
    end_date: date
    probation_months: int
    part_time: bool = False
    shortening_months: int = 0
    registered_on: date | None = None

    def canonical_json(self) -> str:
        """The record's data (not ``line``) as JSON with sorted keys, no spaces, dates ISO 8601."""
        data: dict[str, Any] = asdict(self)
        del data["line"]
        data["v"] = FINGERPRINT_VERSION
        return json.dumps(
            data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_value
        )

    def fingerprint(self) -> str:
        """sha256 (hex) of :meth:`canonical_json`: equal for equal data, whatever line it came from."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def _json_value(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def fingerprint(record: ImportRecord) -> str:
    return record.fingerprint()


# -- errors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """Why one cell (``field``: the column name) of one row (``line``) cannot be imported.

    ``message_de`` is for the clerk; ``code`` and the English ``detail`` are for the API.
    """

    line: int
    field: str
    code: str
    message_de: str
    detail: str = ""

    @property
    def label(self) -> str:
        """The column's German header, for "Zeile 7, Beginn: …"."""
        return column_label(self.field)


# Codes of RowError; docs/import-format.md explains each.
REQUIRED = "required"
TOO_LONG = "too_long"
INVALID_CHARACTERS = "invalid_characters"
INVALID_NUMBER = "invalid_number"
INVALID_POSTAL_CODE = "invalid_postal_code"
INVALID_EMAIL = "invalid_email"
INVALID_DATE = "invalid_date"
DATE_OUT_OF_RANGE = "date_out_of_range"
INVALID_BOOLEAN = "invalid_boolean"
INVALID_INTEGER = "invalid_integer"
OWN_HEAD_OFFICE = "own_head_office"
DUPLICATE_CONTRACT_NUMBER = "duplicate_contract_number"
DUPLICATE_ROW = "duplicate_row"

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)

_GERMAN_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_NUMBER = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]*")  # as the API's company_number
_CONTRACT_KEY = re.compile(r"[0-9A-Za-z][0-9A-Za-z./_-]*")
_OCCUPATION = re.compile(r"[0-9A-Za-z]+")
_POSTAL_CODE = re.compile(r"[0-9]{4,5}")
_MONTHS = re.compile(r"[0-9]{1,3}")
# A reasonable check, not RFC 5322: an ASCII local part of dot-separated atoms (≤ 64), and a
# domain of dot-separated labels (letters of any script, digits, inner hyphens) ending in a
# top-level domain of letters.
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_EMAIL_LABEL = re.compile(r"[^\W_](?:[^\W_]|-){0,62}(?<!-)")
_EMAIL_TLD = re.compile(r"[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59}")

TRUE_WORDS = frozenset({"ja", "j", "x", "1", "true", "wahr"})
FALSE_WORDS = frozenset({"nein", "n", "0", "false", "falsch"})


class _Row:
    """Reads the cells of one row and collects every error, so that a row reports them all."""

    def __init__(self, values: Mapping[str, str], line: int) -> None:
        self.values = values
        self.line = line
        self.errors: list[RowError] = []

    def fail(self, column: str, code: str, message_de: str, detail: str) -> None:
        self.errors.append(RowError(self.line, column, code, message_de, detail))

    def text(self, column: str, *, required: bool | None = None) -> str | None:
        """The cleaned cell, None if empty; records ``required``, length and character errors."""
        spec = COLUMNS_BY_NAME[column]
        value = clean(self.values.get(column, ""))
        if not value:
            if spec.required if required is None else required:
                self.fail(column, REQUIRED, "Pflichtangabe fehlt.", "A value is required.")
            return None
        if not value.isprintable() and any(unicodedata.category(char) == "Cc" for char in value):
            self.fail(
                column,
                INVALID_CHARACTERS,
                "Enthält unzulässige Steuerzeichen.",
                "Contains control characters.",
            )
            return None
        if len(value) > spec.max_length:
            self.fail(
                column,
                TOO_LONG,
                f"Zu lang: höchstens {spec.max_length} Zeichen.",
                f"Longer than {spec.max_length} characters.",
            )
            return None
        return value

    def matching(
        self, column: str, pattern: re.Pattern[str], message_de: str, detail: str, **kwargs: bool
    ) -> str | None:
        value = self.text(column, **kwargs)
        if value is not None and not pattern.fullmatch(value):
            self.fail(column, INVALID_NUMBER, message_de, detail)
            return None
        return value

    def number(self, column: str, **kwargs: bool) -> str | None:
        return self.matching(
            column,
            _NUMBER,
            "Ungültige Nummer: nur Buchstaben, Ziffern und Bindestriche.",
            "Only letters, digits and hyphens.",
            **kwargs,
        )

    def postal_code(self, column: str) -> str | None:
        value = self.text(column)
        if value is None:
            return None
        if not _POSTAL_CODE.fullmatch(value):
            self.fail(
                column,
                INVALID_POSTAL_CODE,
                "Postleitzahl ungültig: erwartet fünf Ziffern.",
                "A German postal code has five digits.",
            )
            return None
        # Excel drops the leading zero of 01067 (Dresden) when it takes the PLZ for a number.
        return value.zfill(5)

    def email(self, column: str, **kwargs: bool) -> str | None:
        value = self.text(column, **kwargs)
        if value is not None and not is_email(value):
            self.fail(column, INVALID_EMAIL, "E-Mail-Adresse ungültig.", "Not a valid e-mail address.")
            return None
        return value

    def day(self, column: str, **kwargs: bool) -> date | None:
        value = self.text(column, **kwargs)
        if value is None:
            return None
        if match := _GERMAN_DATE.fullmatch(value):
            day, month, year = (int(part) for part in match.groups())
        elif match := _ISO_DATE.fullmatch(value):
            year, month, day = (int(part) for part in match.groups())
        else:
            self.fail(
                column,
                INVALID_DATE,
                "Datum ungültig: erwartet TT.MM.JJJJ.",
                "Not a date: expected DD.MM.YYYY or YYYY-MM-DD.",
            )
            return None
        try:
            parsed = date(year, month, day)
        except ValueError:
            self.fail(
                column,
                INVALID_DATE,
                f"Datum ungültig: den {value} gibt es nicht.",
                f"No such day: {value}.",
            )
            return None
        if not EARLIEST_DATE <= parsed <= LATEST_DATE:
            self.fail(
                column,
                DATE_OUT_OF_RANGE,
                "Datum ungültig: erwartet ein Jahr von 1900 bis 2100.",
                "The year must be from 1900 to 2100.",
            )
            return None
        return parsed

    def flag(self, column: str) -> bool | None:
        value = self.text(column)
        if value is None:
            return None
        word = value.casefold()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        self.fail(
            column,
            INVALID_BOOLEAN,
            "Erwartet „ja“ oder „nein“.",
            "Expected ja or nein (also j/n, x, 1/0, true/false).",
        )
        return None

    def months(self, column: str) -> int | None:
        value = self.text(column)
        if value is None:
            return None
        if not _MONTHS.fullmatch(value):
            self.fail(
                column,
                INVALID_INTEGER,
                "Erwartet eine ganze Zahl von Monaten (z. B. 4).",
                "Expected a whole number of months (0 to 999).",
            )
            return None
        return int(value)


def clean(value: str) -> str:
    """A cell as the import compares and stores it.

    Unicode NFC (a macOS "ü" is one character), invisible format characters (zero-width spaces,
    soft hyphens, a stray BOM) removed, every run of whitespace (line breaks within a quoted cell
    included) one space, none at either end.
    """
    if not value.isascii():  # ASCII is NFC and has no format characters: the fast path
        value = unicodedata.normalize("NFC", value)
        if not value.isprintable():  # only then can a format character be in it
            value = "".join(char for char in value if unicodedata.category(char) != "Cf")
    return " ".join(value.split())


def is_email(value: str) -> bool:
    if len(value) > EMAIL_MAX or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    if len(local) > 64 or not _EMAIL_LOCAL.fullmatch(local):
        return False
    labels = domain.split(".")
    return (
        len(labels) >= 2
        and all(_EMAIL_LABEL.fullmatch(label) for label in labels)
        and bool(_EMAIL_TLD.fullmatch(labels[-1]))
    )


def parse_row(row_values: Mapping[str, str], line: int) -> ImportRecord | list[RowError]:
    """One row (values keyed by column name) into a record, or every error the row has.

    Columns the import does not know are ignored; a column missing from the mapping counts as
    empty. Dates accept ``TT.MM.JJJJ`` (day and month also with one digit) and ``JJJJ-MM-TT``.
    """
    row = _Row(row_values, line)
    contract_key = row.matching(
        "vertragsnummer",
        _CONTRACT_KEY,
        "Ungültige Vertragsnummer: nur Buchstaben, Ziffern und . / _ -",
        "Only letters, digits and . / _ -",
    )
    company_number = row.number("identnummer")
    company_name = row.text("firma")
    street = row.text("strasse")
    postal_code = row.postal_code("plz")
    city = row.text("ort")
    company_email = row.email("firma_email")
    head_office = row.number("zentrale_identnummer")
    if head_office is not None and head_office == company_number:
        row.fail(
            "zentrale_identnummer",
            OWN_HEAD_OFFICE,
            "Ein Betrieb kann nicht seine eigene Zentrale sein.",
            "A company cannot be its own head office.",
        )

    trainer_given = any(clean(row_values.get(column, "")) for column in TRAINER_COLUMNS)
    trainer_first = row.text("ausbilder_vorname", required=trainer_given)
    trainer_last = row.text("ausbilder_nachname", required=trainer_given)
    trainer_email = row.email("ausbilder_email", required=trainer_given)
    qualified = row.flag("ausbildereignung")

    first_name = row.text("azubi_vorname")
    last_name = row.text("azubi_nachname")
    birth_date = row.day("azubi_geburtsdatum")
    apprentice_email = row.email("azubi_email")

    occupation = row.matching(
        "beruf",
        _OCCUPATION,
        "Ungültige Berufsnummer: erwartet z. B. 78100.",
        "Expected an occupation code such as 78100.",
    )
    specialism = row.text("fachrichtung")
    start_date = row.day("beginn")
    end_date = row.day("ende")
    probation = row.months("probezeit_monate")
    part_time = row.flag("teilzeit")
    shortening = row.months("verkuerzung_monate")
    registered_on = row.day("eingetragen_am")

    if row.errors:
        return row.errors
    # Every required value is present (or an error was recorded and returned above).
    assert contract_key and company_number and company_name and company_email
    assert first_name and last_name and birth_date and apprentice_email
    assert occupation and start_date and end_date and probation is not None
    trainer = None
    if trainer_given:
        assert trainer_first and trainer_last and trainer_email
        trainer = ImportTrainer(
            first_name=trainer_first, last_name=trainer_last, email=trainer_email, qualified=qualified
        )
    return ImportRecord(
        line=line,
        source_contract_number=contract_key,
        company=ImportCompany(
            company_number=company_number,
            name=company_name,
            email=company_email,
            street=street,
            postal_code=postal_code,
            city=city,
            head_office_number=head_office,
        ),
        trainer=trainer,
        apprentice=ImportApprentice(
            first_name=first_name, last_name=last_name, birth_date=birth_date, email=apprentice_email
        ),
        occupation_code=occupation,
        specialism=specialism,
        start_date=start_date,
        end_date=end_date,
        probation_months=probation,
        part_time=bool(part_time),
        shortening_months=shortening or 0,
        registered_on=registered_on,
    )


# -- the whole file ---------------------------------------------------------------------------


class SourceRowLike(Protocol):
    """What :func:`find_duplicates` reads of a row (``adapters.import_file.SourceRow`` is one)."""

    @property
    def line(self) -> int: ...

    @property
    def values(self) -> Mapping[str, str]: ...


def find_duplicates(rows: Iterable[SourceRowLike]) -> list[RowError]:
    """Rows that repeat an earlier row of the same file: one error on each later row.

    A row equal to an earlier one in every column of the import (after cleaning) is a
    ``duplicate_row``; otherwise a row whose Vertragsnummer an earlier row already has is a
    ``duplicate_contract_number``. Rows without a Vertragsnummer are only compared in full
    (:func:`parse_row` reports the missing number).
    """
    errors: list[RowError] = []
    first_by_key: dict[str, int] = {}
    first_by_content: dict[tuple[str, ...], int] = {}
    for row in rows:
        content = tuple(clean(row.values.get(column.name, "")) for column in COLUMNS)
        if not any(content):
            continue
        key = clean(row.values.get("vertragsnummer", ""))
        if (earlier := first_by_content.get(content)) is not None:
            errors.append(
                RowError(
                    row.line,
                    "vertragsnummer",
                    DUPLICATE_ROW,
                    f"Zeile doppelt: gleicher Inhalt wie Zeile {earlier}.",
                    f"Same content as line {earlier}.",
                )
            )
        elif key and (earlier := first_by_key.get(key)) is not None:
            errors.append(
                RowError(
                    row.line,
                    "vertragsnummer",
                    DUPLICATE_CONTRACT_NUMBER,
                    f"Vertragsnummer doppelt in Zeile {earlier}.",
                    f"The contract number already appears in line {earlier}.",
                )
            )
        first_by_content.setdefault(content, row.line)
        if key:
            first_by_key.setdefault(key, row.line)
    return errors


def parse_rows(rows: Sequence[SourceRowLike]) -> tuple[list[ImportRecord], list[RowError]]:
    """Every row parsed, plus the duplicates; a duplicate row yields no record.

    Errors come ordered by line, then in column order.
    """
    duplicates = find_duplicates(rows)
    duplicate_lines = {error.line for error in duplicates}
    records: list[ImportRecord] = []
    errors: list[RowError] = list(duplicates)
    for row in rows:
        parsed = parse_row(row.values, row.line)
        if isinstance(parsed, ImportRecord):
            if row.line not in duplicate_lines:
                records.append(parsed)
        else:
            errors.extend(parsed)
    order = {column.name: index for index, column in enumerate(COLUMNS)}
    errors.sort(key=lambda error: (error.line, order.get(error.field, len(order))))
    return records, errors
