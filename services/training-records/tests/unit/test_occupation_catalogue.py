"""The shipped catalogue of recognised occupations (training_records/data/occupations.json).

The file is data the register is seeded from, so its shape is checked here, field by field, and so
is the promise that it ships inside the package (wheel and editable install alike).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from fnmatch import fnmatch
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

CATALOGUE = files("training_records") / "data" / "occupations.json"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

TOP_LEVEL_KEYS = {"source_note", "occupations"}
REQUIRED_KEYS = {"code", "title"}
OPTIONAL_KEYS = {"specialisms", "duration_months", "split_final_exam"}
DURATIONS = {24, 36, 42}
# A code is a five-digit number (the portal's historic codes) or a readable lowercase slug.
CODE = re.compile(r"\d{5}|[a-z0-9]+(?:-[a-z0-9]+)*")

# Demo data and tests elsewhere rely on exactly these codes and titles.
REQUIRED_OCCUPATIONS = {
    "78100": "Industriekaufmann/Industriekauffrau",
    "13100": "Fachinformatiker/-in Anwendungsentwicklung",
    "25400": "Industriemechaniker/-in",
    "26200": "Mechatroniker/-in",
    "68400": "Kaufmann/Kauffrau für Büromanagement",
    "27400": "Elektroniker/-in für Betriebstechnik",
}


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Any]:
    document = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    assert isinstance(document, dict), "the catalogue is a JSON object"
    return document


@pytest.fixture(scope="module")
def occupations(catalogue: dict[str, Any]) -> list[dict[str, Any]]:
    entries = catalogue["occupations"]
    assert isinstance(entries, list)
    assert all(isinstance(entry, dict) for entry in entries), "every occupation is a JSON object"
    return entries


def is_text(value: object) -> bool:
    return isinstance(value, str) and value.strip() == value and value != ""


def test_document_has_exactly_a_source_note_and_the_occupations(catalogue: dict[str, Any]) -> None:
    assert set(catalogue) == TOP_LEVEL_KEYS
    assert is_text(catalogue["source_note"])


def test_at_least_fifty_occupations(occupations: list[dict[str, Any]]) -> None:
    assert len(occupations) >= 50


def test_every_entry_has_code_and_title_and_no_unknown_keys(occupations: list[dict[str, Any]]) -> None:
    for entry in occupations:
        assert set(entry) >= REQUIRED_KEYS, entry
        assert set(entry) <= REQUIRED_KEYS | OPTIONAL_KEYS, f"unknown keys in {entry}"


def test_codes_are_unique_and_short(occupations: list[dict[str, Any]]) -> None:
    codes = [entry["code"] for entry in occupations]
    assert all(isinstance(code, str) for code in codes)
    assert [code for code in codes if not 0 < len(code) <= 20] == []
    assert [code for code in codes if not CODE.fullmatch(code)] == []
    assert [code for code, count in Counter(codes).items() if count > 1] == []


def test_titles_are_non_empty_unique_and_at_most_200_characters(occupations: list[dict[str, Any]]) -> None:
    titles = [entry["title"] for entry in occupations]
    assert [title for title in titles if not is_text(title) or len(title) > 200] == []
    assert [title for title, count in Counter(titles).items() if count > 1] == []


def test_durations_are_standard_training_lengths(occupations: list[dict[str, Any]]) -> None:
    for entry in occupations:
        if "duration_months" in entry:
            months = entry["duration_months"]
            assert type(months) is int and months in DURATIONS, entry


def test_exam_form_is_a_boolean(occupations: list[dict[str, Any]]) -> None:
    for entry in occupations:
        if "split_final_exam" in entry:
            assert type(entry["split_final_exam"]) is bool, entry


def test_specialisms_are_unique_non_empty_strings(occupations: list[dict[str, Any]]) -> None:
    for entry in occupations:
        if "specialisms" not in entry:
            continue
        specialisms = entry["specialisms"]
        assert isinstance(specialisms, list) and specialisms, f"left out when there are none: {entry}"
        assert all(is_text(name) for name in specialisms), entry
        assert len(set(specialisms)) == len(specialisms), entry


def test_the_portals_existing_codes_keep_their_titles(occupations: list[dict[str, Any]]) -> None:
    by_code = {entry["code"]: entry["title"] for entry in occupations}
    assert {code: by_code.get(code) for code in REQUIRED_OCCUPATIONS} == REQUIRED_OCCUPATIONS


def test_the_catalogue_is_declared_as_package_data() -> None:
    """The wheel (the images install with --no-editable) holds only what package-data names."""
    setuptools = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["setuptools"]
    patterns = setuptools["package-data"]["training_records"]
    assert any(fnmatch("data/occupations.json", pattern) for pattern in patterns)
