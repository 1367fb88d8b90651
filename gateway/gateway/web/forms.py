"""The forms, validated on the server with German messages (CSRF via Flask-WTF)."""

from __future__ import annotations

from datetime import date
from types import MappingProxyType

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, ValidationError
from wtforms.validators import InputRequired, Length, Regexp

from gateway.web.services import NewContract

_INVALID_DATE = "Bitte geben Sie ein gültiges Datum im Format TT.MM.JJJJ ein."
# Plausible addresses only; the service validates them again.
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


# Other names the services' problem pointers use for this form's fields.
CONTRACT_POINTER_ALIASES = MappingProxyType({"occupation": "occupation_code", "company": "company_number"})


def _required(label: str) -> InputRequired:
    return InputRequired(message=f"Bitte füllen Sie das Feld „{label}“ aus.")


class GermanDateField(DateField):
    """Accepts the browser's ISO date and a typed ``TT.MM.JJJJ``; empty is "missing", not "invalid"."""

    def __init__(self, label: str, validators: list | None = None, **kwargs) -> None:  # type: ignore[type-arg]
        super().__init__(
            label, validators, format=["%Y-%m-%d", "%d.%m.%Y"], invalid_value_message=_INVALID_DATE, **kwargs
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


class ContractForm(FlaskForm):
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
        return {f.name: str(f.label.text) for f in self if f.name != "csrf_token"}

    def to_new_contract(self) -> NewContract:
        return NewContract(
            company_number=self.company_number.data,
            occupation_code=self.occupation_code.data,
            first_name=self.first_name.data.strip(),
            last_name=self.last_name.data.strip(),
            birth_date=self.birth_date.data,
            email=self.email.data.strip(),
            start_date=self.start_date.data,
            end_date=self.end_date.data,
        )
