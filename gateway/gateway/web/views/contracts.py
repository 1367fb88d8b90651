"""Ausbildungsverhältnisse: the list (chamber and companies) and the chamber's register form."""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from gateway.web.auth import current_user, require
from gateway.web.field_errors import map_problem_errors
from gateway.web.formatting import BERLIN
from gateway.web.forms import CONTRACT_POINTER_ALIASES, ContractForm
from gateway.web.navigation import is_clerk, is_company_user
from gateway.web.progress import progress_steps
from gateway.web.services import Document, ServiceError
from gateway.web.views.common import services

bp = Blueprint("contracts", __name__, url_prefix="/ausbildungsverhaeltnisse")

REGISTERED = "Das Ausbildungsverhältnis wurde eingetragen."


@bp.get("")
@require(lambda user: is_clerk(user) or is_company_user(user))
def index() -> str:
    user = current_user()
    assert user is not None
    page = request.args.get("seite", default=1, type=int) or 1
    api = services()
    contracts = api.contracts(page=max(1, min(page, 100_000)))
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
    )


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
    openable = {d.document_id for d in documents if is_clerk(user) or d.recipient_kind == "company"}
    return render_template(
        "web/contract.html",
        page_title=f"Ausbildungsverhältnis {contract.contract_number}",
        contract=contract,
        documents=documents,
        steps=steps,
        openable=openable,
        in_progress=any(step.running for step in steps),
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
    if form.validate_on_submit():
        try:
            contract = api.register_contract(form.to_new_contract())
        except ServiceError as error:
            if error.status not in (400, 422):
                general_errors.append(error.message)
            else:
                mapped = map_problem_errors(error.field_errors, form.labels, CONTRACT_POINTER_ALIASES)
                for name, messages in mapped.by_field.items():
                    form[name].errors = list(messages)
                general_errors.extend(mapped.general or ([] if mapped.by_field else [error.message]))
        else:
            flash(REGISTERED, "success")
            return redirect(url_for("contracts.index", neu=contract.contract_id))
    status = 422 if request.method == "POST" else 200
    body = render_template(
        "web/contract_form.html",
        page_title="Ausbildungsvertrag eintragen",
        form=form,
        general_errors=general_errors,
    )
    return body, status
