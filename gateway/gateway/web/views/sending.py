"""Sending a form once: its one-time token, the API call with it as Idempotency-Key, the stored outcome.

Every form that changes something goes through :func:`send_once`; see ``gateway.web.submissions``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import abort, current_app, flash, redirect, request
from werkzeug.wrappers import Response

from gateway.web.auth import current_user
from gateway.web.field_errors import map_problem_errors
from gateway.web.forms import CreatingForm
from gateway.web.services import ServiceError
from gateway.web.submissions import Claim, FormSubmissions, is_token, new_token

STILL_RUNNING = (
    "Dieses Formular wurde bereits gesendet und wird noch verarbeitet. "
    "Bitte laden Sie die Seite gleich neu, bevor Sie es erneut senden."
)

# The service refused the input itself: nothing changed, and corrected input is a new submission.
REFUSED = (400, 409, 422)


def prepare(form: CreatingForm, general_errors: list[str]) -> bool:
    """On GET a fresh token; on POST whether the form validated (else its errors, and a token to retry with)."""
    if request.method == "GET":
        form.form_token.data = new_token()
        return False
    if form.validate_on_submit():
        return True
    general_errors.extend(form.form_token.errors[:1])
    if not is_token(form.form_token.data):
        form.form_token.data = new_token()
    return False


def fresh_token(form: CreatingForm) -> None:
    """A form shown next to another one that was sent (e.g. "Entfernen" beside "Speichern")."""
    form.form_token.data = new_token()


def send_once(
    form: CreatingForm,
    send: Callable[[str], str],
    *,
    done: str,
    general_errors: list[str],
    aliases: Mapping[str, str] | None = None,
    still_running: str = STILL_RUNNING,
) -> Response | None:
    """Call ``send(token)`` (the API call; it returns where the browser goes next) once per form token.

    A form sent before gets its first outcome again; one still running says so. Returns the
    redirect (303, with ``done`` as the flash message), or None with the errors to show on the
    form again: refused input lands on its fields (the problem's pointers), an outage keeps the
    token so that the retry carries the same Idempotency-Key.
    """
    user = current_user()
    assert user is not None
    token = form.form_token.data
    submissions: FormSubmissions = current_app.extensions["web.submissions"]
    try:
        submission = submissions.claim(token, user.subject)
    except PermissionError:
        abort(400)
    if submission.claim is Claim.DONE:
        flash(done, "success")
        return redirect(submission.outcome or request.path, 303)
    if submission.claim is Claim.RUNNING:
        general_errors.append(still_running)
        return None
    try:
        target = send(token)
    except ServiceError as error:
        submissions.release(token)
        if error.status not in REFUSED:
            # Maybe done, maybe not (a timeout): sending again keeps the token, so the
            # service recognises the retry by its Idempotency-Key.
            if error.status in (403, 404):
                raise
            general_errors.append(error.message)
        else:
            form.form_token.data = new_token()
            mapped = map_problem_errors(error.field_errors, form.labels, aliases)
            for name, messages in mapped.by_field.items():
                form[name].errors = list(messages)
            general_errors.extend(mapped.general or ([] if mapped.by_field else [error.message]))
        return None
    except BaseException:
        submissions.release(token)
        raise
    submissions.done(token, target)
    flash(done, "success")
    # 303: the browser follows with a GET; a reload of the next page never sends the form again.
    return redirect(target, 303)
