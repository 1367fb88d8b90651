"""Access data in the portal: Account erstellen (a company's apprentices and trainers), Zugang
freischalten (an access letter's code), and the chamber's Zugangsdaten page (requests, letters)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    stream_with_context,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from gateway.web.access_forms import ButtonForm, InvitationForm, UnlockForm
from gateway.web.access_services import AccessServices
from gateway.web.auth import current_token_set, current_user, login_required, renew_claims, require
from gateway.web.navigation import is_clerk, is_company_maintainer, maintains
from gateway.web.services import ServiceError
from gateway.web.views.common import chosen_company, maintained_companies, services
from gateway.web.views.sending import prepare

bp = Blueprint("access", __name__)

INVITED = "Der Account wurde erstellt. {name} erhält eine E-Mail mit einem Link, um das Passwort zu vergeben."
ALREADY_ACTIVE = "{name} hat bereits einen aktiven Account; die Berechtigung wurde ergänzt."
UNLOCKED_COMPANY = "Der Zugang ist freigeschaltet: Sie sind jetzt Administrator/-in des Betriebs {number}."
UNLOCKED_APPRENTICE = (
    "Der Zugang ist freigeschaltet: Ihr Account ist jetzt mit der Azubinummer {number} verbunden."
)
CODE_MESSAGES = {
    # Unknown number and wrong code: one message, so the page tells nobody which numbers exist.
    "access-code-invalid": "Identnummer bzw. Azubinummer oder Aktivierungscode ist ungültig.",
    "access-code-expired": (
        "Der Aktivierungscode ist abgelaufen. Bitte fordern Sie unter „Zugangsdaten erneut anfordern“ "
        "neue Zugangsdaten an."
    ),
    "access-code-used": "Dieser Aktivierungscode wurde bereits verwendet.",
    "apprentice-number-taken": "Ihr Account ist bereits mit einer anderen Azubinummer verbunden.",
}
EMAIL_TAKEN = "Diese E-Mail-Adresse gehört bereits zu einem anderen Account."


def access_services() -> AccessServices:
    token_set = current_token_set()
    if token_set is None:
        abort(401)
    factory = current_app.extensions["web.access_services_factory"]
    api: AccessServices = factory(token_set.access_token)
    return api


def _problem_type(error: ServiceError) -> str:
    return str(error.problem.get("type", "")).rsplit("/", 1)[-1]


# -- Account erstellen ----------------------------------------------------------------------------------
def _invitation_page(
    title: str, back: str, person: str, form: InvitationForm, errors: list[str]
) -> tuple[str, int]:
    body = render_template(
        "web/invitation_form.html",
        page_title=title,
        back=back,
        person=person,
        form=form,
        general_errors=errors,
    )
    return body, 422 if errors or form.errors else 200


def _invite(
    form: InvitationForm, send_invitation: Callable[[str], str], name: str, back: str, errors: list[str]
) -> WerkzeugResponse | None:
    """Send the invitation; a repeated submission only replaces the link, so no one-time token is needed."""
    try:
        status = send_invitation(form.email.data.strip())
    except ServiceError as error:
        if error.status == 409:
            form.email.errors = [EMAIL_TAKEN]
        elif error.status == 422:
            form.email.errors = ["Bitte geben Sie eine gültige E-Mail-Adresse ein."]
        else:
            errors.append(error.message)
        return None
    flash((INVITED if status == "invited" else ALREADY_ACTIVE).format(name=name), "success")
    return redirect(back, 303)


@bp.route("/ausbilder/<uuid:trainer_id>/account", methods=["GET", "POST"])
@require(is_company_maintainer)
def invite_trainer(trainer_id: object) -> WerkzeugResponse | tuple[str, int]:
    trainer = services().trainer(str(trainer_id))
    user = current_user()
    assert user is not None
    company = chosen_company(maintained_companies(services(), user), trainer.company_number)
    back = url_for("trainers.index", betrieb=company.company_number)
    form = InvitationForm()
    errors: list[str] = []
    if not form.is_submitted():
        form.email.data = trainer.email
    if prepare(form, errors):
        api = access_services()
        outcome = _invite(
            form,
            lambda email: api.invite_trainer(company.company_number, trainer.trainer_id, email),
            trainer.name,
            back,
            errors,
        )
        if outcome is not None:
            return outcome
    return _invitation_page(f"Account erstellen: {trainer.name}", back, trainer.name, form, errors)


@bp.route("/ausbildungsverhaeltnisse/<uuid:contract_id>/account", methods=["GET", "POST"])
@require(is_company_maintainer)
def invite_apprentice(contract_id: object) -> WerkzeugResponse | tuple[str, int]:
    contract = services().contract(str(contract_id))
    user = current_user()
    assert user is not None
    if not contract.apprentice_number or not (
        maintains(user, contract.company.company_number) or maintains(user, contract.head_office_number or "")
    ):
        abort(404)
    back = url_for("contracts.index")
    form = InvitationForm()
    errors: list[str] = []
    if prepare(form, errors):
        api = access_services()
        number = contract.apprentice_number
        outcome = _invite(
            form,
            lambda email: api.invite_apprentice(contract.company.company_number, number, email),
            contract.apprentice_name,
            back,
            errors,
        )
        if outcome is not None:
            return outcome
    return _invitation_page(
        f"Account erstellen: {contract.apprentice_name}", back, contract.apprentice_name, form, errors
    )


# -- Zugang freischalten ---------------------------------------------------------------------------------
@bp.route("/zugang-freischalten", methods=["GET", "POST"])
@login_required
def unlock() -> WerkzeugResponse | tuple[str, int]:
    form = UnlockForm()
    errors: list[str] = []
    if prepare(form, errors):
        kind, number = form.kind.data, form.number.data.strip()
        try:
            access_services().redeem_access_code(kind, number, form.code.data)
        except ServiceError as error:
            if error.status != 422 or _problem_type(error) not in CODE_MESSAGES:
                errors.append(error.message)
            else:
                form.code.errors = [CODE_MESSAGES[_problem_type(error)]]
        else:
            # The role is granted: the session takes the new claims now, no new login needed.
            renew_claims()
            message = UNLOCKED_COMPANY if kind == "company" else UNLOCKED_APPRENTICE
            flash(message.format(number=number), "success")
            return redirect(url_for("pages.index"), 303)
    request_url = current_app.extensions["web.settings"].issuer + "/access-data/request"
    body = render_template(
        "web/unlock.html",
        page_title="Zugang freischalten",
        form=form,
        general_errors=errors,
        request_url=request_url,
    )
    return body, 422 if errors or form.errors else 200


# -- the chamber's Zugangsdaten page ------------------------------------------------------------------------
@bp.get("/zugangsdaten")
@require(is_clerk)
def chamber() -> str:
    api = access_services()
    return render_template(
        "web/access_data.html",
        page_title="Zugangsdaten",
        requests=api.access_requests(),
        letters=api.access_letters(),
        button=ButtonForm(),
    )


@bp.post("/zugangsdaten/anfragen/<uuid:request_id>")
@require(is_clerk)
def fulfil(request_id: object) -> WerkzeugResponse:
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    done = access_services().fulfil_access_request(str(request_id))
    if done.outcome == "issued":
        flash(
            f"Neue Zugangsdaten für {done.number} wurden erstellt; das Anschreiben steht unten zum Druck bereit.",
            "success",
        )
    else:
        flash(
            f"Für {done.number} wurden keine Zugangsdaten erstellt: Die Nummer ist unbekannt oder der Account "
            "ist bereits aktiv (dann hilft „Passwort vergessen“).",
            "info",
        )
    return redirect(url_for("access.chamber"), 303)


@bp.get("/zugangsdaten/anschreiben/<uuid:letter_id>")
@require(is_clerk)
def letter(letter_id: object) -> Response:
    pdf = access_services().access_letter_content(str(letter_id))

    def chunks() -> Iterator[bytes]:
        try:
            yield from pdf.chunks
        finally:
            if pdf.close is not None:
                pdf.close()

    response = Response(stream_with_context(chunks()), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{pdf.filename}"'
    response.headers["Cache-Control"] = "no-store, private"
    return response


@bp.post("/zugangsdaten/anschreiben/<uuid:letter_id>/gedruckt")
@require(is_clerk)
def printed(letter_id: object) -> WerkzeugResponse:
    form = ButtonForm()
    if not form.validate_on_submit():
        abort(400)
    access_services().mark_letter_printed(str(letter_id))
    flash("Das Anschreiben ist als gedruckt markiert.", "success")
    return redirect(url_for("access.chamber"), 303)
