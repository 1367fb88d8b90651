"""PDF rendering: versioned Jinja2 HTML templates turned into tagged, accessible PDF/UA-1 with WeasyPrint.

A document's sealed content names its template and template version; the renderer keeps
every version that sealed documents may still name (``TEMPLATES``), so a document opened
for the first time long after it was issued renders as it was issued.
"""

from __future__ import annotations

import logging
import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from documents.domain.access_letters import ACCESS_LETTER
from documents.domain.model import REGISTRATION_CONFIRMATION, DocumentContent

# WeasyPrint narrates every rendering step at INFO; our logs keep only its warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# Dates and times on documents are what a reader in Germany expects.
LOCAL_TIME = ZoneInfo("Europe/Berlin")

# (template, version) -> file in adapters/templates. Never change a listed file's output:
# add a new version (and raise the domain's *_VERSION) instead.
TEMPLATES: dict[tuple[str, int], str] = {
    (REGISTRATION_CONFIRMATION, 1): "registration_confirmation.v1.html",
    (ACCESS_LETTER, 1): "access_letter.v1.html",
}

# The same content renders to the same bytes. WeasyPrint subsets the embedded fonts with
# HarfBuzz (libharfbuzz-subset0, which the Dockerfile and scripts/ install): deterministic.
# Without that library it falls back to fontTools, which stamps every subset with the time it
# was made (the font's 'head' table) unless SOURCE_DATE_EPOCH (the reproducible-builds
# convention) names one: this fixed value (2026-01-01T00:00:00Z; any fixed value would do).
FONT_TIMESTAMP = "1767225600"


class UnknownTemplate(LookupError):
    """Sealed content names a template (or version) this renderer does not have."""


def de_date(value: date | datetime | str) -> str:
    """``03.08.2026``; a point in time (ISO text with a time, or a datetime) as its date in Germany."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TIME).date()
    return value.strftime("%d.%m.%Y")


def de_datetime(value: datetime | str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(LOCAL_TIME).strftime("%d.%m.%Y, %H:%M Uhr")


def template_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("documents.adapters", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["de_date"] = de_date
    env.filters["de_datetime"] = de_datetime
    return env


class WeasyPrintRenderer:
    """Renders documents as PDF/UA-1: tagged structure, language ``de`` and a title in the metadata.

    The same content renders to the same bytes (with the same WeasyPrint, fonts and template).
    """

    pdf_variant = "pdf/ua-1"

    def __init__(self) -> None:
        self._env = template_environment()
        # Set once, while the process starts (before any worker thread): see FONT_TIMESTAMP.
        os.environ.setdefault("SOURCE_DATE_EPOCH", FONT_TIMESTAMP)

    def html_for(self, content: DocumentContent) -> str:
        name = TEMPLATES.get((content.template, content.template_version))
        if name is None:
            raise UnknownTemplate(f"no template {content.template!r} version {content.template_version}")
        return self._env.get_template(name).render(**content.fields)

    def render(self, content: DocumentContent) -> bytes:
        html = self.html_for(content)
        # Imported here: WeasyPrint loads pango at import, which only the rendering path needs
        # (issuing seals documents and never imports it).
        from weasyprint import HTML

        pdf = HTML(string=html).write_pdf(pdf_variant=self.pdf_variant)
        assert pdf is not None
        return pdf
