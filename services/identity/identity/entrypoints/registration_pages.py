"""German pages of self-registration: Registrieren, Registrierung bestätigen, neuen Link anfordern."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from prometheus_client import Counter
from sqlalchemy.exc import InterfaceError, OperationalError

from chassis.problems import ServiceUnavailable
from identity.domain.account_commands import (
    CheckRegistrationLink,
    ConfirmRegistration,
    Register,
    ResendRegistrationLink,
)
from identity.domain.password_policy import PasswordPolicyViolation
from identity.domain.registration import (
    InvalidRegistrationLink,
    RegistrationLinkExpired,
    WrongRegistrationPassword,
)
from identity.entrypoints.answer_timing import answer_no_sooner_than
from identity.entrypoints.forms import RegistrationConfirmForm, RegistrationForm, RegistrationLinkForm
from identity.entrypoints.login_session import require_login_session
from identity.entrypoints.oauth_server import identity_runtime
from identity.entrypoints.pages import unavailable_page
from identity.service_layer.links import REGISTRATION_CONFIRM_PATH

bp = Blueprint("registration", __name__, template_folder="templates")

REGISTRATIONS = Counter("identity_registrations_total", "Registration steps", ["step", "outcome"])

# The same answer for a new and a known address (no enumeration).
REGISTRATION_SENT = (
    "Vielen Dank. Wir haben Ihnen eine E-Mail an die angegebene Adresse geschickt. Bitte öffnen Sie den "
    "Link darin innerhalb von 24 Stunden, um Ihre Registrierung zu bestätigen. Kommt keine E-Mail an, "
    "prüfen Sie bitte Ihren Spam-Ordner oder fordern Sie einen neuen Link an."
)
LINK_SENT = (
    "Wenn zu dieser E-Mail-Adresse eine Registrierung besteht, erhalten Sie in Kürze eine E-Mail "
    "mit einem neuen Link."
)
LINK_INVALID = (
    "Dieser Link ist ungültig oder wurde bereits verwendet. Haben Sie Ihre Registrierung schon bestätigt, "
    "melden Sie sich bitte an. Sonst fordern Sie hier einen neuen Link an."
)
LINK_EXPIRED = (
    "Dieser Link ist abgelaufen: Er gilt nur 24 Stunden. Bitte fordern Sie hier einen neuen Link an."
)
WRONG_PASSWORD = "Das Passwort stimmt nicht mit dem Passwort aus Ihrer Registrierung überein."  # noqa: S105 - a message


@bp.before_request
def _needs_session() -> None:
    require_login_session()


@bp.errorhandler(ServiceUnavailable)
@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
def _unavailable(_error: Exception) -> Any:
    return unavailable_page()


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    form = RegistrationForm()
    status = 200
    if form.validate_on_submit():
        try:
            identity_runtime().bus.handle(
                Register(
                    name=(form.name.data or "").strip(),
                    email=(form.email.data or "").strip(),
                    password=form.password.data or "",
                    client=request.remote_addr,
                )
            )
        except PasswordPolicyViolation as exc:
            form.password.errors = [exc.message]
            REGISTRATIONS.labels("register", "password_rejected").inc()
        else:
            REGISTRATIONS.labels("register", "answered").inc()
            return render_template(
                "identity/message.html",
                page_title="Registrierung: E-Mail verschickt",
                message=REGISTRATION_SENT,
                role="status",
                new_registration_link=True,
            )
    if form.errors:
        status = 422
    return render_template("identity/register.html", form=form, page_title="Registrieren"), status


@bp.route("/register/link", methods=["GET", "POST"])
def new_link() -> Any:
    form = RegistrationLinkForm()
    status = 200
    if form.validate_on_submit():
        with answer_no_sooner_than():
            identity_runtime().bus.handle(ResendRegistrationLink((form.email.data or "").strip()))
        return render_template(
            "identity/message.html", page_title="Neuer Link", message=LINK_SENT, role="status"
        )
    if form.errors:
        status = 422
    return render_template(
        "identity/register_link.html", form=form, page_title="Neuen Bestätigungslink anfordern"
    ), status


def _link_unusable(message: str, outcome: str) -> Any:
    REGISTRATIONS.labels("confirm", outcome).inc()
    return (
        render_template(
            "identity/register_link.html",
            form=RegistrationLinkForm(formdata=None),
            page_title="Link nicht mehr gültig",
            error=message,
        ),
        410,
    )


@bp.route(REGISTRATION_CONFIRM_PATH + "<token>", methods=["GET", "POST"])
def confirm(token: str) -> Any:
    bus = identity_runtime().bus
    form = RegistrationConfirmForm()
    status = 200
    try:
        if form.validate_on_submit():
            try:
                bus.handle(ConfirmRegistration(token, form.password.data or ""))
            except WrongRegistrationPassword:
                form.password.errors = [WRONG_PASSWORD]
                REGISTRATIONS.labels("confirm", "wrong_password").inc()
            else:
                REGISTRATIONS.labels("confirm", "confirmed").inc()
                flash("Ihre Registrierung ist bestätigt. Sie können sich jetzt anmelden.", "success")
                return redirect(url_for("pages.login"))
        else:
            # Say at once that a link is void, before anyone types their password.
            bus.handle(CheckRegistrationLink(token))
    except RegistrationLinkExpired:
        return _link_unusable(LINK_EXPIRED, "expired")
    except InvalidRegistrationLink:
        return _link_unusable(LINK_INVALID, "invalid")
    if form.errors:
        status = 422
    return (
        render_template(
            "identity/register_confirm.html", form=form, token=token, page_title="Registrierung bestätigen"
        ),
        status,
    )
