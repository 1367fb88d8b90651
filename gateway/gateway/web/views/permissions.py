"""Berechtigungen verwalten, Welche Firmen darf ich administrieren?, the chamber's roles,
Profil – Vertretung, Vertretungen bestätigen and Profil – Berechtigungen ("Zum Programm").

identity decides every change (its access rules); these pages only show what the person's
token allows and ask before a change ("Bestätigen"). Every form carries CSRF.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from chassis.auth import Principal
from gateway.web import auth
from gateway.web.auth import current_token_set, current_user, require
from gateway.web.identity_api import (
    CHAMBER_ROLE_LABELS,
    RIGHT_LABELS,
    ROLE_LABELS,
    IdentityServices,
    IdentityServicesFactory,
)
from gateway.web.navigation import administers_companies, is_chamber_admin, is_clerk, may_name_deputies
from gateway.web.oidc import TokenRefreshFailed
from gateway.web.services import ServiceError

bp = Blueprint("permissions", __name__)

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}$")
COMPANY_NUMBER = re.compile(r"^[0-9A-Za-z-]{1,20}$")
SAVED = "Die Änderung wurde gespeichert. Sie gilt ab der nächsten Anmeldung bzw. spätestens nach 5 Minuten."


def identity() -> IdentityServices:
    token_set = current_token_set()
    if token_set is None:
        abort(401)
    factory: IdentityServicesFactory = current_app.extensions["web.identity_factory"]
    return factory(token_set.access_token)


def _user() -> Principal:
    user = current_user()
    assert user is not None
    return user


def _problem_messages(error: ServiceError) -> list[str]:
    """German messages for identity's answer (its field messages are English for the API)."""
    if error.status == 422:
        fields = {str(e.get("field") or e.get("pointer") or "") for e in error.field_errors}
        text = " ".join(str(e.get("message", "")) for e in error.field_errors) + str(
            error.problem.get("detail", "")
        )
        if "last Administrator" in text:
            return [
                "Der letzte Administrator bzw. die letzte Administratorin des Betriebs kann nicht entfernt werden."
            ]
        if "last administrator" in text:
            return ["Die letzte Administration der Kammer kann nicht entfernt werden."]
        if "switched this service on" in text:
            return ["Der Dienst ist für den Betrieb noch nicht eingeschaltet."]
        if "No active account" in text or any("email" in f for f in fields):
            return ["Zu dieser E-Mail-Adresse gibt es kein aktives Konto im Bildungsportal."]
        if "has an account already" in text:
            return ["Diese Person hat bereits ein Konto. Bitte hinterlegen Sie sie über ihre E-Mail-Adresse."]
        if "holds no role" in text:
            return ["Die Person hat im Betrieb noch keine Rolle."]
    return [error.message]


# -- Berechtigungen verwalten -------------------------------------------------------------------
@bp.get("/berechtigungen/firmen")
@require(administers_companies)
def companies() -> str:
    """Welche Firmen darf ich administrieren?"""
    numbers = identity().administrable_companies()
    return render_template(
        "web/permission_companies.html", page_title="Welche Firmen darf ich administrieren?", numbers=numbers
    )


def _chosen_company(numbers: list[str]) -> str:
    wanted = request.values.get("betrieb")
    if wanted:
        if wanted not in numbers:
            abort(404)
        return wanted
    if not numbers:
        abort(404)
    return numbers[0]


def _manage_page(
    api: IdentityServices, numbers: list[str], company: str, errors: list[str], email: str
) -> str:
    return render_template(
        "web/permissions.html",
        page_title="Berechtigungen verwalten",
        numbers=numbers,
        company=company,
        members=api.company_members(company),
        services=api.company_services(company),
        role_labels=ROLE_LABELS,
        right_labels=RIGHT_LABELS,
        errors=errors,
        email=email,
    )


@bp.get("/berechtigungen")
@require(administers_companies)
def manage() -> str:
    api = identity()
    numbers = api.administrable_companies()
    return _manage_page(api, numbers, _chosen_company(numbers), [], "")


@bp.post("/berechtigungen/hinzufuegen")
@require(administers_companies)
def add_member() -> Response | tuple[str, int]:
    api = identity()
    numbers = api.administrable_companies()
    company = _chosen_company(numbers)
    email = request.form.get("email", "").strip()
    role = request.form.get("role", "")
    errors: list[str] = []
    if not EMAIL.match(email):
        errors.append("Bitte geben Sie eine gültige E-Mail-Adresse ein.")
    if role not in ROLE_LABELS:
        errors.append("Bitte wählen Sie eine Rolle.")
    if not errors:
        try:
            api.add_member(company, email, role)
        except ServiceError as error:
            if error.status not in (422, 409):
                raise
            errors = _problem_messages(error)
        else:
            flash(SAVED, "success")
            return redirect(url_for("permissions.manage", betrieb=company))
    return _manage_page(api, numbers, company, errors, email), 422


def _change_description(kind: str, name: str, grant: bool, person: str) -> str:
    if kind == "service":
        label = RIGHT_LABELS.get(name, name)
        return f"Den Dienst „{label}“ für den Betrieb {'einschalten' if grant else 'ausschalten'}"
    label = (ROLE_LABELS if kind == "role" else RIGHT_LABELS).get(name, name)
    what = "die Rolle" if kind == "role" else "das Recht"
    return f"{person} {what} „{label}“ {'geben' if grant else 'entziehen'}"


@bp.route("/berechtigungen/bestaetigen", methods=["GET", "POST"])
@require(administers_companies)
def confirm() -> Response | tuple[str, int] | str:
    """Ask before a change; the POST (with CSRF) carries it out."""
    api = identity()
    company = _chosen_company(api.administrable_companies())
    kind, name = request.values.get("art", ""), request.values.get("name", "")
    grant = request.values.get("aktion") == "geben"
    account_id = request.values.get("konto", "")
    if kind not in ("role", "right", "service") or (
        name not in (ROLE_LABELS if kind == "role" else RIGHT_LABELS)
    ):
        abort(404)
    person = ""
    if kind != "service":
        member = next((m for m in api.company_members(company) if m.account_id == account_id), None)
        if member is None:
            abort(404)
        person = member.name
    errors: list[str] = []
    if request.method == "POST":
        try:
            if kind == "service":
                api.switch_service(company, name, grant)
            else:
                api.change_grant(company, account_id, kind, name, grant)
        except ServiceError as error:
            if error.status != 422:
                raise
            errors = _problem_messages(error)
        else:
            flash(SAVED, "success")
            return redirect(url_for("permissions.manage", betrieb=company))
    body = render_template(
        "web/permission_confirm.html",
        page_title="Änderung bestätigen",
        question=_change_description(kind, name, grant, person),
        fields={
            "betrieb": company,
            "art": kind,
            "name": name,
            "aktion": request.values.get("aktion", ""),
            "konto": account_id,
        },
        action=url_for("permissions.confirm"),
        back=url_for("permissions.manage", betrieb=company),
        errors=errors,
    )
    return (body, 422) if errors else body


# -- the chamber's roles ------------------------------------------------------------------------
@bp.get("/kammer/rollen")
@require(is_chamber_admin)
def chamber_roles() -> str:
    api = identity()
    email = request.args.get("email", "").strip()
    found, errors = None, []
    if email:
        if not EMAIL.match(email):
            errors.append("Bitte geben Sie eine gültige E-Mail-Adresse ein.")
        else:
            try:
                found = api.find_account(email)
            except ServiceError as error:
                if error.status != 404:
                    raise
                errors.append("Zu dieser E-Mail-Adresse gibt es kein Konto im Bildungsportal.")
    return render_template(
        "web/chamber_roles.html",
        page_title="Rollen der Kammer",
        staff=api.chamber_staff(),
        found=found,
        email=email,
        errors=errors,
        labels=CHAMBER_ROLE_LABELS,
    )


@bp.route("/kammer/rollen/bestaetigen", methods=["GET", "POST"])
@require(is_chamber_admin)
def chamber_confirm() -> Response | tuple[str, int] | str:
    api = identity()
    role, account_id = request.values.get("rolle", ""), request.values.get("konto", "")
    grant = request.values.get("aktion") == "geben"
    email = request.values.get("email", "")
    if role not in CHAMBER_ROLE_LABELS or not EMAIL.match(email):
        abort(404)
    person = api.find_account(email)
    if person.account_id != account_id:
        abort(404)
    errors: list[str] = []
    if request.method == "POST":
        try:
            api.change_chamber_role(account_id, role, grant)
        except ServiceError as error:
            if error.status != 422:
                raise
            errors = _problem_messages(error)
        else:
            flash(SAVED, "success")
            return redirect(url_for("permissions.chamber_roles"))
    question = f"{person.name} die Rolle „{CHAMBER_ROLE_LABELS[role]}“ {'geben' if grant else 'entziehen'}"
    body = render_template(
        "web/permission_confirm.html",
        page_title="Änderung bestätigen",
        question=question,
        fields={
            "rolle": role,
            "konto": account_id,
            "aktion": request.values.get("aktion", ""),
            "email": email,
        },
        action=url_for("permissions.chamber_confirm"),
        back=url_for("permissions.chamber_roles"),
        errors=errors,
    )
    return (body, 422) if errors else body


# -- Profil – Vertretung ------------------------------------------------------------------------
def _deputy_page(errors: list[str], values: dict[str, str], status: int = 200) -> tuple[str, int]:
    api = identity()
    user = _user()
    companies = sorted(n for n, roles in user.company_roles.items() if "admin" in roles)
    body = render_template(
        "web/deputies.html",
        page_title="Profil – Vertretung",
        overview=api.deputy_overview(),
        companies=companies,
        errors=errors,
        values=values,
        role_labels=ROLE_LABELS,
    )
    return body, status


@bp.get("/profil/vertretung")
@require(may_name_deputies)
def deputies() -> tuple[str, int]:
    return _deputy_page([], {})


@bp.post("/profil/vertretung")
@require(may_name_deputies)
def name_deputy() -> Response | tuple[str, int]:
    user = _user()
    values = {k: request.form.get(k, "").strip() for k in ("email", "name", "betrieb", "art", "rolle")}
    new_employee = values["art"] == "mitarbeiter"
    errors: list[str] = []
    if not EMAIL.match(values["email"]):
        errors.append("Bitte geben Sie eine gültige E-Mail-Adresse ein.")
    company = values["betrieb"] or None
    if company is not None and not (
        COMPANY_NUMBER.match(company) and user.has_company_role(company, "admin")
    ):
        errors.append("Bitte wählen Sie einen Betrieb, den Sie administrieren.")
    if new_employee and (company is None or not values["name"] or len(values["name"]) > 200):
        errors.append("Für neue Mitarbeitende geben Sie bitte Betrieb und Namen an.")
    role = values["rolle"] or "manager"
    if role not in ("manager", "trainer"):
        errors.append("Bitte wählen Sie eine Rolle.")
    if not errors:
        try:
            identity().name_deputy(
                {
                    "deputy_email": values["email"],
                    "deputy_name": values["name"],
                    "company_number": company,
                    "company_roles": [role],
                    "new_employee": new_employee,
                }
            )
        except ServiceError as error:
            if error.status != 422:
                raise
            errors = _problem_messages(error)
        else:
            flash("Die Vertretung wurde beantragt. Sie gilt, sobald die IHK sie bestätigt hat.", "success")
            return redirect(url_for("permissions.deputies"))
    return _deputy_page(errors, values, 422)


@bp.route("/profil/vertretung/<uuid:deputyship_id>/entfernen", methods=["GET", "POST"])
@require(may_name_deputies)
def remove_deputy(deputyship_id: object) -> Response | str:
    api = identity()
    found = next((d for d in api.deputy_overview().named if d.deputyship_id == str(deputyship_id)), None)
    if found is None:
        abort(404)
    if request.method == "POST":
        api.remove_deputyship(found.deputyship_id)
        flash("Die Vertretung wurde entfernt.", "success")
        return redirect(url_for("permissions.deputies"))
    return render_template(
        "web/permission_confirm.html",
        page_title="Vertretung entfernen",
        question=f"Die Vertretung durch {found.deputy_name} ({found.represented_label}) entfernen",
        fields={},
        action=url_for("permissions.remove_deputy", deputyship_id=deputyship_id),
        back=url_for("permissions.deputies"),
        errors=[],
    )


# -- Vertretungen bestätigen (the chamber) --------------------------------------------------------
@bp.get("/kammer/vertretungen")
@require(is_clerk)
def open_deputyships() -> str:
    return render_template(
        "web/deputy_requests.html",
        page_title="Vertretungen bestätigen",
        requests=identity().open_deputyships(),
        role_labels=ROLE_LABELS,
    )


@bp.post("/kammer/vertretungen/<uuid:deputyship_id>")
@require(is_clerk)
def decide(deputyship_id: object) -> Response:
    decision = request.form.get("entscheidung")
    if decision not in ("bestaetigen", "ablehnen"):
        abort(400)
    try:
        identity().decide_deputyship(str(deputyship_id), decision == "bestaetigen")
    except ServiceError as error:
        if error.status != 409:
            raise
        flash("Über diesen Antrag wurde bereits entschieden.", "warning")
    else:
        flash(
            "Die Vertretung wurde bestätigt." if decision == "bestaetigen" else "Der Antrag wurde abgelehnt.",
            "success",
        )
    return redirect(url_for("permissions.open_deputyships"))


# -- Profil – Berechtigungen: the active context ("Zum Programm") -----------------------------------
@bp.get("/profil/berechtigungen")
@auth.login_required
def contexts() -> str:
    login = auth.login_token_set()
    assert login is not None
    factory: IdentityServicesFactory = current_app.extensions["web.identity_factory"]
    # The choices come from the login's token: a narrowed one would show only itself.
    choices = factory(login.access_token).contexts()
    return render_template(
        "web/contexts.html",
        page_title="Profil – Berechtigungen",
        choices=choices,
        active=session.get("context"),
    )


@bp.post("/profil/berechtigungen/wechseln")
@auth.login_required
def switch() -> Response:
    context = request.form.get("context", "")
    login = auth.login_token_set()
    assert login is not None
    factory: IdentityServicesFactory = current_app.extensions["web.identity_factory"]
    choices = {c.key: c.label for c in factory(login.access_token).contexts()}
    if context not in choices:
        abort(404)
    try:
        auth.enter_context(context)
    except TokenRefreshFailed:
        flash("Diese Rolle steht Ihnen nicht zur Verfügung.", "error")
        return redirect(url_for("permissions.contexts"))
    session["context_label"] = choices[context]
    flash(f"Sie arbeiten jetzt als: {choices[context]}.", "success")
    return redirect(url_for("pages.index"))


@bp.post("/profil/berechtigungen/zurueck")
@auth.login_required
def leave() -> Response:
    auth.leave_context()
    session.pop("context_label", None)
    flash("Sie arbeiten wieder mit allen Ihren Rollen.", "success")
    return redirect(url_for("permissions.contexts"))
