"""German, server-rendered pages: Anmelden, Account aktivieren, Passwort vergessen."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from prometheus_client import Counter
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.wrappers import Response as WerkzeugResponse

from chassis.problems import ServiceUnavailable
from identity.domain.commands import ActivateAccount, LogInAtProvider, RequestPasswordReset, ResetPassword
from identity.domain.model import (
    AccountLockedOut,
    ActivationCodeExpired,
    ActivationCodeUsed,
    InvalidActivation,
    InvalidCredentials,
    InvalidPasswordReset,
)
from identity.domain.password_policy import PasswordPolicyViolation
from identity.domain.queries import CheckPasswordResetLink
from identity.entrypoints.answer_timing import answer_no_sooner_than
from identity.entrypoints.forms import ActivationForm, LoginForm, PasswordForgottenForm, PasswordResetForm
from identity.entrypoints.login_session import (
    PENDING_AUTHORIZE,
    log_in,
    remember_login,
    require_login_session,
    session_to_replace,
)
from identity.entrypoints.oauth_server import identity_runtime
from identity.service_layer.links import PASSWORD_FORGOTTEN_PATH, PASSWORD_RESET_PATH

bp = Blueprint("pages", __name__, template_folder="templates")


LOGINS = Counter("identity_logins_total", "Login attempts at identity's login page", ["outcome"])
ACTIVATIONS = Counter("identity_activations_total", "Account activation attempts", ["outcome"])
PASSWORD_RESETS = Counter(
    "identity_password_resets_total", "New passwords set through a reset link", ["outcome"]
)

# One answer for an unknown login, a wrong password and a locked account (same text, same
# status): the page must not tell an attacker which accounts exist or are locked. The owner
# of a locked account learns it by e-mail, with "Passwort vergessen" as the way out.
LOGIN_FAILED = (
    "Die Anmeldung ist fehlgeschlagen. Bitte prüfen Sie Ihre Zugangsdaten. Nach mehreren "
    "Fehlversuchen wird der Zugang vorübergehend gesperrt; mit „Passwort vergessen“ können Sie "
    "jederzeit ein neues Passwort vergeben."
)
INVALID_ACTIVATION = "Azubinummer oder Aktivierungscode ist ungültig."
ACTIVATION_EXPIRED = (
    "Der Aktivierungscode ist abgelaufen. Bitte wenden Sie sich an Ihre IHK, um einen neuen "
    "Aktivierungscode zu erhalten."
)
ACTIVATION_USED = (
    "Dieser Aktivierungscode wurde bereits verwendet, Ihr Account ist schon aktiviert. Bitte melden Sie "
    "sich mit Ihrer Azubinummer und Ihrem Passwort an. Haben Sie Ihr Passwort vergessen, nutzen Sie "
    "„Passwort vergessen“."
)

# The same answer whatever was entered, so the page does not tell who has an account.
RESET_REQUESTED = (
    "Wenn zu Ihren Angaben ein aktiver Account besteht, erhalten Sie in Kürze eine E-Mail mit einem Link, "
    "mit dem Sie ein neues Passwort vergeben können."
)
RESET_LINK_INVALID = (
    "Dieser Link ist ungültig oder abgelaufen. Er gilt nur einmal und nur begrenzte Zeit, und er verfällt, "
    "sobald Sie sich mit Ihrem bisherigen Passwort angemeldet haben. Bitte fordern Sie einen neuen Link an."
)


def _after_login() -> WerkzeugResponse:
    pending = session.pop(PENDING_AUTHORIZE, None)
    if pending:
        return redirect(f"{url_for('oidc.authorize')}?{pending}")
    # No client is waiting: go to the portal, which starts its own login flow.
    return redirect(identity_runtime().settings.public_url + "/")


@bp.before_request
def _needs_session() -> None:
    if request.endpoint == "pages.login" and request.method == "POST":
        # A login that is sent asks the database at once (its account is read first); the view
        # asks before it shows the form again for any other reason.
        return
    require_login_session()


def unavailable_page() -> Any:
    """People get a German page, not problem+json, when the database is away."""
    body = render_template(
        "identity/error.html",
        page_title="Vorübergehend nicht erreichbar",
        message="Die Anmeldung ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut.",
    )
    return body, 503, {"Retry-After": "30"}


@bp.errorhandler(ServiceUnavailable)
@bp.errorhandler(OperationalError)
@bp.errorhandler(InterfaceError)
def _unavailable(_error: Exception) -> Any:
    return unavailable_page()


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        runtime = identity_runtime()
        try:
            # The login session starts with the login's record, in one transaction.
            logged_in = runtime.bus.handle(
                LogInAtProvider(
                    form.login.data or "",
                    form.password.data or "",
                    client=request.remote_addr,
                    replaces=session_to_replace(),
                )
            )
        except AccountLockedOut:
            error = LOGIN_FAILED
            LOGINS.labels("locked").inc()
        except InvalidCredentials:
            error = LOGIN_FAILED
            LOGINS.labels("failed").inc()
        else:
            LOGINS.labels("success").inc()
            remember_login(logged_in.session_id)
            return _after_login()
    else:
        require_login_session()
        if form.errors:
            status = 422
    return render_template("identity/login.html", form=form, error=error, page_title="Anmelden"), status


@bp.route("/activate", methods=["GET", "POST"])
def activate() -> Any:
    form = ActivationForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            account = identity_runtime().bus.handle(
                ActivateAccount(
                    (form.apprentice_number.data or "").strip(),
                    form.activation_code.data or "",
                    form.password.data or "",
                )
            )
        except InvalidActivation:
            error, status = INVALID_ACTIVATION, 422
            ACTIVATIONS.labels("invalid").inc()
        except ActivationCodeExpired:
            error, status = ACTIVATION_EXPIRED, 422
            ACTIVATIONS.labels("expired").inc()
        except ActivationCodeUsed:
            error, status = ACTIVATION_USED, 409
            ACTIVATIONS.labels("used").inc()
        except PasswordPolicyViolation as exc:
            form.password.errors = [exc.message]
            status = 422
        else:
            ACTIVATIONS.labels("success").inc()
            if session.get(PENDING_AUTHORIZE):
                # Someone was on the way into the portal: continue straight there.
                log_in(account)
                flash("Ihr Account ist aktiviert.", "success")
                return _after_login()
            flash("Ihr Account ist aktiviert. Bitte melden Sie sich mit Ihrem neuen Passwort an.", "success")
            return redirect(url_for("pages.login"))
    elif form.errors:
        status = 422
    return (
        render_template("identity/activate.html", form=form, error=error, page_title="Account aktivieren"),
        status,
    )


@bp.route(PASSWORD_FORGOTTEN_PATH, methods=["GET", "POST"])
def password_forgotten() -> Any:
    form = PasswordForgottenForm()
    status = 200
    if form.validate_on_submit():
        runtime = identity_runtime()
        with answer_no_sooner_than():
            runtime.bus.handle(
                RequestPasswordReset(
                    form.login.data or "", link_prefix=runtime.settings.issuer + PASSWORD_RESET_PATH
                )
            )
        return render_template(
            "identity/message.html", page_title="Passwort vergessen", message=RESET_REQUESTED, role="status"
        )
    if form.errors:
        status = 422
    return render_template(
        "identity/password_forgotten.html", form=form, page_title="Passwort vergessen"
    ), status


def _reset_link_invalid() -> Any:
    PASSWORD_RESETS.labels("invalid").inc()
    return (
        render_template(
            "identity/message.html",
            page_title="Link ungültig",
            message=RESET_LINK_INVALID,
            role="alert",
            request_new_link=True,
        ),
        410,
    )


@bp.route(PASSWORD_RESET_PATH + "<token>", methods=["GET", "POST"])
def password_reset(token: str) -> Any:
    bus = identity_runtime().bus
    form = PasswordResetForm()
    status = 200
    try:
        if form.validate_on_submit():
            bus.handle(ResetPassword(token, form.password.data or ""))
            PASSWORD_RESETS.labels("success").inc()
            return render_template(
                "identity/message.html",
                page_title="Passwort geändert",
                message="Ihr neues Passwort ist gespeichert. Sie können sich jetzt damit anmelden.",
                role="status",
            )
        # Say at once that a link is void, before anyone types a new password twice.
        bus.handle(CheckPasswordResetLink(token))
    except InvalidPasswordReset:
        return _reset_link_invalid()
    except PasswordPolicyViolation as exc:
        form.password.errors = [exc.message]
    if form.errors:
        status = 422
    return (
        render_template(
            "identity/password_reset.html", form=form, token=token, page_title="Neues Passwort vergeben"
        ),
        status,
    )
