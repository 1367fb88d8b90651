"""Reading the chamber's import file (Datenübermittlung): CSV or XLSX bytes into a table of text.

:func:`read_table` turns an uploaded file into an :class:`ImportTable`: the header as column names
(normalised with ``domain.import_rows.canonical_column``) and one :class:`SourceRow` per data row,
keyed by column name and numbered as the clerk sees the file (the header is line 1 in a file
that starts with it; a row spanning several lines counts from its first). Whatever is wrong with
the file as a whole raises :class:`ImportFileError` with a code for the API and a German message
for the UI; no ``csv``, ``zipfile`` or ``openpyxl`` exception escapes. Checking the values of a
row is the domain's job (``domain.import_rows.parse_row``).

CSV: UTF-8 with or without BOM (UTF-16 with BOM too, as Excel's "Unicode-Text"), else
Windows-1252; ``;``, ``,`` or tab as delimiter (the one found most often outside quotes in the
header line, or Excel's ``sep=`` line), fields quoted with ``"``, blank lines skipped.

XLSX: the first worksheet, read with openpyxl in read-only mode with cached formula values.
Before openpyxl sees the file, the zip's entries are checked (count, total uncompressed size and
compression ratio), so a small upload cannot unpack into gigabytes; rows are read one at a time
and reading stops at the row limit.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import zipfile
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import openpyxl

from training_records.domain.import_rows import REQUIRED_COLUMNS, canonical_column, column_label

# -- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """One data row: ``line`` where it starts in the file, the cells keyed by column name."""

    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class ImportTable:
    """The file's named columns in file order and its non-blank data rows.

    ``format`` is ``csv`` or ``xlsx``; for CSV, ``encoding`` and ``delimiter`` say how it was
    read (for the clerk's confirmation: "gelesen als Windows-1252, Semikolon").
    """

    header: tuple[str, ...]
    rows: list[SourceRow]
    format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None


# -- errors -----------------------------------------------------------------------------------

TOO_LARGE = "too_large"
EMPTY = "empty"
TOO_MANY_ROWS = "too_many_rows"
MALFORMED = "malformed"
MISSING_COLUMNS = "missing_columns"
UNKNOWN_FORMAT = "unknown_format"
DUPLICATE_COLUMNS = "duplicate_columns"
CODES = frozenset(
    {TOO_LARGE, EMPTY, TOO_MANY_ROWS, MALFORMED, MISSING_COLUMNS, UNKNOWN_FORMAT, DUPLICATE_COLUMNS}
)

# Why a file is ``malformed`` (or ``too_large``/``empty``), for a message that helps the clerk.
_MESSAGES: dict[tuple[str, str | None], tuple[str, str]] = {
    # (code, reason): (German message, English detail); {line}, {size}, {limit}, {columns} filled in
    (TOO_LARGE, None): ("Die Datei ist größer als {size}.", "The file is larger than {size}."),
    (TOO_LARGE, "uncompressed"): (
        "Die Excel-Datei ist entpackt größer als {size}. Bitte teilen Sie die Daten auf mehrere Dateien auf.",
        "The workbook unpacks to more than {size}.",
    ),
    (TOO_LARGE, "compression"): (
        "Die Excel-Datei ist ungewöhnlich stark komprimiert und wird aus Sicherheitsgründen nicht gelesen.",
        "A part of the workbook is compressed suspiciously well (a zip bomb?); it is not read.",
    ),
    (TOO_LARGE, "entries"): (
        "Die Excel-Datei besteht aus zu vielen Teilen und wird nicht gelesen.",
        "The workbook has too many parts.",
    ),
    (EMPTY, None): ("Die Datei enthält keine Datenzeilen.", "The file has no data rows."),
    (EMPTY, "no_header"): (
        "Die Datei ist leer.",
        "The file is empty: no header line and no data rows.",
    ),
    (EMPTY, "no_worksheet"): (
        "Die Excel-Datei enthält kein Tabellenblatt.",
        "The workbook has no worksheet.",
    ),
    (TOO_MANY_ROWS, None): (
        "Die Datei enthält mehr als {limit} Datenzeilen. Bitte teilen Sie die Daten auf mehrere Dateien auf.",
        "The file has more than {limit} data rows.",
    ),
    (MALFORMED, "quoting"): (
        "Zeile {line}: Anführungszeichen sind nicht richtig gesetzt. Ein Wert in Anführungszeichen "
        "muss mit einem Anführungszeichen enden; ein Anführungszeichen im Wert wird verdoppelt.",
        "Line {line}: bad quoting.",
    ),
    (MALFORMED, "field_too_large"): (
        "Zeile {line}: ein Wert ist zu lang (oder ein Anführungszeichen wird nicht geschlossen).",
        "Line {line}: a field is too large (or a quote is never closed).",
    ),
    (MALFORMED, "too_many_fields"): (
        "Zeile {line} hat mehr Werte als die Kopfzeile Spalten. Enthält ein Wert das Trennzeichen? "
        "Dann setzen Sie ihn in Anführungszeichen.",
        "Line {line} has more fields than the header has columns.",
    ),
    (MALFORMED, "encoding"): (
        "Die Zeichenkodierung der Datei wurde nicht erkannt. Bitte speichern Sie sie als „CSV UTF-8“.",
        "The text is neither UTF-8 nor Windows-1252.",
    ),
    (MALFORMED, "binary"): (
        "Die Datei ist keine CSV-Textdatei. Ist es eine Excel-Datei? Dann laden Sie sie mit der Endung .xlsx hoch.",
        "The file is not CSV text (binary content).",
    ),
    (MALFORMED, "not_xlsx"): (
        "Die Datei ist keine gültige Excel-Datei (.xlsx).",
        "The file is not a valid XLSX workbook.",
    ),
    (MALFORMED, "xls"): (
        "Die Datei ist im alten Excel-Format (.xls). Bitte speichern Sie sie als .xlsx oder CSV.",
        "The file is a legacy .xls workbook; XLSX or CSV is expected.",
    ),
    (MALFORMED, "encrypted"): (
        "Die Excel-Datei ist mit einem Kennwort geschützt. Bitte speichern Sie sie ohne Kennwort.",
        "The workbook is encrypted.",
    ),
    (MISSING_COLUMNS, None): (
        "Es fehlen Pflichtspalten: {columns}. Die erste Zeile der Datei muss die Spaltennamen enthalten.",
        "Required columns are missing: {columns}.",
    ),
    (UNKNOWN_FORMAT, None): (
        "Dieses Dateiformat wird nicht unterstützt. Bitte laden Sie eine CSV-Datei oder eine Excel-Datei (.xlsx) hoch.",
        "Unsupported file type: expected .csv or .xlsx.",
    ),
    (DUPLICATE_COLUMNS, None): (
        "Diese Spalten kommen mehrfach vor: {columns}. Jede Spalte darf nur einmal vorkommen.",
        "Columns appear more than once: {columns}.",
    ),
}


class ImportFileError(Exception):
    """The file as a whole cannot be read.

    ``code`` is one of :data:`CODES`; ``line`` and ``column`` point at the place where known;
    ``columns`` lists the missing or duplicate columns; ``reason`` refines ``code`` (e.g.
    ``encrypted`` for a ``malformed`` workbook). ``message_de`` is for the clerk, ``detail``
    (English) for the API.
    """

    def __init__(
        self,
        code: str,
        line: int | None = None,
        column: str | None = None,
        *,
        columns: Sequence[str] = (),
        reason: str | None = None,
        limit: int | None = None,
    ) -> None:
        if code not in CODES:
            raise ValueError(f"unknown import file error code {code!r}")
        self.code = code
        self.line = line
        self.column = column
        self.columns = tuple(columns)
        self.reason = reason if (code, reason) in _MESSAGES else None
        self.limit = limit
        super().__init__(self.detail)

    def _format(self, template: str, *, german: bool) -> str:
        limit = self.limit or 0
        return template.format(
            line=self.line,
            size=_size(limit, german=german),
            limit=f"{limit:,}".replace(",", "." if german else ","),
            columns=", ".join(
                (f"„{column_label(c)}“" if german else c) for c in self.columns or [self.column or ""]
            ),
        )

    @property
    def message_de(self) -> str:
        return self._format(_MESSAGES[self.code, self.reason][0], german=True)

    @property
    def detail(self) -> str:
        return self._format(_MESSAGES[self.code, self.reason][1], german=False)


def _size(limit: int, *, german: bool) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if limit >= factor and limit % factor == 0:
            return f"{limit // factor} {unit}"
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if limit >= factor:
            text = f"{limit / factor:.1f}".removesuffix(".0")
            return f"{text.replace('.', ',') if german else text} {unit}"
    return f"{limit} Bytes" if german else f"{limit} bytes"


# -- reading ----------------------------------------------------------------------------------

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values", "text/x-csv"})
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DELIMITERS = (";", ",", "\t")  # ";" first: German Excel's default wins a tie

# Zip-bomb guards for XLSX (checked on the zip's directory before anything is unpacked).
UNCOMPRESSED_FACTOR = 20  # the unpacked parts may total 20 × the upload limit
MAX_ZIP_ENTRIES = 1_000
MAX_COMPRESSION_RATIO = 200  # real sheets compress ~5–30×; deflate bombs approach 1000×
RATIO_CHECKED_ABOVE = 1 << 20  # small parts (styles, themes) may compress better
MAX_HEADER_COLUMNS = 256
EXCEL_MAX_ROW = 1_048_576

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, and encrypted OOXML
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def read_table(
    data: bytes,
    filename: str,
    *,
    max_bytes: int,
    max_rows: int,
    content_type: str | None = None,
    max_uncompressed_bytes: int | None = None,
) -> ImportTable:
    """Read an uploaded CSV or XLSX file into a table (see the module docstring).

    The format follows the file name's extension; without one, the content type. Raises
    :class:`ImportFileError`: ``too_large`` over ``max_bytes`` (for XLSX also when its parts
    unpack to more than ``max_uncompressed_bytes``, by default 20 × ``max_bytes``),
    ``unknown_format``, ``malformed``, ``duplicate_columns``, ``missing_columns``,
    ``too_many_rows`` over ``max_rows`` data rows, ``empty`` without any.
    """
    if len(data) > max_bytes:
        raise ImportFileError(TOO_LARGE, limit=max_bytes)
    kind = _format(filename, content_type)
    if not data:
        raise ImportFileError(EMPTY, reason="no_header")
    if kind == "csv":
        return _read_csv(data, max_rows=max_rows)
    unpacked_limit = (
        max_uncompressed_bytes if max_uncompressed_bytes is not None else max_bytes * UNCOMPRESSED_FACTOR
    )
    return _read_xlsx(data, max_rows=max_rows, max_uncompressed_bytes=unpacked_limit)


def _format(filename: str, content_type: str | None) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    if dot and stem:
        extension = extension.strip().lower()
        if extension in ("csv", "xlsx"):
            return extension
        raise ImportFileError(UNKNOWN_FORMAT)
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in CSV_TYPES:
        return "csv"
    if media_type == XLSX_TYPE:
        return "xlsx"
    raise ImportFileError(UNKNOWN_FORMAT)


def _table(
    header_cells: Sequence[str],
    header_line: int,
    records: Iterable[tuple[int, Sequence[str]]],
    *,
    max_rows: int,
    strict_width: bool,
    format: str,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> ImportTable:
    """Name the columns, check them, and collect the non-blank rows up to the limit.

    ``records`` yields (line, cells) after the header line. With ``strict_width`` (CSV), a row
    with a non-empty cell beyond the header is an error: a delimiter inside an unquoted value has
    shifted its cells.
    """
    names = [canonical_column(cell) for cell in header_cells]
    while names and not names[-1]:
        names.pop()
    seen: set[str] = set()
    duplicates: list[str] = []
    for name in filter(None, names):
        if name in seen and name not in duplicates:
            duplicates.append(name)
        seen.add(name)
    if duplicates:
        raise ImportFileError(DUPLICATE_COLUMNS, header_line, duplicates[0], columns=duplicates)
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        raise ImportFileError(MISSING_COLUMNS, header_line, missing[0], columns=missing)
    named = [(index, name) for index, name in enumerate(names) if name]
    width = len(names)
    rows: list[SourceRow] = []
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue
        if strict_width and any(cell.strip() for cell in cells[width:]):
            raise ImportFileError(MALFORMED, line, reason="too_many_fields")
        if len(rows) == max_rows:
            raise ImportFileError(TOO_MANY_ROWS, line, limit=max_rows)
        rows.append(
            SourceRow(line, {name: cells[index] if index < len(cells) else "" for index, name in named})
        )
    if not rows:
        raise ImportFileError(EMPTY)
    return ImportTable(
        header=tuple(name for _, name in named),
        rows=rows,
        format=format,
        encoding=encoding,
        delimiter=delimiter,
    )


# -- CSV --------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        raise ImportFileError(MALFORMED, reason="binary")
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            encoding = "cp1252"
    if encoding != "utf-8":
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise ImportFileError(MALFORMED, reason="encoding") from None
    if "\x00" in text:
        raise ImportFileError(MALFORMED, reason="binary")
    return text, encoding


def _sniff_delimiter(line: str) -> str:
    """The delimiter found most often outside quotes in the header line (``;`` on a tie or none)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equals


def _read_csv(data: bytes, *, max_rows: int) -> ImportTable:
    text, encoding = _decode(data)
    lines = io.StringIO(text, newline="")  # universal newlines, untranslated: csv needs them raw
    offset = 0  # physical lines before the first one csv reads
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if len(stripped) == 5 and stripped.lower().startswith("sep="):  # Excel's "sep=;" line
            delimiter, offset = stripped[4], number
        else:
            delimiter, offset = _sniff_delimiter(line), number - 1
        break
    else:
        raise ImportFileError(EMPTY, reason="no_header")
    lines.seek(0)
    for _ in range(offset):
        lines.readline()
    records = _csv_records(lines, delimiter, offset)
    try:
        header = next((record for record in records if any(cell.strip() for cell in record[1])), None)
        if header is None:
            raise ImportFileError(EMPTY, reason="no_header")
        header_line, header_cells = header
        return _table(
            header_cells,
            header_line,
            records,
            max_rows=max_rows,
            strict_width=True,
            format="csv",
            encoding=encoding,
            delimiter=delimiter,
        )
    finally:
        records.close()


def _csv_records(lines: Iterator[str], delimiter: str, offset: int) -> Generator[tuple[int, list[str]]]:
    """(first line of the record, its cells) for every record, blank lines included.

    ``strict``: a quote that is never closed, or text after a closing quote, is an error instead
    of silently swallowing the rows that follow.
    """
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
    while True:
        start = offset + reader.line_num + 1  # line_num: the physical lines read so far
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            reason = "field_too_large" if "field larger" in str(error) else "quoting"
            raise ImportFileError(MALFORMED, start, reason=reason) from None
        yield start, cells


# -- XLSX -------------------------------------------------------------------------------------


def _check_zip(data: bytes, *, max_uncompressed_bytes: int) -> None:
    """Refuse what is not a zip, is encrypted or would unpack into too much, before openpyxl."""
    if data.startswith(_OLE_MAGIC):
        raise ImportFileError(MALFORMED, reason="encrypted" if _ENCRYPTED_PACKAGE in data else "xls")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise ImportFileError(MALFORMED, reason="not_xlsx") from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise ImportFileError(TOO_LARGE, reason="entries", limit=max_uncompressed_bytes)
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise ImportFileError(MALFORMED, reason="encrypted")
    if sum(entry.file_size for entry in entries) > max_uncompressed_bytes:
        raise ImportFileError(TOO_LARGE, reason="uncompressed", limit=max_uncompressed_bytes)
    for entry in entries:
        if entry.file_size > RATIO_CHECKED_ABOVE and entry.file_size > MAX_COMPRESSION_RATIO * max(
            entry.compress_size, 1
        ):
            raise ImportFileError(TOO_LARGE, reason="compression", limit=max_uncompressed_bytes)
    # zipfile never unpacks more than an entry declares (it stops and fails the CRC check), so the
    # sizes checked above bound what openpyxl can read.


def _read_xlsx(data: bytes, *, max_rows: int, max_uncompressed_bytes: int) -> ImportTable:
    _check_zip(data, max_uncompressed_bytes=max_uncompressed_bytes)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises anything from KeyError to XML errors on a bad file
        raise ImportFileError(MALFORMED, reason="not_xlsx") from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(EMPTY, reason="no_worksheet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the stored dimension may be wrong; read what is there
        return _read_sheet(sheet, max_rows=max_rows)
    except ImportFileError:
        raise
    except Exception:  # noqa: BLE001 - a broken part shows only while the rows are parsed
        raise ImportFileError(MALFORMED, reason="not_xlsx") from None
    finally:
        workbook.close()


def _read_sheet(sheet: Any, *, max_rows: int) -> ImportTable:
    header_line = 0
    header_cells: list[str] = []
    header_rows = sheet.iter_rows(max_col=MAX_HEADER_COLUMNS, values_only=True)
    try:
        for header_line, values in enumerate(header_rows, start=1):
            if header_line > EXCEL_MAX_ROW:
                raise ImportFileError(MALFORMED, reason="not_xlsx")
            header_cells = [cell_text(value) for value in values]
            if any(cell.strip() for cell in header_cells):
                break
        else:
            raise ImportFileError(EMPTY, reason="no_header")
    finally:
        header_rows.close()
    width = max((index + 1 for index, cell in enumerate(header_cells) if cell.strip()), default=1)

    def records() -> Iterator[tuple[int, list[str]]]:
        rows = sheet.iter_rows(min_row=header_line + 1, max_col=width, values_only=True)
        try:
            for line, values in enumerate(rows, start=header_line + 1):
                if line > EXCEL_MAX_ROW:
                    raise ImportFileError(MALFORMED, reason="not_xlsx")
                yield line, [cell_text(value) for value in values]
        finally:
            rows.close()

    return _table(
        header_cells[:width], header_line, records(), max_rows=max_rows, strict_width=False, format="xlsx"
    )


def cell_text(value: object) -> str:
    """A cell's value as the text a clerk would have typed.

    Dates (and date-times) become ISO dates, integral numbers integers (an Identnummer 4711001,
    not "4711001.0"), booleans ja/nein, empty cells "".
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, timedelta):
        return str(value)
    return str(value)
