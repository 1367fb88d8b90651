from __future__ import annotations

from gateway.web.field_errors import map_problem_errors
from gateway.web.forms import CONTRACT_POINTER_ALIASES

LABELS = {
    "company_number": "Ausbildungsbetrieb",
    "first_name": "Vorname",
    "last_name": "Nachname",
    "birth_date": "Geburtsdatum",
    "email": "E-Mail-Adresse",
    "occupation_code": "Ausbildungsberuf",
    "start_date": "Beginn der Ausbildung",
    "end_date": "Ende der Ausbildung",
}


def test_nested_pointers_name_the_form_field_with_a_german_message() -> None:
    mapped = map_problem_errors(
        [
            {"pointer": "#/apprentice/last_name", "detail": "Missing data for required field."},
            {"pointer": "#/apprentice/email", "detail": "Not a valid email address."},
            {"pointer": "#/start_date", "detail": "Not a valid date."},
        ],
        LABELS,
    )
    assert mapped.by_field == {
        "last_name": ["Bitte füllen Sie das Feld „Nachname“ aus."],
        "email": ["Bitte geben Sie eine gültige E-Mail-Adresse ein."],
        "start_date": ["Bitte geben Sie ein gültiges Datum im Format TT.MM.JJJJ ein."],
    }
    assert mapped.general == []


def test_domain_rules_get_their_own_german_wording() -> None:
    mapped = map_problem_errors(
        [
            {"pointer": "#/end_date", "detail": "The end date must be after the start date."},
            {"pointer": "#/apprentice/birth_date", "detail": "The apprentice must be at least 15 years old."},
        ],
        LABELS,
    )
    assert mapped.by_field["end_date"] == ["Das Ende der Ausbildung muss nach dem Beginn liegen."]
    assert mapped.by_field["birth_date"] == [
        "Das Geburtsdatum muss in der Vergangenheit liegen und plausibel sein."
    ]


def test_aliases_map_the_services_names_onto_form_fields() -> None:
    mapped = map_problem_errors(
        [
            {"pointer": "#/company/company_number", "detail": "Unknown company."},
            {"pointer": "#/occupation/code", "detail": "Must be one of: 78100."},
        ],
        LABELS,
        CONTRACT_POINTER_ALIASES,
    )
    assert mapped.by_field == {
        "company_number": ["Bitte wählen Sie einen gültigen Eintrag für „Ausbildungsbetrieb“ aus."],
        "occupation_code": ["Bitte wählen Sie einen gültigen Eintrag für „Ausbildungsberuf“ aus."],
    }


def test_unknown_english_details_never_reach_the_user() -> None:
    mapped = map_problem_errors([{"pointer": "#/apprentice/first_name", "detail": "Frobnicated."}], LABELS)
    assert mapped.by_field == {"first_name": ["Bitte prüfen Sie die Angabe im Feld „Vorname“."]}


def test_entries_without_a_known_field_become_one_general_message() -> None:
    mapped = map_problem_errors(
        [{"pointer": "#/registered_on", "detail": "x"}, {"detail": "y"}, {"pointer": "#/", "detail": "z"}],
        LABELS,
    )
    assert mapped.by_field == {}
    assert mapped.general == ["Bitte prüfen Sie Ihre Eingaben."]


def test_json_pointer_escapes_are_decoded() -> None:
    mapped = map_problem_errors([{"pointer": "#/a~1b/email", "detail": "Not a valid email address."}], LABELS)
    assert list(mapped.by_field) == ["email"]
