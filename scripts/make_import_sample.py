"""Write the XLSX twin of training-records' import sample from the CSV sample, byte for byte reproducibly.

    .venv/bin/python scripts/make_import_sample.py          # (re)write import-sample.xlsx
    .venv/bin/python scripts/make_import_sample.py --check  # exit 1 if the committed file differs

The CSV (``training_records/data/import-sample.csv``) is the source. The workbook holds the same
rows as a clerk's Excel would: dates as date cells (shown TT.MM.JJJJ), numbers (Identnummer, PLZ,
Beruf, months) as number cells, so a PLZ such as 01067 loses its leading zero exactly as it does
in Excel; everything else as text. Reading both files must give the same records (the unit tests
check that, and that this script reproduces the committed workbook).

openpyxl stamps the save time into docProps/core.xml and zipfile stamps every entry; both are
fixed here, so the same CSV always gives the same bytes.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

from training_records.adapters.import_file import read_table
from training_records.domain.import_rows import COLUMNS

DATA = Path(__file__).resolve().parents[1] / "services/training-records/training_records/data"
CSV = DATA / "import-sample.csv"
XLSX = DATA / "import-sample.xlsx"

DATE_COLUMNS = {"azubi_geburtsdatum", "beginn", "ende", "eingetragen_am"}
NUMBER_COLUMNS = {
    "identnummer",
    "zentrale_identnummer",
    "plz",
    "beruf",
    "probezeit_monate",
    "verkuerzung_monate",
}
FIXED_TIME = datetime(2026, 1, 1)
ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def cell(column: str, text: str) -> object:
    if not text:
        return None
    if column in DATE_COLUMNS:
        day, month, year = (int(part) for part in text.split("."))
        return date(year, month, day)
    if column in NUMBER_COLUMNS:
        return int(text)
    return text


def workbook_bytes() -> bytes:
    table = read_table(CSV.read_bytes(), CSV.name, max_bytes=1 << 20, max_rows=1_000)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Datenübermittlung"
    labels = {column.name: column.label for column in COLUMNS}
    sheet.append([labels[name] for name in table.header])
    for row in table.rows:
        sheet.append([cell(name, row.values[name]) for name in table.header])
    for header in sheet[1]:
        header.font = Font(bold=True)
    for column_cells in sheet.iter_cols(min_row=2):
        for item in column_cells:
            if isinstance(item.value, date):
                item.number_format = "DD.MM.YYYY"
    sheet.freeze_panes = "A2"
    workbook.properties.creator = "Bildungsportal"
    workbook.properties.created = FIXED_TIME
    saved = io.BytesIO()
    workbook.save(saved)
    return _normalised(saved.getvalue())


def _normalised(data: bytes) -> bytes:
    """The same entries in the same order, with fixed timestamps (zip and document properties)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "docProps/core.xml":
                stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\g<2>", content
                )
            fixed = zipfile.ZipInfo(entry.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            target.writestr(fixed, content, compresslevel=9)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed workbook")
    arguments = parser.parse_args()
    data = workbook_bytes()
    if arguments.check:
        if not XLSX.exists() or XLSX.read_bytes() != data:
            print(f"{XLSX} is not what {CSV.name} gives: run scripts/make_import_sample.py", file=sys.stderr)
            return 1
        return 0
    XLSX.write_bytes(data)
    print(f"wrote {XLSX} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
