"""Ausbildungsverhältnisse: the list (chamber and companies) and the chamber's register form."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from gateway.web.auth import current_user, require
from gateway.web.field_errors import map_problem_errors
from gateway.web.formatting import BERLIN
from gateway.web.forms import CONTRACT_POINTER_ALIASES, ContractForm
from gateway.web.navigation import is_clerk, is_company_user
from gateway.web.progress import progress_steps
from gateway.web.services import Contract, Document, ServiceError, Services
from gateway.web.submissions import Claim, FormSubmissions, is_token, new_token
from gateway.web.views.common import services

bp = Blueprint("contracts", __name__, url_prefix="/ausbildungsverhaeltnisse")

REGISTERED = "Das Ausbildungsverhältnis wurde eingetragen."
STILL_RUNNING = (
    "Dieses Formular wurde bereits gesendet und wird noch verarbeitet. "
    "Bitte prüfen Sie gleich die Liste der Ausbildungsverhältnisse, bevor Sie es erneut senden."
)


@bp.get("")
@require(lambda user: is_clerk(user) or is_company_user(user))
def index() -> str:
    user = current_user()
    assert user is not None
    # training-records pages by keyset: "weiter" carries the cursor of the next page.
    api = services()
    contracts = api.contracts(cursor=request.args.get("weiter") or None)
    confirmations: dict[str, Document] = {}
    company_view = is_company_user(user) and not is_clerk(user)
    if company_view:
        # The company's own copy of each Eintragungsbestätigung, to open it from the list.
        confirmations = {
            document.contract_id: document
            for document in api.documents()
            if document.contract_id and document.kind == "registration_confirmation"
        }
    return render_template(
        "web/contracts.html",
        page_title="Ausbildungsverhältnisse",
        contracts=contracts,
        confirmations=confirmations,
        company_view=company_view,
        highlight=request.args.get("neu"),
        paper_only=_paper_only,
    )


def _paper_only(contract: Contract) -> bool:
    """Registered before the digital Eintragungsbestätigung: it went out on paper, and no PDF will come."""
    cutoff = current_app.extensions["web.settings"].digital_confirmation_cutoff
    return contract.registered_on is not None and contract.registered_on < cutoff


@bp.get("/<uuid:contract_id>")
@require(lambda user: is_clerk(user) or is_company_user(user))
def detail(contract_id: uuid.UUID) -> str:
    """One contract with the progress of its downstream steps and its documents.

    The chamber opens the apprentice's copy here to print it for the post; the
    company sees whether and when each copy was opened.
    """
    api = services()
    contract = api.contract(str(contract_id))
    try:
        found = api.contract_documents(str(contract_id))
    except ServiceError as error:
        if error.status != 404:
            raise
        # documents learns of a contract from its event, a moment after training-records.
        found = []
    documents = sorted(found, key=lambda d: d.recipient_kind != "company")
    steps = progress_steps(contract, documents, today=datetime.now(BERLIN).date())
    # The chamber may open every copy (it prints the apprentice's for the post);
    # a company only its own. documents enforces the same rule on its side.
    user = current_user()
    assert user is not None
    openable = {d.document_id for d in documents if is_clerk(user) or d.recipient_kind == "company"}
    return render_template(
        "web/contract.html",
        page_title=f"Ausbildungsverhältnis {contract.contract_number}",
        contract=contract,
        documents=documents,
        steps=steps,
        openable=openable,
        in_progress=any(step.running for step in steps),
        paper_only=_paper_only(contract),
        cutoff=current_app.extensions["web.settings"].digital_confirmation_cutoff,
    )


@bp.route("/neu", methods=["GET", "POST"])
@require(is_clerk)
def new() -> Response | tuple[str, int] | str:
    api = services()
    form = ContractForm()
    form.company_number.choices = [("", "Bitte wählen")] + [
        (c.company_number, f"{c.name} ({c.company_number})") for c in api.companies()
    ]
    form.occupation_code.choices = [("", "Bitte wählen")] + [
        (o.code, f"{o.title} ({o.code})") for o in api.occupations()
    ]
    general_errors: list[str] = []
    if request.method == "GET":
        form.form_token.data = new_token()
    elif form.validate_on_submit():
        outcome = _register_once(api, form, general_errors)
        if outcome is not None:
            return outcome
    else:
        general_errors.extend(form.form_token.errors[:1])
        if not is_token(form.form_token.data):
            form.form_token.data = new_token()
    status = 422 if request.method == "POST" else 200
    body = render_template(
        "web/contract_form.html",
        page_title="Ausbildungsvertrag eintragen",
        form=form,
        general_errors=general_errors,
    )
    return body, status


def _register_once(api: Services, form: ContractForm, general_errors: list[str]) -> Response | None:
    """Register the contract, unless this form (its one-time token) was sent before: then its first outcome.

    Returns the redirect, or None with the errors to show on the form again.
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
        flash(REGISTERED, "success")
        return redirect(submission.outcome or url_for("contracts.index"), 303)
    if submission.claim is Claim.RUNNING:
        general_errors.append(STILL_RUNNING)
        return None
    try:
        contract = api.register_contract(form.to_new_contract(), idempotency_key=token)
    except ServiceError as error:
        submissions.release(token)
        if error.status not in (400, 422):
            # Maybe created, maybe not (a timeout): sending again keeps the token, so the
            # service recognises the retry by its Idempotency-Key.
            general_errors.append(error.message)
        else:
            # Refused: nothing was created, and corrected input is a new submission.
            form.form_token.data = new_token()
            mapped = map_problem_errors(error.field_errors, form.labels, CONTRACT_POINTER_ALIASES)
            for name, messages in mapped.by_field.items():
                form[name].errors = list(messages)
            general_errors.extend(mapped.general or ([] if mapped.by_field else [error.message]))
        return None
    except BaseException:
        submissions.release(token)
        raise
    target = url_for("contracts.index", neu=contract.contract_id)
    submissions.done(token, target)
    flash(REGISTERED, "success")
    # 303: the browser follows with a GET; a reload of the list never sends the form again.
    return redirect(target, 303)
