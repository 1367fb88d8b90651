"""The forms, validated on the server with German messages (CSRF via Flask-WTF)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from types import MappingProxyType
from typing import Any, cast

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import TextInput

from gateway.web.formatting import CONTRACT_STATES, TERMINATION_REASONS, months
from gateway.web.services import (
    IMPORT_MAX_BYTES,
    AtlasOffer,
    ChangeRequest,
    ContractFilters,
    NewContract,
    Occupation,
    TrainerInput,
)
from gateway.web.submissions import TOKEN_PATTERN

_INVALID_DATE = "Bitte geben Sie ein gültiges Datum im Format TT.MM.JJJJ ein."
# Plausible addresses only; the service validates them again.
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_EMAIL_MESSAGE = "Bitte geben Sie eine gültige E-Mail-Adresse ein."
_POSTAL_CODE = r"^\d{5}$"
_PHONE = r"^[0-9 +()/-]+$"
_WEBSITE = r"^https?://[^\s/$.?#][^\s]*$"


# Other names the services' problem pointers use for this form's fields.
CONTRACT_POINTER_ALIASES = MappingProxyType({"occupation": "occupation_code", "company": "company_number"})


def _required(label: str) -> InputRequired:
    return InputRequired(message=f"Bitte füllen Sie das Feld „{label}“ aus.")


def _chosen(label: str) -> InputRequired:
    return InputRequired(message=f"Bitte wählen Sie einen Eintrag im Feld „{label}“ aus.")


def _at_most(length: int) -> Length:
    return Length(max=length, message=f"Höchstens {length} Zeichen.")


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


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


class GermanIntegerField(IntegerField):
    """A whole number in a text input (``inputmode=numeric``), with a German message for anything else."""

    widget = TextInput()

    def __init__(self, label: str, validators: list[Any] | None = None, **kwargs: Any) -> None:
        render_kw = {"class": "input--number", "inputmode": "numeric", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        text = "".join(valuelist).strip() if valuelist else ""
        if not text:
            self.data = None
            return
        try:
            self.data = int(text)
        except ValueError:
            self.data = None
            raise ValueError("Bitte geben Sie eine ganze Zahl ein.") from None


class GermanSelectField(SelectField):
    """A select whose choices come from a service; an empty choice is "missing"."""

    def pre_validate(self, form: FlaskForm) -> None:
        if not self.data:
            return
        if self.data not in {choice.value for choice in self._choices_from_input(self.choices) or ()}:
            raise ValidationError(f"Bitte wählen Sie einen Eintrag aus der Liste „{self.label.text}“.")


def _options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


EXPIRED_FORM_MESSAGE = (
    "Das Formular war nicht mehr gültig. Bitte prüfen Sie Ihre Angaben und senden Sie es erneut."
)


class CreatingForm(FlaskForm):
    """A form that changes something: its one-time token makes a retried submission harmless (``submissions``)."""

    form_token = HiddenField(
        validators=[
            InputRequired(message=EXPIRED_FORM_MESSAGE),
            Regexp(TOKEN_PATTERN, message=EXPIRED_FORM_MESSAGE),
        ]
    )

    @property
    def labels(self) -> dict[str, str]:
        """German labels by field name (for the services' problem pointers)."""
        return {f.name: str(f.label.text) for f in self if f.name not in ("csrf_token", "form_token")}


class SearchForm(FlaskForm):
    """A GET form (search, filters): nothing changes, so no CSRF token in the address bar."""

    class Meta:
        csrf = False


# -- Ausbildungsvertrag eintragen ----------------------------------------------------------------

PROBATION_CHOICES = _options([("", "Bitte wählen")] + [(str(n), months(n)) for n in range(1, 5)])
SHORTENING_CHOICES = _options([("0", "keine Verkürzung")] + [(str(n), months(n)) for n in range(1, 13)])


class ContractForm(CreatingForm):
    """ "Ausbildungsvertrag eintragen"."""

    company_number = GermanSelectField("Ausbildungsbetrieb", validators=[_required("Ausbildungsbetrieb")])
    first_name = StringField("Vorname", validators=[_required("Vorname"), _at_most(100)])
    last_name = StringField("Nachname", validators=[_required("Nachname"), _at_most(100)])
    birth_date = GermanDateField("Geburtsdatum", validators=[_required("Geburtsdatum")])
    email = EmailField(
        "E-Mail-Adresse",
        validators=[_required("E-Mail-Adresse"), _at_most(254), Regexp(_EMAIL, message=_EMAIL_MESSAGE)],
    )
    occupation_code = GermanSelectField("Ausbildungsberuf", validators=[_required("Ausbildungsberuf")])
    specialism = GermanSelectField("Fachrichtung")
    start_date = GermanDateField("Beginn der Ausbildung", validators=[_required("Beginn der Ausbildung")])
    end_date = GermanDateField("Ende der Ausbildung", validators=[_required("Ende der Ausbildung")])
    probation_months = GermanSelectField(
        "Probezeit", choices=PROBATION_CHOICES, validators=[_chosen("Probezeit")]
    )
    shortened_by_months = GermanSelectField(
        "Verkürzung", choices=SHORTENING_CHOICES, default="0", validators=[Optional()]
    )
    part_time = BooleanField("Teilzeitausbildung")

    def set_occupations(self, occupations: Sequence[Occupation]) -> None:
        """The occupation select, and the Fachrichtung select grouped by the occupations that have them."""
        self._occupations = {o.code: o for o in occupations}
        self.occupation_code.choices = [("", "Bitte wählen")] + [
            (o.code, f"{o.title} ({o.code})") for o in occupations
        ]
        self.specialism.choices = [SelectChoice("", "keine Fachrichtung")] + [
            SelectChoice(specialism, specialism, optgroup=o.title)
            for o in occupations
            for specialism in o.specialisms
        ]

    def validate_birth_date(self, field: GermanDateField) -> None:
        if field.data and field.data >= date.today():
            raise ValidationError("Das Geburtsdatum muss in der Vergangenheit liegen.")

    def validate_end_date(self, field: GermanDateField) -> None:
        if field.data and self.start_date.data and field.data <= self.start_date.data:
            raise ValidationError("Das Ende der Ausbildung muss nach dem Beginn liegen.")

    def validate_specialism(self, field: GermanSelectField) -> None:
        occupation = getattr(self, "_occupations", {}).get(self.occupation_code.data)
        if occupation is None:
            return
        if field.data and field.data not in occupation.specialisms:
            if occupation.specialisms:
                raise ValidationError("Diese Fachrichtung gehört nicht zum gewählten Ausbildungsberuf.")
            raise ValidationError("Der gewählte Ausbildungsberuf hat keine Fachrichtungen.")
        if not field.data and occupation.specialisms:
            raise ValidationError("Bitte wählen Sie die Fachrichtung des Ausbildungsberufs.")

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
            probation_months=int(self.probation_months.data),
            part_time=bool(self.part_time.data),
            shortened_by_months=int(self.shortened_by_months.data or 0),
            specialism=self.specialism.data or None,
        )


# -- the chamber's search over the register --------------------------------------------------------

STATE_CHOICES = _options([("", "alle"), *CONTRACT_STATES.items()])


class ContractFilterForm(SearchForm):
    """The filters of "Ausbildungsverhältnisse" for chamber staff (GET)."""

    name = StringField("Name", validators=[Optional(), _at_most(100)])
    apprentice_number = StringField("Azubinummer", validators=[Optional(), _at_most(20)])
    company_number = StringField("Betrieb (Identnummer)", validators=[Optional(), _at_most(20)])
    occupation_code = GermanSelectField("Beruf", validators=[Optional()])
    state = GermanSelectField("Status", choices=STATE_CHOICES, validators=[Optional()])
    start_from = GermanDateField("Beginn von", validators=[Optional()])
    start_until = GermanDateField("Beginn bis", validators=[Optional()])
    registered_from = GermanDateField("Eingetragen von", validators=[Optional()])
    registered_until = GermanDateField("Eingetragen bis", validators=[Optional()])

    def validate_start_until(self, field: GermanDateField) -> None:
        if field.data and self.start_from.data and field.data < self.start_from.data:
            raise ValidationError("„Beginn bis“ darf nicht vor „Beginn von“ liegen.")

    def validate_registered_until(self, field: GermanDateField) -> None:
        if field.data and self.registered_from.data and field.data < self.registered_from.data:
            raise ValidationError("„Eingetragen bis“ darf nicht vor „Eingetragen von“ liegen.")

    @property
    def labels(self) -> dict[str, str]:
        return {f.name: str(f.label.text) for f in self}

    def to_filters(self) -> ContractFilters:
        return ContractFilters(
            name=_clean(self.name.data),
            apprentice_number=_clean(self.apprentice_number.data),
            company_number=_clean(self.company_number.data),
            occupation_code=self.occupation_code.data or None,
            state=self.state.data or None,
            start_from=self.start_from.data,
            start_until=self.start_until.data,
            registered_from=self.registered_from.data,
            registered_until=self.registered_until.data,
        )

    def as_args(self) -> dict[str, str]:
        """The filters as typed, for the "Nächste Seite" link."""
        return {f.name: str(f.raw_data[0]).strip() for f in self if f.raw_data and str(f.raw_data[0]).strip()}


# -- the steps of a contract's life ---------------------------------------------------------------


class ChangeForm(CreatingForm):
    """One step of a contract's life; subclasses add what the step needs."""

    KIND = ""
    note = TextAreaField("Bemerkung (optional)", validators=[Optional(), _at_most(500)])

    def to_change(self) -> ChangeRequest:
        return ChangeRequest(
            kind=self.KIND,
            effective_on=getattr(getattr(self, "effective_on", None), "data", None),
            end_date=getattr(getattr(self, "end_date", None), "data", None),
            note=_clean(self.note.data),
        )


class ExtendForm(ChangeForm):
    KIND = "extended"
    end_date = GermanDateField(
        "Neues Ende der Ausbildung", validators=[_required("Neues Ende der Ausbildung")]
    )


class ShortenForm(ChangeForm):
    KIND = "shortened"
    end_date = GermanDateField(
        "Neues Ende der Ausbildung", validators=[_required("Neues Ende der Ausbildung")]
    )


class InterruptForm(ChangeForm):
    KIND = "interrupted"
    effective_on = GermanDateField("Unterbrochen ab", validators=[_required("Unterbrochen ab")])


class ResumeForm(ChangeForm):
    KIND = "resumed"
    effective_on = GermanDateField("Fortgesetzt am", validators=[_required("Fortgesetzt am")])
    end_date = GermanDateField("Neues Ende der Ausbildung (optional)", validators=[Optional()])


NO_TRAINER = "keine"


class TrainerChangeForm(ChangeForm):
    KIND = "trainer_changed"
    trainer_id = GermanSelectField("Neue/r Ausbilder/-in", validators=[_chosen("Neue/r Ausbilder/-in")])
    effective_on = GermanDateField("Wirksam ab (optional)", validators=[Optional()])

    def to_change(self) -> ChangeRequest:
        chosen = self.trainer_id.data
        return ChangeRequest(
            kind=self.KIND,
            effective_on=self.effective_on.data,
            trainer_id=None if chosen == NO_TRAINER else chosen,
            note=_clean(self.note.data),
        )


class CompleteForm(ChangeForm):
    KIND = "completed"
    effective_on = GermanDateField("Abgeschlossen am", validators=[_required("Abgeschlossen am")])


class TerminateForm(ChangeForm):
    KIND = "terminated"
    effective_on = GermanDateField("Gelöst zum", validators=[_required("Gelöst zum")])
    reason = GermanSelectField(
        "Grund",
        choices=_options([("", "Bitte wählen"), *TERMINATION_REASONS.items()]),
        validators=[_chosen("Grund")],
    )

    def to_change(self) -> ChangeRequest:
        return ChangeRequest(
            kind=self.KIND,
            effective_on=self.effective_on.data,
            reason=self.reason.data,
            note=_clean(self.note.data),
        )


# -- Ausbilder/-in ---------------------------------------------------------------------------------


class TrainerForm(CreatingForm):
    first_name = StringField("Vorname", validators=[_required("Vorname"), _at_most(100)])
    last_name = StringField("Nachname", validators=[_required("Nachname"), _at_most(100)])
    email = EmailField(
        "E-Mail-Adresse",
        validators=[_required("E-Mail-Adresse"), _at_most(254), Regexp(_EMAIL, message=_EMAIL_MESSAGE)],
    )
    qualified = BooleanField("Ausbildereignung (AEVO) liegt vor")

    def to_input(self) -> TrainerInput:
        return TrainerInput(
            first_name=self.first_name.data.strip(),
            last_name=self.last_name.data.strip(),
            email=self.email.data.strip(),
            qualified=bool(self.qualified.data),
        )


class ConfirmForm(CreatingForm):
    """A button that removes something: CSRF and its one-time token, nothing else."""


# -- Ausbildungsatlas ------------------------------------------------------------------------------


class AtlasEntryForm(CreatingForm):
    occupation_code = GermanSelectField("Ausbildungsberuf", validators=[_chosen("Ausbildungsberuf")])
    places = GermanIntegerField(
        "Freie Ausbildungsplätze",
        validators=[
            _required("Freie Ausbildungsplätze"),
            NumberRange(0, 999, message="Bitte geben Sie eine Zahl von 0 bis 999 ein."),
        ],
    )
    postal_code = StringField(
        "Postleitzahl",
        validators=[
            _required("Postleitzahl"),
            Regexp(_POSTAL_CODE, message="Die Postleitzahl hat fünf Ziffern."),
        ],
        render_kw={"inputmode": "numeric", "class": "input--short"},
    )
    city = StringField("Ort", validators=[_required("Ort"), _at_most(100)])
    contact_name = StringField("Ansprechpartner/-in (optional)", validators=[Optional(), _at_most(200)])
    contact_email = EmailField(
        "E-Mail-Adresse (optional)",
        validators=[Optional(), _at_most(254), Regexp(_EMAIL, message=_EMAIL_MESSAGE)],
    )
    contact_phone = StringField(
        "Telefon (optional)",
        validators=[
            Optional(),
            _at_most(40),
            Regexp(_PHONE, message="Bitte nur Ziffern, Leerzeichen und + ( ) / - verwenden."),
        ],
    )
    website = StringField(
        "Website (optional)",
        validators=[
            Optional(),
            _at_most(300),
            Regexp(_WEBSITE, message="Bitte geben Sie die Adresse mit https:// an."),
        ],
    )

    def to_offer(self) -> AtlasOffer:
        return AtlasOffer(
            places=cast(int, self.places.data),
            postal_code=self.postal_code.data.strip(),
            city=self.city.data.strip(),
            contact_name=_clean(self.contact_name.data),
            contact_email=_clean(self.contact_email.data),
            contact_phone=_clean(self.contact_phone.data),
            website=_clean(self.website.data),
        )


class ConsentForm(CreatingForm):
    consent = BooleanField("Veröffentlichung im Ausbildungsatlas zustimmen")


class AtlasSearchForm(SearchForm):
    """The public search (GET, no login)."""

    occupation_code = GermanSelectField("Ausbildungsberuf", validators=[_chosen("Ausbildungsberuf")])
    place = StringField("PLZ oder Ort (optional)", validators=[Optional(), _at_most(100)])


# -- Datenübermittlung -----------------------------------------------------------------------------


class ImportForm(CreatingForm):
    file = FileField(
        "Datei (CSV oder Excel)",
        validators=[
            FileRequired(message="Bitte wählen Sie eine Datei aus."),
            FileAllowed(["csv", "xlsx"], message="Bitte wählen Sie eine CSV- oder XLSX-Datei (.csv, .xlsx)."),
            FileSize(
                IMPORT_MAX_BYTES,
                message=f"Die Datei ist größer als {IMPORT_MAX_BYTES // (1024 * 1024)} MB.",
            ),
        ],
        render_kw={
            "accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        },
    )
