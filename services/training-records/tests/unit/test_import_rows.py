"""The import's column spec and row parsing (domain.import_rows): pure functions, no file, no database."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

import pytest

from training_records.domain import import_rows
from training_records.domain.import_rows import (
    COLUMNS,
    REQUIRED_COLUMNS,
    TRAINER_COLUMNS,
    Column,
    ImportApprentice,
    ImportCompany,
    ImportRecord,
    ImportTrainer,
    RowError,
    canonical_column,
    clean,
    column_label,
    find_duplicates,
    fingerprint,
    is_email,
    parse_row,
    parse_rows,
)


def values(**overrides: str) -> dict[str, str]:
    """A complete, valid row as the file reader hands it over (every value text)."""
    row = {
        "vertragsnummer": "V-2025-0101",
        "identnummer": "4711001",
        "firma": "Muster Maschinenbau GmbH",
        "strasse": "Industriestraße 12",
        "plz": "34117",
        "ort": "Kassel",
        "firma_email": "ausbildung@muster-maschinenbau.example",
        "zentrale_identnummer": "",
        "ausbilder_vorname": "Anna",
        "ausbilder_nachname": "Ausbilder",
        "ausbilder_email": "ausbilder@muster-maschinenbau.example",
        "ausbildereignung": "ja",
        "azubi_vorname": "Jonas",
        "azubi_nachname": "Becker",
        "azubi_geburtsdatum": "14.03.2008",
        "azubi_email": "jonas.becker@mail.example",
        "beruf": "25400",
        "fachrichtung": "",
        "beginn": "01.09.2025",
        "ende": "28.02.2029",
        "probezeit_monate": "4",
        "teilzeit": "nein",
        "verkuerzung_monate": "0",
        "eingetragen_am": "04.08.2025",
    }
    row.update(overrides)
    return row


EXPECTED = ImportRecord(
    line=2,
    source_contract_number="V-2025-0101",
    company=ImportCompany(
        company_number="4711001",
        name="Muster Maschinenbau GmbH",
        email="ausbildung@muster-maschinenbau.example",
        street="Industriestraße 12",
        postal_code="34117",
        city="Kassel",
        head_office_number=None,
    ),
    trainer=ImportTrainer(
        first_name="Anna",
        last_name="Ausbilder",
        email="ausbilder@muster-maschinenbau.example",
        qualified=True,
    ),
    apprentice=ImportApprentice(
        first_name="Jonas",
        last_name="Becker",
        birth_date=date(2008, 3, 14),
        email="jonas.becker@mail.example",
    ),
    occupation_code="25400",
    specialism=None,
    start_date=date(2025, 9, 1),
    end_date=date(2029, 2, 28),
    probation_months=4,
    part_time=False,
    shortening_months=0,
    registered_on=date(2025, 8, 4),
)


def parsed(line: int = 2, /, **overrides: str) -> ImportRecord:
    result = parse_row(values(**overrides), line)
    assert isinstance(result, ImportRecord), result
    return result


def errors(line: int = 2, /, **overrides: str) -> list[RowError]:
    result = parse_row(values(**overrides), line)
    assert isinstance(result, list), f"expected errors, got {result}"
    return result


def only_error(column: str, value: str) -> RowError:
    found = errors(**{column: value})
    assert [(e.line, e.field) for e in found] == [(2, column)], found
    return found[0]


# -- a valid row ------------------------------------------------------------------------------


def test_a_complete_row_becomes_a_typed_record() -> None:
    record = parsed()
    assert record == EXPECTED
    assert record.line == 2


def test_optional_columns_may_be_missing_or_empty_and_take_their_defaults() -> None:
    optional = [column.name for column in COLUMNS if not column.required]
    row = {name: value for name, value in values().items() if name not in optional}
    record = parse_row(row, 7)
    assert isinstance(record, ImportRecord)
    assert record.line == 7
    assert record.company.street is None
    assert record.company.postal_code is None
    assert record.company.city is None
    assert record.company.head_office_number is None
    assert record.trainer is None
    assert record.specialism is None
    assert record.part_time is False
    assert record.shortening_months == 0
    assert record.registered_on is None
    empty = parsed(**dict.fromkeys(optional, ""))
    assert empty == record


def test_values_are_trimmed_whitespace_collapsed_and_unicode_normalised() -> None:
    record = parsed(
        firma="  Muster\n Maschinenbau\u00a0 GmbH\t",
        azubi_nachname="Mu\u0308ller",  # a decomposed ü, as macOS writes it
        azubi_vorname="Jo\u200bnas",  # a zero-width space pasted from a web page
        ort=" Kassel ",
        beginn=" 01.09.2025 ",
        probezeit_monate=" 4 ",
        azubi_email=" jonas.becker@mail.example ",
    )
    assert record.company.name == "Muster Maschinenbau GmbH"
    assert record.apprentice.last_name == "Müller"
    assert len(record.apprentice.last_name) == 6
    assert record.apprentice.first_name == "Jonas"
    assert record.company.city == "Kassel"
    assert record.start_date == date(2025, 9, 1)
    assert record.probation_months == 4
    assert record.apprentice.email == "jonas.becker@mail.example"


def test_unknown_columns_are_ignored() -> None:
    assert parsed(bemerkung="bitte rückrufen", **{"": "x"}) == EXPECTED


def test_clean_is_what_parsing_and_duplicate_detection_compare() -> None:
    assert clean("  a \r\n b\u00ad ") == "a b"
    assert clean("\ufeffVertragsnummer") == "Vertragsnummer"
    assert clean("") == ""


# -- required ---------------------------------------------------------------------------------


@pytest.mark.parametrize("column", REQUIRED_COLUMNS)
def test_every_required_column_must_be_filled(column: str) -> None:
    for blank in ("", "   ", "\u200b"):
        error = only_error(column, blank)
        assert error.code == "required"
        assert error.message_de == "Pflichtangabe fehlt."
        assert error.detail == "A value is required."


def test_a_required_column_missing_from_the_row_counts_as_empty() -> None:
    row = values()
    del row["beruf"]
    assert parse_row(row, 3) == [
        RowError(3, "beruf", "required", "Pflichtangabe fehlt.", "A value is required.")
    ]


def test_a_row_reports_all_its_errors_in_column_order() -> None:
    found = errors(9, identnummer="", azubi_email="kaputt", beginn="1.9.25", probezeit_monate="vier")
    assert [(e.line, e.field, e.code) for e in found] == [
        (9, "identnummer", "required"),
        (9, "azubi_email", "invalid_email"),
        (9, "beginn", "invalid_date"),
        (9, "probezeit_monate", "invalid_integer"),
    ]


# -- text, numbers, lengths -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "limit"),
    [
        ("vertragsnummer", 40),
        ("identnummer", 20),
        ("firma", 200),
        ("strasse", 200),
        ("ort", 100),
        ("zentrale_identnummer", 20),
        ("ausbilder_vorname", 100),
        ("ausbilder_nachname", 100),
        ("azubi_vorname", 100),
        ("azubi_nachname", 100),
        ("beruf", 20),
        ("fachrichtung", 100),
    ],
)
def test_overlong_values_are_errors(column: str, limit: int) -> None:
    fits = "1" * limit if column in ("identnummer", "zentrale_identnummer", "beruf") else "A" * limit
    assert isinstance(parse_row(values(**{column: fits}), 2), ImportRecord)
    error = only_error(column, fits + "1")
    assert error.code == "too_long"
    assert error.message_de == f"Zu lang: höchstens {limit} Zeichen."


def test_an_overlong_email_is_an_error() -> None:
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example"  # 255 characters
    assert len(address) == 255
    error = only_error("azubi_email", address)
    assert error.code == "too_long"


def test_control_characters_are_errors() -> None:
    error = only_error("firma", "Muster\x07 GmbH")
    assert error.code == "invalid_characters"
    assert error.message_de == "Enthält unzulässige Steuerzeichen."


@pytest.mark.parametrize("column", ["identnummer", "zentrale_identnummer"])
@pytest.mark.parametrize("value", ["4711 001", "47/11", "-4711", "4711_001", "４７１１"])
def test_identnummern_are_letters_digits_and_hyphens(column: str, value: str) -> None:
    error = only_error(column, value)
    assert error.code == "invalid_number"
    assert "nur Buchstaben, Ziffern und Bindestriche" in error.message_de


def test_identnummern_may_contain_letters_and_hyphens() -> None:
    record = parsed(identnummer="HE-4711001", zentrale_identnummer="HE-4711000")
    assert record.company.company_number == "HE-4711001"
    assert record.company.head_office_number == "HE-4711000"


@pytest.mark.parametrize("value", ["V 2025", "V#1", "-V1", "Vertrag,1"])
def test_the_vertragsnummer_has_a_restricted_alphabet(value: str) -> None:
    assert only_error("vertragsnummer", value).code == "invalid_number"


@pytest.mark.parametrize("value", ["V-2025-0101", "2025/0042", "AV.2025_17", "12345"])
def test_the_vertragsnummer_accepts_the_usual_register_formats(value: str) -> None:
    assert parsed(vertragsnummer=value).source_contract_number == value


@pytest.mark.parametrize("value", ["Kaufmann/-frau", "78 100", "78100-1", "78100.0"])
def test_the_occupation_is_a_code(value: str) -> None:
    error = only_error("beruf", value)
    assert error.code == "invalid_number"
    assert "Berufsnummer" in error.message_de


def test_a_branch_names_its_head_office() -> None:
    record = parsed(identnummer="4711002", zentrale_identnummer="4711001")
    assert record.company.head_office_number == "4711001"


def test_a_company_is_not_its_own_head_office() -> None:
    error = only_error("zentrale_identnummer", "4711001")
    assert error.code == "own_head_office"
    assert error.message_de == "Ein Betrieb kann nicht seine eigene Zentrale sein."


# -- postal code ------------------------------------------------------------------------------


def test_a_postal_code_has_five_digits() -> None:
    assert parsed(plz="34117").company.postal_code == "34117"


def test_a_postal_code_that_lost_its_leading_zero_in_excel_gets_it_back() -> None:
    assert parsed(plz="1067").company.postal_code == "01067"


@pytest.mark.parametrize("value", ["341170", "D-34117", "34 117", "341", "ABCDE", "１２３４５"])
def test_other_postal_codes_are_errors(value: str) -> None:
    error = only_error("plz", value)
    assert error.code == "invalid_postal_code"
    assert error.message_de == "Postleitzahl ungültig: erwartet fünf Ziffern."


# -- e-mail -----------------------------------------------------------------------------------

GOOD_EMAILS = [
    "max.mustermann@example.org",
    "m+import@sub.example.co.uk",
    "a_b-c@x-y.de",
    "info@müller-bau.de",
    "o'brien@example.ie",
    "x@xn--mller-kva.de",
    "x@example.xn--p1ai",
]
BAD_EMAILS = [
    "max",
    "max@",
    "@example.org",
    "max@example",
    "max@@example.org",
    "max@ex@ample.org",
    "max mustermann@example.org",
    "max@exa mple.org",
    "max..m@example.org",
    ".max@example.org",
    "max.@example.org",
    "max@-example.org",
    "max@example-.org",
    "max@example..org",
    "max@example.c",
    "max@example.123",
    "max@exam_ple.org",
    "mäx@example.org",
    "max@example.org.",
    "<max@example.org>",
    "a" * 65 + "@example.org",
]


@pytest.mark.parametrize("address", GOOD_EMAILS)
def test_reasonable_email_addresses_pass(address: str) -> None:
    assert is_email(address)
    assert parsed(azubi_email=address).apprentice.email == address


@pytest.mark.parametrize("address", BAD_EMAILS)
def test_broken_email_addresses_are_errors(address: str) -> None:
    assert not is_email(address)
    for column in ("firma_email", "azubi_email", "ausbilder_email"):
        error = only_error(column, address)
        assert error.code == "invalid_email"
        assert error.message_de == "E-Mail-Adresse ungültig."


# -- dates ------------------------------------------------------------------------------------

DATE_COLUMNS = ["azubi_geburtsdatum", "beginn", "ende", "eingetragen_am"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01.09.2025", date(2025, 9, 1)),
        ("1.9.2025", date(2025, 9, 1)),
        ("2025-09-01", date(2025, 9, 1)),
        ("29.02.2024", date(2024, 2, 29)),
        ("01.01.1900", date(1900, 1, 1)),
        ("31.12.2100", date(2100, 12, 31)),
    ],
)
@pytest.mark.parametrize("column", DATE_COLUMNS)
def test_dates_in_either_format(column: str, text: str, expected: date) -> None:
    record = parsed(**{column: text})
    found = {
        "azubi_geburtsdatum": record.apprentice.birth_date,
        "beginn": record.start_date,
        "ende": record.end_date,
        "eingetragen_am": record.registered_on,
    }[column]
    assert found == expected


@pytest.mark.parametrize(
    "text",
    [
        "1.9.25",
        "01/09/2025",
        "2025-9-1",
        "01.09.2025 00:00",
        "2025-09-01T00:00:00",
        "September 2025",
        "46266",  # an Excel serial number that lost its date format
        "٠١.٠٩.٢٠٢٥",  # Arabic-Indic digits
        "01.09.20255",
    ],
)
@pytest.mark.parametrize("column", DATE_COLUMNS)
def test_other_date_formats_are_errors(column: str, text: str) -> None:
    error = only_error(column, text)
    assert error.code == "invalid_date"
    assert error.message_de == "Datum ungültig: erwartet TT.MM.JJJJ."


@pytest.mark.parametrize("text", ["31.02.2025", "29.02.2025", "00.01.2025", "2025-13-01", "32.01.2025"])
def test_days_that_do_not_exist_are_errors(text: str) -> None:
    error = only_error("beginn", text)
    assert error.code == "invalid_date"
    assert error.message_de == f"Datum ungültig: den {text} gibt es nicht."


@pytest.mark.parametrize("text", ["31.12.1899", "0001-01-01", "01.01.2101", "9999-12-31"])
def test_dates_before_1900_or_after_2100_are_errors(text: str) -> None:
    error = only_error("azubi_geburtsdatum", text)
    assert error.code == "date_out_of_range"
    assert error.message_de == "Datum ungültig: erwartet ein Jahr von 1900 bis 2100."


# -- ja/nein and months -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [(t, True) for t in ("ja", "JA", "Ja", "j", "x", "X", "1", "true", "TRUE", "wahr")]
    + [(t, False) for t in ("nein", "Nein", "n", "N", "0", "false", "False", "falsch")],
)
def test_yes_no_values(text: str, expected: bool) -> None:
    assert parsed(teilzeit=text).part_time is expected
    trainer = parsed(ausbildereignung=text).trainer
    assert trainer is not None
    assert trainer.qualified is expected


@pytest.mark.parametrize("text", ["vielleicht", "2", "yes please", "-", "ok"])
@pytest.mark.parametrize("column", ["teilzeit", "ausbildereignung"])
def test_other_yes_no_values_are_errors(column: str, text: str) -> None:
    error = only_error(column, text)
    assert error.code == "invalid_boolean"
    assert error.message_de == "Erwartet „ja“ oder „nein“."


def test_months_are_whole_numbers() -> None:
    record = parsed(probezeit_monate="3", verkuerzung_monate="12")
    assert (record.probation_months, record.shortening_months) == (3, 12)
    # The range (1 to 4 months of probation) is the register's rule, not the file's.
    assert parsed(probezeit_monate="0").probation_months == 0
    assert parsed(probezeit_monate="12").probation_months == 12


@pytest.mark.parametrize("text", ["vier", "4.0", "4,5", "-1", "+4", "1e1", "1000", "٤", "4 Monate", "0x4"])
@pytest.mark.parametrize("column", ["probezeit_monate", "verkuerzung_monate"])
def test_months_that_are_not_whole_numbers_are_errors(column: str, text: str) -> None:
    error = only_error(column, text)
    assert error.code == "invalid_integer"
    assert error.message_de == "Erwartet eine ganze Zahl von Monaten (z. B. 4)."


# -- the trainer group ------------------------------------------------------------------------


def test_without_any_trainer_column_there_is_no_trainer() -> None:
    assert parsed(**dict.fromkeys(TRAINER_COLUMNS, "")).trainer is None


def test_a_trainer_without_the_qualification_column_has_it_unknown() -> None:
    trainer = parsed(ausbildereignung="").trainer
    assert trainer == ImportTrainer(
        first_name="Anna",
        last_name="Ausbilder",
        email="ausbilder@muster-maschinenbau.example",
        qualified=None,
    )


@pytest.mark.parametrize("given", TRAINER_COLUMNS)
def test_any_trainer_column_makes_name_and_email_required(given: str) -> None:
    filled = {
        "ausbilder_vorname": "Anna",
        "ausbilder_nachname": "Ausbilder",
        "ausbilder_email": "anna@example.org",
        "ausbildereignung": "nein",
    }
    row = dict.fromkeys(TRAINER_COLUMNS, "") | {given: filled[given]}
    found = errors(**row)
    missing = [c for c in ("ausbilder_vorname", "ausbilder_nachname", "ausbilder_email") if c != given]
    assert [(e.field, e.code) for e in found] == [(c, "required") for c in missing]


# -- errors for the UI ------------------------------------------------------------------------


def test_a_row_error_knows_its_columns_german_header() -> None:
    error = only_error("verkuerzung_monate", "viel")
    assert error.label == "Verkürzung Monate"
    assert column_label("bemerkung") == "bemerkung"


# -- duplicates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    line: int
    values: Mapping[str, str]


def test_a_repeated_vertragsnummer_is_an_error_on_each_later_row() -> None:
    rows = [
        Row(2, values(vertragsnummer="V-1")),
        Row(3, values(vertragsnummer="V-2", azubi_vorname="Mia")),
        Row(5, values(vertragsnummer="V-1", azubi_vorname="Ben")),
        Row(6, values(vertragsnummer=" V-1 ", azubi_vorname="Leon")),
    ]
    assert find_duplicates(rows) == [
        RowError(
            5,
            "vertragsnummer",
            "duplicate_contract_number",
            "Vertragsnummer doppelt in Zeile 2.",
            "The contract number already appears in line 2.",
        ),
        RowError(
            6,
            "vertragsnummer",
            "duplicate_contract_number",
            "Vertragsnummer doppelt in Zeile 2.",
            "The contract number already appears in line 2.",
        ),
    ]


def test_an_identical_row_is_a_duplicate_row() -> None:
    rows = [
        Row(2, values()),
        Row(3, values(vertragsnummer="V-2")),
        Row(4, values(firma="  Muster  Maschinenbau GmbH ")),  # equal once cleaned
        Row(7, values(bemerkung="anders")),  # a column the import ignores
    ]
    found = find_duplicates(rows)
    assert [(e.line, e.code, e.message_de) for e in found] == [
        (4, "duplicate_row", "Zeile doppelt: gleicher Inhalt wie Zeile 2."),
        (7, "duplicate_row", "Zeile doppelt: gleicher Inhalt wie Zeile 2."),
    ]


def test_rows_without_a_vertragsnummer_are_compared_only_in_full() -> None:
    rows = [
        Row(2, values(vertragsnummer="")),
        Row(3, values(vertragsnummer="", azubi_vorname="Mia")),
        Row(4, values(vertragsnummer="")),
    ]
    assert [(e.line, e.code) for e in find_duplicates(rows)] == [(4, "duplicate_row")]


def test_blank_rows_are_no_duplicates() -> None:
    blank = dict.fromkeys(values(), "")
    assert find_duplicates([Row(2, blank), Row(3, blank), Row(4, values())]) == []


def test_the_vertragsnummer_is_compared_exactly() -> None:
    rows = [Row(2, values(vertragsnummer="v-1")), Row(3, values(vertragsnummer="V-1"))]
    assert find_duplicates(rows) == []


def test_parse_rows_parses_every_row_and_drops_duplicates() -> None:
    rows = [
        Row(2, values()),
        Row(3, values(vertragsnummer="V-2", beginn="kaputt")),
        Row(4, values()),
        Row(5, values(vertragsnummer="V-3", azubi_vorname="Mia")),
    ]
    records, found = parse_rows(rows)
    assert [r.line for r in records] == [2, 5]
    assert [(e.line, e.field, e.code) for e in found] == [
        (3, "beginn", "invalid_date"),
        (4, "vertragsnummer", "duplicate_row"),
    ]


# -- fingerprint ------------------------------------------------------------------------------


def test_the_canonical_form_is_sorted_compact_json_without_the_line() -> None:
    record = parsed(17)
    assert record.canonical_json() == (
        '{"apprentice":{"birth_date":"2008-03-14","email":"jonas.becker@mail.example",'
        '"first_name":"Jonas","last_name":"Becker"},'
        '"company":{"city":"Kassel","company_number":"4711001",'
        '"email":"ausbildung@muster-maschinenbau.example","head_office_number":null,'
        '"name":"Muster Maschinenbau GmbH","postal_code":"34117","street":"Industriestraße 12"},'
        '"end_date":"2029-02-28","occupation_code":"25400","part_time":false,"probation_months":4,'
        '"registered_on":"2025-08-04","shortening_months":0,"source_contract_number":"V-2025-0101",'
        '"specialism":null,"start_date":"2025-09-01",'
        '"trainer":{"email":"ausbilder@muster-maschinenbau.example","first_name":"Anna",'
        '"last_name":"Ausbilder","qualified":true},"v":1}'
    )
    assert record.fingerprint() == hashlib.sha256(record.canonical_json().encode()).hexdigest()
    assert fingerprint(record) == record.fingerprint()


def test_the_same_data_on_another_line_has_the_same_fingerprint() -> None:
    assert parsed(2).fingerprint() == parsed(900, firma=" Muster Maschinenbau  GmbH").fingerprint()
    assert parsed(2) == parsed(900)


@pytest.mark.parametrize(
    "change",
    [
        {"vertragsnummer": "V-2025-0102"},
        {"firma": "Muster Maschinenbau AG"},
        {"strasse": ""},
        {"zentrale_identnummer": "4711000"},
        {"ausbilder_email": "anna@example.org"},
        {"ausbildereignung": ""},
        {"ausbilder_vorname": "", "ausbilder_nachname": "", "ausbilder_email": "", "ausbildereignung": ""},
        {"azubi_geburtsdatum": "15.03.2008"},
        {"fachrichtung": "Anwendungsentwicklung"},
        {"ende": "31.08.2029"},
        {"probezeit_monate": "3"},
        {"teilzeit": "ja"},
        {"verkuerzung_monate": "6"},
        {"eingetragen_am": ""},
    ],
)
def test_any_change_of_data_changes_the_fingerprint(change: dict[str, str]) -> None:
    assert parsed(**change).fingerprint() != parsed().fingerprint()


def test_records_are_immutable() -> None:
    record = parsed()
    with pytest.raises(AttributeError):
        record.probation_months = 3  # type: ignore[misc]
    assert replace(record, probation_months=3).fingerprint() != record.fingerprint()


# -- the header -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Vertragsnummer", "vertragsnummer"),
        ("Vertragsnummer *", "vertragsnummer"),
        ("vertrags-nr.", "vertragsnummer"),
        ("Ident-Nr.", "identnummer"),
        ("IDENTNUMMER", "identnummer"),
        ("Firmenname", "firma"),
        ("Straße", "strasse"),
        ("Strasse", "strasse"),
        ("STRASSE", "strasse"),
        ("Str.", "strasse"),
        ("Straße und Hausnummer", "strasse"),
        ("PLZ", "plz"),
        ("Plz", "plz"),
        (" plz ", "plz"),
        ("Postleitzahl", "plz"),
        ("Ort", "ort"),
        ("Firma E-Mail", "firma_email"),
        ("Firma Email", "firma_email"),
        ("E-Mail Firma", "firma_email"),
        ("firma_email", "firma_email"),
        ("Identnummer Zentrale", "zentrale_identnummer"),
        ("Ausbilder/-in Vorname", "ausbilder_vorname"),
        ("Vorname Ausbilder", "ausbilder_vorname"),
        ("Ausbilder Name", "ausbilder_nachname"),
        ("Ausbilder E-Mail", "ausbilder_email"),
        ("AEVO", "ausbildereignung"),
        ("Auszubildende/r Vorname", "azubi_vorname"),
        ("Geburtsdatum Azubi", "azubi_geburtsdatum"),
        ("Azubi Geb.-Datum", "azubi_geburtsdatum"),
        ("E-Mail Auszubildende", "azubi_email"),
        ("Berufsnummer", "beruf"),
        ("Beginn (TT.MM.JJJJ)", "beginn"),
        ("Ausbildungsende", "ende"),
        ("Probezeit", "probezeit_monate"),
        ("Probezeit (Monate)", "probezeit_monate"),
        ("Teilzeit [ja/nein]", "teilzeit"),
        ("Verkürzung (Monate)", "verkuerzung_monate"),
        ("Verkuerzung Monate", "verkuerzung_monate"),
        ("VERKÜRZUNG", "verkuerzung_monate"),
        ("Eintragungsdatum", "eingetragen_am"),
        ("\ufeffVertragsnummer", "vertragsnummer"),
    ],
)
def test_header_variants_map_to_the_column(header: str, column: str) -> None:
    assert canonical_column(header) == column


def test_unknown_headers_keep_a_normalised_name_and_blank_ones_none() -> None:
    assert canonical_column(" Bemerkung zum Vertrag ") == "bemerkung_zum_vertrag"
    assert canonical_column("Größe") == "groesse"
    assert canonical_column("") == ""
    assert canonical_column("  ") == ""
    assert canonical_column("(leer)") == ""


def test_every_column_is_found_by_its_name_and_its_label() -> None:
    for column in COLUMNS:
        assert canonical_column(column.name) == column.name
        assert canonical_column(column.label) == column.name
        for alias in column.aliases:
            assert canonical_column(alias) == column.name, alias


def test_an_alias_may_not_mean_two_columns() -> None:
    with pytest.raises(ValueError, match="would mean both"):
        import_rows._alias_table([Column("a", "A", True, 10, ("x",)), Column("b", "B", True, 10, ("X",))])
