"""The catalogue of recognised occupations shipped with the project (``data/occupations.json``)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from training_records.domain.commands import OccupationEntry

CATALOGUE_FILE = "occupations.json"


def load() -> tuple[OccupationEntry, ...]:
    """The shipped entries; keys the data leaves out (facts not certain) stay unknown (None)."""
    text = resources.files("training_records").joinpath("data", CATALOGUE_FILE).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return tuple(
        OccupationEntry(
            code=entry["code"],
            title=entry["title"],
            specialisms=tuple(entry.get("specialisms", ())),
            duration_months=entry.get("duration_months"),
            split_final_exam=entry.get("split_final_exam"),
        )
        for entry in document["occupations"]
    )
