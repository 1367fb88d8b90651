"""Ausbildungsatlas: the public search (no login), and a company's entries and consent."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from werkzeug.wrappers import Response

from gateway.web.auth import current_user, require
from gateway.web.field_errors import map_problem_errors
from gateway.web.forms import AtlasEntryForm, AtlasSearchForm, ConfirmForm, ConsentForm
from gateway.web.navigation import is_company_maintainer
from gateway.web.services import AtlasEntry, AtlasHit, Company, Occupation, Page, ServiceError
from gateway.web.views.common import chosen_company, maintained_companies, public_services, services
from gateway.web.views.sending import fresh_token, prepare, send_once

bp = Blueprint("atlas", __name__, url_prefix="/ausbildungsatlas")

SAVED = "Der Eintrag im Ausbildungsatlas wurde gespeichert."
REMOVED = "Der Eintrag wurde aus dem Ausbildungsatlas entfernt."
CONSENTED = "Ihre Einträge werden im Ausbildungsatlas veröffentlicht."
WITHDRAWN = "Ihre Einträge werden nicht mehr im Ausbildungsatlas veröffentlicht."
NO_OCCUPATIONS = (
    "Die Liste der Ausbildungsberufe ist vorübergehend nicht verfügbar. Bitte versuchen Sie es später erneut."
)
REMOVE_PREFIX = "entfernen"


# -- the public search ------------------------------------------------------------------------


@bp.get("")
def search() -> tuple[str, int]:
    """Companies that train in an occupation near a place, and agreed to be listed. No login."""
    api = public_services()
    form = AtlasSearchForm(formdata=request.args)
    errors: list[str] = []
    status = 200
    try:
        occupations: list[Occupation] = list(api.atlas_occupations())
    except ServiceError:
        occupations, status = [], 503
        errors.append(NO_OCCUPATIONS)
    form.occupation_code.choices = [("", "Bitte wählen")] + [(o.code, o.title) for o in occupations]
    hits: Page[AtlasHit] | None = None
    asked = "occupation_code" in request.args
    if asked and occupations and form.validate():
        place = (form.place.data or "").strip() or None
        try:
            hits = api.search_atlas(
                form.occupation_code.data, place, cursor=request.args.get("weiter") or None
            )
        except ServiceError as error:
            if error.status != 422:
                status = 503
                errors.append(error.message)
            else:
                mapped = map_problem_errors(
                    error.field_errors, {"occupation_code": "Ausbildungsberuf", "place": "PLZ oder Ort"}
                )
                for name, messages in mapped.by_field.items():
                    form[name].errors = list(messages)
                errors.extend(mapped.general)
    titles = {o.code: o.title for o in occupations}
    search_args = {
        "occupation_code": form.occupation_code.data or "",
        "place": (form.place.data or "").strip(),
    }
    body = render_template(
        "web/atlas_search.html",
        page_title="Ausbildungsatlas",
        form=form,
        errors=errors,
        hits=hits,
        asked=asked,
        occupation_title=titles.get(form.occupation_code.data or "", ""),
        search_args={k: v for k, v in search_args.items() if v},
    )
    return body, status


# -- a company's entries ----------------------------------------------------------------------


def _company(wanted: str | None) -> tuple[list[Company], Company]:
    user = current_user()
    assert user is not None
    companies = maintained_companies(services(), user)
    return companies, chosen_company(companies, wanted)


@bp.route("/eintraege", methods=["GET", "POST"])
@require(is_company_maintainer)
def entries() -> Response | tuple[str, int]:
    """The company's offers and its consent to publication (the consent form posts here)."""
    user = current_user()
    assert user is not None
    api = services()
    companies = maintained_companies(api, user)
    if not companies:
        body = render_template(
            "web/atlas_entries.html", page_title="Ausbildungsatlas", companies=[], company=None
        )
        return body, 200
    company = chosen_company(companies, request.args.get("betrieb"))
    profile = api.atlas_profile(company.company_number)
    consent_form = ConsentForm(data={"consent": profile.consent} if request.method == "GET" else None)
    general_errors: list[str] = []
    if prepare(consent_form, general_errors):
        consent = bool(consent_form.consent.data)

        def send(token: str) -> str:
            api.set_atlas_consent(company.company_number, consent, idempotency_key=token)
            return url_for("atlas.entries", betrieb=company.company_number)

        outcome = send_once(
            consent_form, send, done=CONSENTED if consent else WITHDRAWN, general_errors=general_errors
        )
        if outcome is not None:
            return outcome
    titles = {o.code: o.title for o in api.occupations()}
    body = render_template(
        "web/atlas_entries.html",
        page_title="Ausbildungsatlas",
        companies=companies,
        company=company,
        profile=profile,
        consent_form=consent_form,
        general_errors=general_errors,
        titles=titles,
    )
    return body, 422 if request.method == "POST" else 200


@bp.route("/eintraege/neu", methods=["GET", "POST"])
@require(is_company_maintainer)
def new_entry() -> Response | tuple[str, int]:
    _companies, company = _company(request.args.get("betrieb"))
    api = services()
    profile = api.atlas_profile(company.company_number)
    offered = {entry.occupation_code for entry in profile.entries}
    form = AtlasEntryForm()
    form.occupation_code.choices = [("", "Bitte wählen")] + [
        (o.code, o.title) for o in api.occupations() if o.code not in offered
    ]
    return _entry_page(company, form, None, None)


@bp.route("/eintraege/<company_number>/<occupation_code>", methods=["GET", "POST"])
@require(is_company_maintainer)
def edit_entry(company_number: str, occupation_code: str) -> Response | tuple[str, int]:
    _companies, company = _company(company_number)
    entry = _entry(company, occupation_code)
    form = AtlasEntryForm(obj=entry.offer)
    title = _title(occupation_code)
    # The occupation is the entry's key: it is shown, not changed.
    form.occupation_code.choices = [(occupation_code, title)]
    form.occupation_code.data = occupation_code
    remove_form = ConfirmForm(prefix=REMOVE_PREFIX, formdata=None)
    fresh_token(remove_form)
    return _entry_page(company, form, entry, remove_form, title=title)


@bp.post("/eintraege/<company_number>/<occupation_code>/entfernen")
@require(is_company_maintainer)
def remove_entry(company_number: str, occupation_code: str) -> Response | tuple[str, int]:
    _companies, company = _company(company_number)
    api = services()
    entry = _entry(company, occupation_code)
    remove_form = ConfirmForm(prefix=REMOVE_PREFIX)
    errors: list[str] = []
    if prepare(remove_form, errors):

        def send(_token: str) -> str:
            api.remove_atlas_entry(company.company_number, occupation_code)
            return url_for("atlas.entries", betrieb=company.company_number)

        outcome = send_once(remove_form, send, done=REMOVED, general_errors=errors)
        if outcome is not None:
            return outcome
    title = _title(occupation_code)
    form = AtlasEntryForm(formdata=None, obj=entry.offer)
    form.occupation_code.choices = [(occupation_code, title)]
    form.occupation_code.data = occupation_code
    fresh_token(form)
    return _render_entry_page(company, form, entry, remove_form, title, [], errors), 422


def _entry(company: Company, occupation_code: str) -> AtlasEntry:
    for entry in services().atlas_profile(company.company_number).entries:
        if entry.occupation_code == occupation_code:
            return entry
    abort(404)


def _title(occupation_code: str) -> str:
    for occupation in services().occupations():
        if occupation.code == occupation_code:
            return occupation.title
    return occupation_code


def _entry_page(
    company: Company,
    form: AtlasEntryForm,
    entry: AtlasEntry | None,
    remove_form: ConfirmForm | None,
    *,
    title: str = "",
) -> Response | tuple[str, int]:
    """Save the entry when its form was sent, else (or when refused) show the page."""
    general_errors: list[str] = []
    if prepare(form, general_errors):
        code = form.occupation_code.data

        def send(token: str) -> str:
            services().save_atlas_entry(company.company_number, code, form.to_offer(), idempotency_key=token)
            return url_for("atlas.entries", betrieb=company.company_number)

        outcome = send_once(form, send, done=SAVED, general_errors=general_errors)
        if outcome is not None:
            return outcome
    body = _render_entry_page(company, form, entry, remove_form, title, general_errors, [])
    return body, 422 if request.method == "POST" else 200


def _render_entry_page(
    company: Company,
    form: AtlasEntryForm,
    entry: AtlasEntry | None,
    remove_form: ConfirmForm | None,
    title: str,
    general_errors: list[str],
    remove_errors: list[str],
) -> str:
    return render_template(
        "web/atlas_entry_form.html",
        page_title=f"Ausbildungsatlas: {title}" if entry else "Ausbildungsberuf anbieten",
        company=company,
        form=form,
        entry=entry,
        title=title,
        remove_form=remove_form,
        general_errors=general_errors,
        remove_errors=remove_errors,
    )
