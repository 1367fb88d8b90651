"""Forms of the access-data pages (Flask-WTF: CSRF token included), with German messages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

KINDS = [
    SelectChoice("company", "Ausbildungsbetrieb (Identnummer)"),
    SelectChoice("apprentice", "Auszubildende/r (Azubinummer)"),
]


class AccessDataRequestForm(FlaskForm):
    kind = RadioField(
        "Für wen fordern Sie Zugangsdaten an?",
        choices=KINDS,
        validators=[DataRequired("Bitte wählen Sie aus, für wen Sie Zugangsdaten anfordern.")],
    )
    number = StringField(
        "Identnummer bzw. Azubinummer",
        description="Die Nummer steht auf Ihren Schreiben der IHK.",
        validators=[
            DataRequired("Bitte geben Sie die Identnummer bzw. Azubinummer ein."),
            Regexp(r"^\s*\d{1,20}\s*$", message="Die Nummer besteht nur aus Ziffern."),
        ],
    )
    contact_name = StringField(
        "Ihr Name (Ansprechpartner/-in)",
        validators=[
            DataRequired("Bitte geben Sie Ihren Namen ein."),
            Length(max=200, message="Die Eingabe ist zu lang."),
        ],
    )
