"""German pages of the access data: Zugang einrichten (the link of an invitation mail) and
Zugangsdaten erneut anfordern (public; the same answer whatever was entered)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from prometheus_client import Counter
from sqlalchemy.exc import InterfaceError, OperationalError

from chassis.problems import ServiceUnavailable
from identity.bootstrap import INVITATION_PATH
from identity.domain.access_commands import AcceptInvitation, CheckInvitation, RequestAccessData
from identity.domain.invitations import InvalidInvitation
from identity.domain.password_policy import PasswordPolicyViolation
from identity.entrypoints.access_forms import AccessDataRequestForm
from identity.entrypoints.answer_timing import answer_no_sooner_than
from identity.entrypoints.forms import PasswordResetForm
from identity.entrypoints.oauth_server import identity_runtime
from identity.entrypoints.pages import unavailable_page

bp = Blueprint("access_pages", __name__, template_folder="templates")

INVITATIONS = Counter(
    "identity_invitations_accepted_total", "Passwords set through an invitation link", ["outcome"]
)

INVITATION_INVALID = (
    "Dieser Link ist ungültig oder abgelaufen. Er gilt nur einmal und nur begrenzte Zeit. Bitte bitten Sie "
    "Ihren Ausbildungsbetrieb, Ihnen einen neuen Link zu senden. Haben Sie Ihren Zugang schon "
    "eingerichtet, melden Sie sich einfach an."
)


@bp.errorhandler(ServiceUnavailable)
@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
def _unavailable(_error: Exception) -> Any:
    return unavailable_page()


@bp.route(INVITATION_PATH + "<token>", methods=["GET", "POST"])
def invitation(token: str) -> Any:
    """Zugang einrichten: the first password, twice; the link then is used up."""
    bus = identity_runtime().bus
    form = PasswordResetForm()
    try:
        if form.validate_on_submit():
            bus.handle(AcceptInvitation(token, form.password.data or ""))
            INVITATIONS.labels("success").inc()
            return render_template(
                "identity/message.html",
                page_title="Zugang eingerichtet",
                message="Ihr Passwort ist gespeichert, Ihr Zugang ist eingerichtet. Sie können sich jetzt "
                "mit Ihrer E-Mail-Adresse und Ihrem Passwort anmelden.",
                role="status",
            )
        # Say at once that a link is void, before anyone types a new password twice.
        bus.handle(CheckInvitation(token))
    except InvalidInvitation:
        INVITATIONS.labels("invalid").inc()
        body = render_template(
            "identity/message.html", page_title="Link ungültig", message=INVITATION_INVALID, role="alert"
        )
        return body, 410
    except PasswordPolicyViolation as exc:
        form.password.errors = [exc.message]
    status = 422 if form.errors else 200
    return render_template(
        "identity/invitation.html", form=form, token=token, page_title="Zugang einrichten"
    ), status


# Where the public form lives (the edge's credential rate limit names it too).
ACCESS_DATA_REQUEST_PATH = "/access-data/request"
REQUEST_NOTED = (
    "Vielen Dank. Wenn zu Ihren Angaben Zugangsdaten ausgestellt werden können, erstellt Ihre IHK ein neues "
    "Schreiben mit einem neuen Aktivierungscode und sendet es per Post an die bei der IHK hinterlegte "
    "Anschrift. Der bisherige Aktivierungscode ist dann nicht mehr gültig."
)


@bp.route(ACCESS_DATA_REQUEST_PATH, methods=["GET", "POST"])
def request_access_data() -> Any:
    """Zugangsdaten erneut anfordern: noted for the chamber; the same answer for every number."""
    form = AccessDataRequestForm()
    if form.validate_on_submit():
        with answer_no_sooner_than():
            identity_runtime().bus.handle(
                RequestAccessData(form.kind.data or "", form.number.data or "", form.contact_name.data or "")
            )
        return render_template(
            "identity/message.html",
            page_title="Zugangsdaten erneut anfordern",
            message=REQUEST_NOTED,
            role="status",
        )
    status = 422 if form.errors else 200
    return render_template(
        "identity/access_data_request.html", form=form, page_title="Zugangsdaten erneut anfordern"
    ), status
