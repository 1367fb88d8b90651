"""Forms of the access pages (Account erstellen, Zugang freischalten), with German messages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import InputRequired, Length, Regexp

from gateway.web.forms import CreatingForm, GermanSelectField, _options

_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

KINDS = _options(
    [
        ("", "Bitte wählen"),
        ("company", "Ausbildungsbetrieb (Identnummer)"),
        ("apprentice", "Auszubildende/r (Azubinummer)"),
    ]
)


class InvitationForm(CreatingForm):
    email = EmailField(
        "E-Mail-Adresse",
        validators=[
            InputRequired("Bitte geben Sie die E-Mail-Adresse ein."),
            Length(max=254, message="Die E-Mail-Adresse ist zu lang."),
            Regexp(_EMAIL, message="Bitte geben Sie eine gültige E-Mail-Adresse ein."),
        ],
    )


class UnlockForm(CreatingForm):
    kind = GermanSelectField(
        "Zugang für",
        choices=KINDS,
        validators=[InputRequired("Bitte wählen Sie aus, wofür der Zugang gilt.")],
    )
    number = StringField(
        "Identnummer bzw. Azubinummer",
        validators=[
            InputRequired("Bitte geben Sie die Identnummer bzw. Azubinummer ein."),
            Regexp(r"^\s*\d{1,20}\s*$", message="Die Nummer besteht nur aus Ziffern."),
        ],
    )
    code = StringField(
        "Aktivierungscode",
        validators=[
            InputRequired("Bitte geben Sie den Aktivierungscode aus Ihrem Schreiben ein."),
            Length(max=64, message="Die Eingabe ist zu lang."),
        ],
    )


class ButtonForm(FlaskForm):
    """A button that does one thing (Erstellen, gedruckt): CSRF only."""
