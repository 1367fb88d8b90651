"""The forms, validated on the server with German messages (CSRF via Flask-WTF)."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType
from typing import Any, cast

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, HiddenField, SelectField, StringField, ValidationError
from wtforms.validators import InputRequired, Length, Regexp
from wtforms.widgets import TextInput

from gateway.web.services import NewContract
from gateway.web.submissions import TOKEN_PATTERN

_INVALID_DATE = "Bitte geben Sie ein gültiges Datum im Format TT.MM.JJJJ ein."
# Plausible addresses only; the service validates them again.
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


# Other names the services' problem pointers use for this form's fields.
CONTRACT_POINTER_ALIASES = MappingProxyType({"occupation": "occupation_code", "company": "company_number"})


def _required(label: str) -> InputRequired:
    return InputRequired(message=f"Bitte füllen Sie das Feld „{label}“ aus.")


class GermanDateField(DateField):
    """A date typed as ``TT.MM.JJJJ`` into a plain text input; empty is "missing", not "invalid".

    Not ``<input type="date">``: its picker looks and reads differently in every
    browser and screen reader, and it would make the "Format: TT.MM.JJJJ" hint
    untrue. A typed or pasted ISO date (``2026-08-01``) is accepted as well, and
    the field shows a valid date back as ``TT.MM.JJJJ``.
    """

    widget = TextInput()

    def __init__(self, label: str, validators: list[Any] | None = None, **kwargs: Any) -> None:
        render_kw = {"class": "input--date", "spellcheck": "false", **kwargs.pop("render_kw", {})}
        super().__init__(
            label,
            validators,
            format=["%d.%m.%Y", "%Y-%m-%d"],
            invalid_value_message=_INVALID_DATE,
            render_kw=render_kw,
            **kwargs,
        )

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist and not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata([value.strip() for value in valuelist])


class GermanSelectField(SelectField):
    """A select whose choices come from a service; an empty choice is "missing"."""

    def pre_validate(self, form: FlaskForm) -> None:
        if not self.data:
            return
        if self.data not in {value for value, _label in self.choices or ()}:
            raise ValidationError(f"Bitte wählen Sie einen Eintrag aus der Liste „{self.label.text}“.")


EXPIRED_FORM_MESSAGE = (
    "Das Formular war nicht mehr gültig. Bitte prüfen Sie Ihre Angaben und senden Sie es erneut."
)


class CreatingForm(FlaskForm):
    """A form that creates something: its one-time token makes a retried submission harmless (``submissions``)."""

    form_token = HiddenField(
        validators=[
            InputRequired(message=EXPIRED_FORM_MESSAGE),
            Regexp(TOKEN_PATTERN, message=EXPIRED_FORM_MESSAGE),
        ]
    )


class ContractForm(CreatingForm):
    """ "Ausbildungsvertrag eintragen"."""

    company_number = GermanSelectField("Ausbildungsbetrieb", validators=[_required("Ausbildungsbetrieb")])
    first_name = StringField(
        "Vorname", validators=[_required("Vorname"), Length(max=100, message="Höchstens 100 Zeichen.")]
    )
    last_name = StringField(
        "Nachname", validators=[_required("Nachname"), Length(max=100, message="Höchstens 100 Zeichen.")]
    )
    birth_date = GermanDateField("Geburtsdatum", validators=[_required("Geburtsdatum")])
    email = EmailField(
        "E-Mail-Adresse",
        validators=[
            _required("E-Mail-Adresse"),
            Length(max=254, message="Höchstens 254 Zeichen."),
            Regexp(_EMAIL, message="Bitte geben Sie eine gültige E-Mail-Adresse ein."),
        ],
    )
    occupation_code = GermanSelectField("Ausbildungsberuf", validators=[_required("Ausbildungsberuf")])
    start_date = GermanDateField("Beginn der Ausbildung", validators=[_required("Beginn der Ausbildung")])
    end_date = GermanDateField("Ende der Ausbildung", validators=[_required("Ende der Ausbildung")])

    def validate_birth_date(self, field: GermanDateField) -> None:
        if field.data and field.data >= date.today():
            raise ValidationError("Das Geburtsdatum muss in der Vergangenheit liegen.")

    def validate_end_date(self, field: GermanDateField) -> None:
        if field.data and self.start_date.data and field.data <= self.start_date.data:
            raise ValidationError("Das Ende der Ausbildung muss nach dem Beginn liegen.")

    @property
    def labels(self) -> dict[str, str]:
        return {f.name: str(f.label.text) for f in self if f.name not in ("csrf_token", "form_token")}

    def to_new_contract(self) -> NewContract:
        return NewContract(
            company_number=self.company_number.data,
            occupation_code=self.occupation_code.data,
            first_name=self.first_name.data.strip(),
            last_name=self.last_name.data.strip(),
            # Required fields: set once the form validated.
            birth_date=cast(date, self.birth_date.data),
            email=self.email.data.strip(),
            start_date=cast(date, self.start_date.data),
            end_date=cast(date, self.end_date.data),
        )
