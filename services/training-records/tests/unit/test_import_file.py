"""Reading the import file (adapters.import_file): CSV in every encoding and delimiter, XLSX, and
everything that can be wrong with a file as a whole. Workbooks are built here with openpyxl."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from training_records.adapters import import_file
from training_records.adapters.import_file import (
    CODES,
    ImportFileError,
    ImportTable,
    SourceRow,
    cell_text,
    read_table,
)
from training_records.domain.import_rows import COLUMNS, REQUIRED_COLUMNS, parse_rows

ROOT = Path(__file__).resolve().parents[4]
DATA = ROOT / "services/training-records/training_records/data"
MiB = 1 << 20

LABELS = [column.label for column in COLUMNS]
NAMES = tuple(column.name for column in COLUMNS)


def cells(**overrides: str) -> list[str]:
    """One valid row in column order (the values a clerk types)."""
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
        "azubi_vorname": "Emily",
        "azubi_nachname": "Schäfer",
        "azubi_geburtsdatum": "02.11.2006",
        "azubi_email": "emily.schaefer@mail.example",
        "beruf": "78100",
        "fachrichtung": "",
        "beginn": "01.08.2025",
        "ende": "31.07.2027",
        "probezeit_monate": "4",
        "teilzeit": "nein",
        "verkuerzung_monate": "12",
        "eingetragen_am": "15.07.2025",
    }
    row.update(overrides)
    return [row[name] for name in NAMES]


def csv_text(rows: Sequence[Sequence[str]], *, delimiter: str = ";", newline: str = "\r\n") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return out.getvalue()


def csv_bytes(
    *rows: Sequence[str], delimiter: str = ";", encoding: str = "utf-8", header: bool = True
) -> bytes:
    return csv_text(([LABELS] if header else []) + list(rows), delimiter=delimiter).encode(encoding)


def read(data: bytes, filename: str = "import.csv", **limits: int) -> ImportTable:
    options = {"max_bytes": MiB, "max_rows": 100} | limits
    return read_table(data, filename, **options)  # type: ignore[arg-type]


def failure(data: bytes, filename: str = "import.csv", **limits: int) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        read(data, filename, **limits)
    return caught.value


def as_row(line: int, row: Sequence[str]) -> SourceRow:
    return SourceRow(line, dict(zip(NAMES, row, strict=True)))


# -- CSV: encodings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "data_encoding"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"), ("utf-16", "utf-16")],
)
def test_every_encoding_reads_the_same_table(encoding: str, data_encoding: str) -> None:
    row = cells(firma="Bäckerei Süß & Söhne – Öko", strasse="Große Straße 1", azubi_nachname="Jäger")
    table = read(csv_bytes(row, encoding=data_encoding))
    assert table.encoding == encoding
    assert table.format == "csv"
    assert table.header == NAMES
    assert table.rows == [as_row(2, row)]
    assert table.rows[0].values["firma"] == "Bäckerei Süß & Söhne – Öko"


def test_a_utf8_bom_does_not_stick_to_the_first_column() -> None:
    data = csv_bytes(cells(), encoding="utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    assert read(data).header[0] == "vertragsnummer"


def test_windows_1252_is_only_the_fallback() -> None:
    # "Ã¤" is how UTF-8 "ä" looks when misread as Windows-1252: valid UTF-8 must stay UTF-8.
    table = read(csv_bytes(cells(ort="Gießen"), encoding="utf-8"))
    assert (table.encoding, table.rows[0].values["ort"]) == ("utf-8", "Gießen")
    table = read(csv_bytes(cells(ort="Gießen"), encoding="cp1252"))
    assert (table.encoding, table.rows[0].values["ort"]) == ("cp1252", "Gießen")


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_malformed() -> None:
    data = csv_bytes(cells(ort="Kassel\x81"), encoding="latin-1")  # 0x81 is undefined in cp1252
    error = failure(data)
    assert (error.code, error.reason) == ("malformed", "encoding")
    assert "Zeichenkodierung" in error.message_de


@pytest.mark.parametrize("prefix", [b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"])
def test_a_workbook_uploaded_as_csv_is_malformed(prefix: bytes) -> None:
    error = failure(prefix + b"\x00" * 100)
    assert (error.code, error.reason) == ("malformed", "binary")
    assert ".xlsx" in error.message_de


def test_nul_bytes_are_not_csv() -> None:
    error = failure(csv_bytes(cells()) + b"\x00\x00")
    assert (error.code, error.reason) == ("malformed", "binary")


# -- CSV: delimiters and quoting --------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_the_delimiter_is_sniffed_from_the_header(delimiter: str) -> None:
    row = cells(firma="Büro & Service Schäfer, e. K.; Melsungen", strasse="Am Markt 1\t2")
    table = read(csv_bytes(row, delimiter=delimiter))
    assert table.delimiter == delimiter
    assert table.rows == [as_row(2, row)]


def test_excels_sep_line_names_the_delimiter() -> None:
    data = b"sep=,\r\n" + csv_bytes(cells(), delimiter=",")
    table = read(data)
    assert table.delimiter == ","
    assert table.rows == [as_row(3, cells())]


def test_quoted_fields_keep_delimiters_and_doubled_quotes() -> None:
    header = ";".join(LABELS)
    row = cells()
    row[NAMES.index("firma")] = '"Elektro ""Blitz"" Meier GmbH & Co. KG; Baunatal"'
    table = read((header + "\r\n" + ";".join(row) + "\r\n").encode())
    assert table.rows[0].values["firma"] == 'Elektro "Blitz" Meier GmbH & Co. KG; Baunatal'


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_numbers_count_physical_lines_across_embedded_newlines(newline: str) -> None:
    first = cells(strasse=f"Industriestraße 12{newline}Hinterhaus{newline}2. OG")
    second = cells(vertragsnummer="V-2", firma=f"Muster{newline}GmbH")
    third = cells(vertragsnummer="V-3")
    text = csv_text([LABELS, first], newline=newline)
    text += newline  # a blank line between rows
    text += csv_text([second, third], newline=newline)
    text += newline * 3  # blank trailing lines
    table = read(text.encode())
    assert [row.line for row in table.rows] == [2, 6, 8]
    assert table.rows[0].values["strasse"] == f"Industriestraße 12{newline}Hinterhaus{newline}2. OG"
    assert table.rows[2].values["vertragsnummer"] == "V-3"


def test_blank_lines_before_the_header_and_rows_of_empty_fields_are_skipped() -> None:
    text = "\r\n  \r\n" + csv_text([LABELS, cells(), [""] * len(LABELS), cells(vertragsnummer="V-2")])
    table = read(text.encode())
    assert [row.line for row in table.rows] == [4, 6]


def test_short_rows_get_empty_values_and_empty_extra_fields_are_ignored() -> None:
    header = ";".join(LABELS)
    short = ";".join(cells()[:-3])  # the last three (optional) columns left off
    long = ";".join(cells()) + ";;  ;"
    table = read(f"{header}\n{short}\n{long}\n".encode())
    assert table.rows[0].values["verkuerzung_monate"] == ""
    assert table.rows[0].values["eingetragen_am"] == ""
    assert table.rows[1] == as_row(3, cells())


def test_a_value_beyond_the_header_is_malformed() -> None:
    # "Müller; Söhne" unquoted: every later cell of the row moves one column to the right.
    header = ";".join(LABELS)
    row = ";".join(cells(firma="Müller; Söhne"))
    error = failure(f"{header}\n{';'.join(cells())}\n{row}\n".encode())
    assert (error.code, error.reason, error.line) == ("malformed", "too_many_fields", 3)
    assert error.message_de.startswith("Zeile 3 hat mehr Werte als die Kopfzeile Spalten.")


@pytest.mark.parametrize(
    ("bad", "line"),
    [
        ('V-3;"4711001"x;Firma', 4),  # text after a closing quote
        ('V-3;"4711001;Firma', 4),  # a quote never closed: it would swallow the rest of the file
    ],
)
def test_bad_quoting_is_malformed_with_its_line(bad: str, line: int) -> None:
    text = csv_text([LABELS, cells(strasse="a\nb")]) + bad + "\r\n" + csv_text([cells(vertragsnummer="V-4")])
    error = failure(text.encode())
    assert (error.code, error.reason, error.line) == ("malformed", "quoting", line)
    assert error.message_de.startswith(f"Zeile {line}: Anführungszeichen sind nicht richtig gesetzt.")
    assert error.detail == f"Line {line}: bad quoting."


def test_a_huge_field_is_malformed() -> None:
    error = failure(csv_bytes(cells(firma="x" * 200_000)), max_bytes=10 * MiB)
    assert (error.code, error.reason, error.line) == ("malformed", "field_too_large", 2)


# -- header -----------------------------------------------------------------------------------


def test_header_variants_and_unknown_columns() -> None:
    header = [
        "Vertrags-Nr.",
        "Ident-Nr.",
        "Firmenname",
        "Straße",
        "Postleitzahl",
        "ORT",
        "E-Mail Firma",
        "Identnummer Zentrale",
        "Vorname Ausbilder",
        "Nachname Ausbilder",
        "E-Mail Ausbilder",
        "AEVO",
        "Auszubildende/r Vorname",
        "Auszubildende/r Nachname",
        "Geburtsdatum",
        "Azubi E-Mail",
        "Berufsnummer",
        "Fachrichtung",
        "Beginn (TT.MM.JJJJ)",
        "Ende (TT.MM.JJJJ)",
        "Probezeit",
        "Teilzeit [ja/nein]",
        "Verkürzung (Monate)",
        "Eintragungsdatum",
        "Bemerkung",
        "",
    ]
    header[14] = "Geburtsdatum Azubi"
    table = read(csv_text([header, [*cells(), "bitte prüfen", ""]]).encode())
    assert table.header == (*NAMES, "bemerkung")
    assert table.rows[0].values == dict(zip(NAMES, cells(), strict=True)) | {"bemerkung": "bitte prüfen"}


def test_columns_may_come_in_any_order_and_optional_ones_may_be_missing() -> None:
    required = [column for column in COLUMNS if column.required]
    by_name = dict(zip(NAMES, cells(), strict=True))
    header = [column.label for column in reversed(required)]
    row = [by_name[column.name] for column in reversed(required)]
    table = read(csv_text([header, row]).encode())
    assert table.header == tuple(reversed(REQUIRED_COLUMNS))
    assert table.rows[0].values == {name: by_name[name] for name in REQUIRED_COLUMNS}


def test_missing_columns_are_named() -> None:
    header = [label for label in LABELS if label not in ("Beruf", "Azubi E-Mail", "PLZ")]
    error = failure(csv_text([header, ["x"] * len(header)]).encode())
    assert error.code == "missing_columns"
    assert error.columns == ("azubi_email", "beruf")
    assert (error.line, error.column) == (1, "azubi_email")
    assert error.message_de == (
        "Es fehlen Pflichtspalten: „Azubi E-Mail“, „Beruf“. Die erste Zeile der Datei muss die Spaltennamen enthalten."
    )
    assert error.detail == "Required columns are missing: azubi_email, beruf."


def test_a_title_line_above_the_header_shows_as_missing_columns() -> None:
    text = "Datenübermittlung 2025\r\n" + csv_text([LABELS, cells()])
    assert failure(text.encode()).code == "missing_columns"


def test_duplicate_columns_are_named() -> None:
    header = [*LABELS, "Postleitzahl", "Bemerkung", "bemerkung"]
    error = failure(csv_text([header, [*cells(), "34117", "", ""]]).encode())
    assert error.code == "duplicate_columns"
    assert error.columns == ("plz", "bemerkung")
    assert error.message_de == (
        "Diese Spalten kommen mehrfach vor: „PLZ“, „bemerkung“. Jede Spalte darf nur einmal vorkommen."
    )


# -- empty, too large, too many ---------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n  \r\n", b"\xef\xbb\xbf"])
def test_a_file_without_anything_is_empty(data: bytes) -> None:
    error = failure(data)
    assert error.code == "empty"
    assert error.message_de == "Die Datei ist leer."


@pytest.mark.parametrize("tail", ["", "\r\n\r\n", ";;;;\r\n"])
def test_a_header_without_rows_is_empty(tail: str) -> None:
    error = failure((csv_text([LABELS]) + tail).encode())
    assert error.code == "empty"
    assert error.message_de == "Die Datei enthält keine Datenzeilen."
    assert error.detail == "The file has no data rows."


def test_a_file_over_the_limit_is_too_large() -> None:
    data = csv_bytes(cells())
    assert read(data, max_bytes=len(data)).rows
    error = failure(data, max_bytes=len(data) - 1)
    assert error.code == "too_large"
    error = failure(b"x" * (20 * MiB + 1), max_bytes=20 * MiB)
    assert error.message_de == "Die Datei ist größer als 20 MB."
    assert error.detail == "The file is larger than 20 MB."


def test_more_rows_than_the_limit_are_too_many() -> None:
    rows = [cells(vertragsnummer=f"V-{n}") for n in range(4)]
    assert len(read(csv_bytes(*rows[:3]), max_rows=3).rows) == 3
    error = failure(csv_bytes(*rows), max_rows=3)
    assert (error.code, error.line, error.limit) == ("too_many_rows", 5, 3)
    assert error.message_de.startswith("Die Datei enthält mehr als 3 Datenzeilen.")
    assert ImportFileError("too_many_rows", limit=10_000).message_de.startswith(
        "Die Datei enthält mehr als 10.000 Datenzeilen."
    )


def test_blank_lines_do_not_count_as_rows() -> None:
    text = csv_text([LABELS, cells()]) + "\r\n" * 50 + csv_text([cells(vertragsnummer="V-2")])
    assert len(read(text.encode(), max_rows=2).rows) == 2


# -- the file's type --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename", ["import.xls", "import.ods", "import.pdf", "import.csv.txt", "import", ".csv", "import.xlsm"]
)
def test_only_csv_and_xlsx_are_read(filename: str) -> None:
    error = failure(csv_bytes(cells()), filename)
    assert error.code == "unknown_format"
    assert error.message_de == (
        "Dieses Dateiformat wird nicht unterstützt. Bitte laden Sie eine CSV-Datei oder eine Excel-Datei (.xlsx) hoch."
    )


@pytest.mark.parametrize("filename", ["IMPORT.CSV", r"C:\fakepath\Übermittlung 2025.csv", "a/b/import.Csv"])
def test_the_extension_decides_in_any_case_and_path(filename: str) -> None:
    assert read(csv_bytes(cells()), filename).format == "csv"


def test_without_an_extension_the_content_type_decides() -> None:
    data = csv_bytes(cells())
    options = {"max_bytes": MiB, "max_rows": 10}
    assert read_table(data, "upload", content_type="text/csv; charset=utf-8", **options).format == "csv"
    xlsx = workbook_bytes([LABELS, cells()])
    xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert read_table(xlsx, "upload", content_type=xlsx_type, **options).format == "xlsx"
    with pytest.raises(ImportFileError) as caught:
        read_table(data, "upload", content_type="application/octet-stream", **options)
    assert caught.value.code == "unknown_format"


# -- XLSX -------------------------------------------------------------------------------------


def workbook_bytes(
    rows: Sequence[Sequence[object]], *, start_row: int = 1, extra_sheet_first: bool = False
) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Import"
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=start_row + offset, column=column, value=value)
    if extra_sheet_first:
        other = workbook.create_sheet("Hinweise", 0)
        other["A1"] = "Dieses Blatt ist nicht das erste"
        workbook.active = 1
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def typed_cells(**overrides: object) -> list[object]:
    """The valid row as Excel holds it: numbers as numbers, dates as dates."""
    row: list[object] = list(cells())
    typed = {
        "identnummer": 4711001,
        "plz": 34117,
        "beruf": 78100,
        "probezeit_monate": 4,
        "verkuerzung_monate": 12.0,
        "azubi_geburtsdatum": datetime(2006, 11, 2),
        "beginn": date(2025, 8, 1),
        "ende": datetime(2027, 7, 31, 23, 59),
        "eingetragen_am": datetime(2025, 7, 15),
    } | overrides
    for name, value in typed.items():
        row[NAMES.index(name)] = value
    return row


def test_xlsx_cells_become_the_text_a_clerk_typed() -> None:
    table = read(workbook_bytes([LABELS, typed_cells()]), "import.xlsx")
    assert table.format == "xlsx"
    assert table.header == NAMES
    values = table.rows[0].values
    assert values["identnummer"] == "4711001"
    assert values["plz"] == "34117"
    assert values["beruf"] == "78100"
    assert values["probezeit_monate"] == "4"
    assert values["verkuerzung_monate"] == "12"
    assert values["azubi_geburtsdatum"] == "2006-11-02"
    assert values["beginn"] == "2025-08-01"
    assert values["ende"] == "2027-07-31"
    assert values["zentrale_identnummer"] == ""
    assert values["fachrichtung"] == ""
    records, errors = parse_rows(table.rows)
    csv_records, csv_errors = parse_rows(read(csv_bytes(cells())).rows)
    assert (errors, csv_errors) == ([], [])
    assert records == csv_records


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("", ""),
        (True, "ja"),
        (False, "nein"),
        (4711001, "4711001"),
        (4711001.0, "4711001"),
        (-3.0, "-3"),
        (4.5, "4.5"),
        (float("inf"), "inf"),
        (12345678901234567890, "12345678901234567890"),
        (date(2025, 8, 1), "2025-08-01"),
        (datetime(2025, 8, 1, 13, 45), "2025-08-01"),
        ("  Text  ", "  Text  "),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


def test_xlsx_booleans_and_fractions() -> None:
    row = typed_cells(teilzeit=True, ausbildereignung=False, probezeit_monate=3.5)
    values = read(workbook_bytes([LABELS, row]), "import.xlsx").rows[0].values
    assert (values["teilzeit"], values["ausbildereignung"], values["probezeit_monate"]) == (
        "ja",
        "nein",
        "3.5",
    )


def test_xlsx_line_numbers_are_sheet_rows_and_blank_rows_are_skipped() -> None:
    rows: list[Sequence[object]] = [
        LABELS,
        typed_cells(),
        [],
        [None, None],
        typed_cells(vertragsnummer="V-2"),
    ]
    table = read(workbook_bytes(rows, start_row=3), "import.xlsx")
    assert [row.line for row in table.rows] == [4, 7]


def test_xlsx_cells_beyond_the_header_are_ignored() -> None:
    table = read(workbook_bytes([LABELS, [*typed_cells(), None, "Notiz"]]), "import.xlsx")
    assert table.header == NAMES
    assert "Notiz" not in table.rows[0].values.values()


def test_xlsx_embedded_newlines_stay_in_the_cell() -> None:
    table = read(
        workbook_bytes([LABELS, typed_cells(strasse="Industriestraße 12\nHinterhaus")]), "import.xlsx"
    )
    assert table.rows[0].values["strasse"] == "Industriestraße 12\nHinterhaus"


def test_xlsx_formulas_give_their_cached_value_and_none_without_one() -> None:
    # openpyxl writes no cached values, so the formula cell reads as empty, as documented.
    table = read(workbook_bytes([LABELS, typed_cells(fachrichtung="=A1")]), "import.xlsx")
    assert table.rows[0].values["fachrichtung"] == ""


def test_xlsx_reads_the_first_worksheet_not_the_active_one() -> None:
    data = workbook_bytes([LABELS, typed_cells()], extra_sheet_first=True)
    error = failure(data, "import.xlsx")
    assert error.code == "missing_columns"  # the first sheet holds the note, not the data


def rewrite_entry(data: bytes, name: str, change: object) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == name:
                content = change(content)  # type: ignore[operator]
            target.writestr(entry.filename, content)
    return out.getvalue()


def test_xlsx_with_a_wrong_stored_dimension_is_read_in_full() -> None:
    data = workbook_bytes([LABELS, typed_cells(), typed_cells(vertragsnummer="V-2")])
    data = rewrite_entry(
        data,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', xml),
    )
    table = read(data, "import.xlsx")
    assert [row.line for row in table.rows] == [2, 3]
    assert table.rows[1].values["eingetragen_am"] == "2025-07-15"


def test_xlsx_header_problems() -> None:
    assert failure(workbook_bytes([LABELS[1:], typed_cells()[1:]]), "import.xlsx").columns == (
        "vertragsnummer",
    )
    duplicate = failure(workbook_bytes([[*LABELS, "PLZ"], typed_cells()]), "import.xlsx")
    assert (duplicate.code, duplicate.columns) == ("duplicate_columns", ("plz",))


def test_xlsx_without_rows_is_empty() -> None:
    assert (
        failure(workbook_bytes([LABELS]), "import.xlsx").message_de == "Die Datei enthält keine Datenzeilen."
    )
    assert failure(workbook_bytes([]), "import.xlsx").message_de == "Die Datei ist leer."


def test_xlsx_with_too_many_rows() -> None:
    rows = [LABELS] + [typed_cells(vertragsnummer=f"V-{n}") for n in range(5)]
    error = failure(workbook_bytes(rows), "import.xlsx", max_rows=4)
    assert (error.code, error.line) == ("too_many_rows", 6)


# -- broken and hostile workbooks -------------------------------------------------------------


def test_not_a_zip_is_malformed() -> None:
    error = failure(b"Vertragsnummer;Identnummer\r\n", "import.xlsx")
    assert (error.code, error.reason) == ("malformed", "not_xlsx")
    assert error.message_de == "Die Datei ist keine gültige Excel-Datei (.xlsx)."


def test_a_truncated_workbook_is_malformed() -> None:
    data = workbook_bytes([LABELS, typed_cells()])
    for cut in (len(data) // 3, len(data) - 30):
        assert failure(data[:cut], "import.xlsx").code == "malformed"


def test_a_zip_that_is_no_workbook_is_malformed() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    error = failure(out.getvalue(), "import.xlsx")
    assert (error.code, error.reason) == ("malformed", "not_xlsx")


def test_a_workbook_with_a_broken_sheet_is_malformed() -> None:
    data = workbook_bytes([LABELS, typed_cells()])
    broken = rewrite_entry(data, "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2])
    error = failure(broken, "import.xlsx")
    assert (error.code, error.reason) == ("malformed", "not_xlsx")


def test_a_legacy_xls_named_xlsx_is_malformed() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 200
    error = failure(ole, "import.xlsx")
    assert (error.code, error.reason) == ("malformed", "xls")
    assert ".xls" in error.message_de


def test_a_password_protected_workbook_is_malformed() -> None:
    # Excel wraps an encrypted workbook in an OLE compound file with an "EncryptedPackage" stream.
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 504
        + "EncryptionInfo".encode("utf-16-le")
        + b"\x00" * 50
        + "EncryptedPackage".encode("utf-16-le")
        + b"\x00" * 200
    )
    error = failure(ole, "import.xlsx")
    assert (error.code, error.reason) == ("malformed", "encrypted")
    assert (
        error.message_de
        == "Die Excel-Datei ist mit einem Kennwort geschützt. Bitte speichern Sie sie ohne Kennwort."
    )


def test_a_zip_with_encrypted_entries_is_malformed() -> None:
    data = bytearray(workbook_bytes([LABELS, typed_cells()]))
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x01  # general purpose flag bit 0: encrypted
    error = failure(bytes(data), "import.xlsx")
    assert (error.code, error.reason) == ("malformed", "encrypted")


def bomb(entry_size: int, *, entries: int = 1, counting: bool = False) -> bytes:
    """A valid workbook plus parts of ``entry_size`` bytes each: spaces (as a zip bomb has them,
    compressing ~1000 : 1) or, ``counting``, numbered XML elements (compressing like real XML)."""
    data = workbook_bytes([LABELS, typed_cells()])
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            target.writestr(entry.filename, source.read(entry))
        for number in range(entries):
            with target.open(f"xl/media/padding{number}.xml", "w") as padding:
                if counting:
                    text = b"".join(b'<p n="%d"/>' % n for n in range(entry_size // 8 + 1))[:entry_size]
                    padding.write(text)
                    continue
                chunk = b" " * MiB
                for _ in range(entry_size // MiB):
                    padding.write(chunk)
                padding.write(b" " * (entry_size % MiB))
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    data = bomb(64 * MiB)
    assert len(data) < MiB // 4
    error = failure(data, "import.xlsx", max_bytes=MiB)  # 20 MiB may be unpacked
    assert (error.code, error.reason) == ("too_large", "uncompressed")
    assert error.message_de.startswith("Die Excel-Datei ist entpackt größer als 20 MB.")


def test_a_part_that_is_compressed_like_a_bomb_is_refused_under_any_size_limit() -> None:
    error = failure(bomb(64 * MiB), "import.xlsx", max_bytes=MiB, max_uncompressed_bytes=1 << 40)
    assert (error.code, error.reason) == ("too_large", "compression")


def test_a_zip_of_too_many_parts_is_refused() -> None:
    data = bomb(0, entries=import_file.MAX_ZIP_ENTRIES)
    error = failure(data, "import.xlsx", max_bytes=10 * MiB)
    assert (error.code, error.reason) == ("too_large", "entries")


def test_a_workbook_within_the_limits_is_read() -> None:
    data = bomb(8 * MiB, counting=True)  # compresses about 6 : 1, as real sheets do
    assert len(data) < 2 * MiB
    assert len(read(data, "import.xlsx", max_bytes=2 * MiB).rows) == 1
    # Parts up to 1 MiB may compress any amount (styles, themes, shared strings of a small file).
    assert len(read(bomb(MiB), "import.xlsx", max_bytes=MiB).rows) == 1


def test_a_row_far_beyond_excels_last_row_is_malformed() -> None:
    data = workbook_bytes([LABELS, typed_cells()])

    def far(xml: bytes) -> bytes:
        return xml.replace(
            b"</sheetData>", b'<row r="2000000"><c r="A2000000" t="n"><v>1</v></c></row></sheetData>'
        )

    error = failure(rewrite_entry(data, "xl/worksheets/sheet1.xml", far), "import.xlsx", max_bytes=10 * MiB)
    assert (error.code, error.reason) == ("malformed", "not_xlsx")


# -- nothing else escapes ---------------------------------------------------------------------

SAMPLE_XLSX = workbook_bytes([LABELS, typed_cells(), typed_cells(vertragsnummer="V-2")])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(SAMPLE_XLSX) - 1), st.integers(0, 255)), min_size=1, max_size=6))
def test_a_damaged_workbook_reads_or_raises_import_file_error(damage: list[tuple[int, int]]) -> None:
    data = bytearray(SAMPLE_XLSX)
    for position, value in damage:
        data[position] = value
    try:
        read(bytes(data), "import.xlsx")
    except ImportFileError as error:
        assert error.code in CODES
        assert error.message_de and error.detail


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda t: t.encode("utf-8"))))
def test_any_bytes_as_csv_read_or_raise_import_file_error(data: bytes) -> None:
    prefix = ";".join(LABELS).encode() + b"\r\n"
    for candidate in (data, prefix + data):
        try:
            read(candidate)
        except ImportFileError as error:
            assert error.code in CODES


# -- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "reason"), sorted(import_file._MESSAGES, key=str))
def test_every_error_has_a_german_message_and_an_english_detail(code: str, reason: str | None) -> None:
    error = ImportFileError(code, 7, "plz", columns=("plz",), reason=reason, limit=20 * MiB)
    assert error.reason == reason
    assert "{" not in error.message_de and "{" not in error.detail
    assert error.message_de != error.detail
    assert str(error) == error.detail


def test_unknown_codes_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown import file error code"):
        ImportFileError("kaputt")


@pytest.mark.parametrize(
    ("limit", "german", "english"),
    [
        (20 * MiB, "20 MB", "20 MB"),
        (20_000_000, "20 MB", "20 MB"),
        (1_500_000, "1,5 MB", "1.5 MB"),
        (512 * 1024, "512 kB", "512 kB"),
        (1 << 30, "1 GB", "1 GB"),
        (999, "999 Bytes", "999 bytes"),
    ],
)
def test_sizes_read_naturally(limit: int, german: str, english: str) -> None:
    error = ImportFileError("too_large", limit=limit)
    assert error.message_de == f"Die Datei ist größer als {german}."
    assert error.detail == f"The file is larger than {english}."


# -- the sample files -------------------------------------------------------------------------


def test_the_csv_sample_is_utf8_with_bom_semicolons_and_valid_rows() -> None:
    data = (DATA / "import-sample.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    table = read(data, "import-sample.csv")
    assert (table.encoding, table.delimiter, table.header) == ("utf-8-sig", ";", NAMES)
    records, errors = parse_rows(table.rows)
    assert errors == []
    assert len(records) == 10
    assert {r.occupation_code for r in records} == {"78100", "13100", "25400", "26200", "68400", "27400"}
    assert any(r.company.head_office_number == "4711001" for r in records)
    assert any(r.trainer is None for r in records) and any(r.trainer for r in records)
    assert any(r.part_time for r in records) and any(r.shortening_months for r in records)


def test_the_xlsx_sample_holds_the_same_records() -> None:
    csv_table = read((DATA / "import-sample.csv").read_bytes(), "import-sample.csv")
    xlsx_table = read((DATA / "import-sample.xlsx").read_bytes(), "import-sample.xlsx")
    csv_records, _ = parse_rows(csv_table.rows)
    xlsx_records, errors = parse_rows(xlsx_table.rows)
    assert errors == []
    assert xlsx_records == csv_records
    assert [r.line for r in xlsx_records] == [r.line for r in csv_records]
    assert [r.fingerprint() for r in xlsx_records] == [r.fingerprint() for r in csv_records]
    assert xlsx_table.rows[2].values["plz"] == "1067"  # a number cell in Excel, 01067 once parsed


def test_the_committed_xlsx_sample_is_what_the_script_makes() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/make_import_sample.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
