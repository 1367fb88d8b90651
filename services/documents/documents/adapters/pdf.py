"""PDF rendering: Jinja2 HTML templates turned into tagged, accessible PDF/UA-1 with WeasyPrint."""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from documents.domain.model import COMPANY, Confirmation

# WeasyPrint narrates every rendering step at INFO; our logs keep only its warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# Dates and times on documents are what a reader in Germany expects.
LOCAL_TIME = ZoneInfo("Europe/Berlin")


def de_date(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TIME).date()
    return value.strftime("%d.%m.%Y")


def de_datetime(value: datetime) -> str:
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
    """Renders documents as PDF/UA-1: tagged structure, language ``de`` and a title in the metadata."""

    pdf_variant = "pdf/ua-1"

    def __init__(self) -> None:
        self._env = template_environment()

    def html_for(self, confirmation: Confirmation) -> str:
        heading = "Eintragungsbestätigung"
        heading += (
            " für den Ausbildungsbetrieb" if confirmation.recipient_kind == COMPANY else " für Auszubildende"
        )
        return self._env.get_template("registration_confirmation.html").render(
            title=confirmation.title,
            heading=heading,
            contract=confirmation.contract,
            recipient_kind=confirmation.recipient_kind,
            issued_at=confirmation.issued_at,
            access=confirmation.access,
            activation_url=confirmation.activation_url,
        )

    def registration_confirmation(self, confirmation: Confirmation) -> bytes:
        # Imported here: WeasyPrint loads pango at import, which only the PDF path needs.
        from weasyprint import HTML

        html = self.html_for(confirmation)
        pdf = HTML(string=html).write_pdf(pdf_variant=self.pdf_variant)
        assert pdf is not None
        return pdf
