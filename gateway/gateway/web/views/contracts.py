"""Ausbildungsverhältnisse: the list (chamber and companies), one contract with its history, the
chamber's register form and the steps of a contract's life."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from flask import Blueprint, abort, current_app, render_template, request, url_for
from werkzeug.wrappers import Response

from chassis.auth import Principal
from gateway.web.auth import current_user, require
from gateway.web.field_errors import map_problem_errors
from gateway.web.formatting import BERLIN, german_iso_date, termination_reason
from gateway.web.forms import (
    CONTRACT_POINTER_ALIASES,
    NO_TRAINER,
    ChangeForm,
    CompleteForm,
    ContractFilterForm,
    ContractForm,
    ExtendForm,
    InterruptForm,
    ResumeForm,
    ShortenForm,
    TerminateForm,
    TrainerChangeForm,
)
from gateway.web.navigation import is_clerk, is_company_user, maintains
from gateway.web.progress import progress_steps
from gateway.web.services import (
    Contract,
    ContractChange,
    ContractFilters,
    Document,
    ServiceError,
    Services,
    Trainer,
)
from gateway.web.views.common import services
from gateway.web.views.sending import prepare, send_once

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
    api = services()
    company_view = is_company_user(user) and not is_clerk(user)
    filters = ContractFilters()
    filter_form: ContractFilterForm | None = None
    filter_errors: list[str] = []
    contracts = None
    if not company_view:
        # The chamber searches the whole register.
        filter_form = ContractFilterForm(formdata=request.args)
        filter_form.occupation_code.choices = [("", "alle")] + [
            (o.code, f"{o.title} ({o.code})") for o in api.occupations()
        ]
        if filter_form.validate():
            filters = filter_form.to_filters()
        else:
            filter_errors.append("Bitte korrigieren Sie die Suchangaben.")
    if not filter_errors:
        # training-records pages by keyset: "weiter" carries the cursor of the next page.
        try:
            contracts = api.contracts(cursor=request.args.get("weiter") or None, filters=filters)
        except ServiceError as error:
            if error.status != 422 or filter_form is None:
                raise
            # A filter the service refused (e.g. a cursor from another search): say which one.
            mapped = map_problem_errors(error.field_errors, filter_form.labels)
            for name, messages in mapped.by_field.items():
                filter_form[name].errors = list(messages)
            filter_errors.extend(mapped.general or ["Bitte korrigieren Sie die Suchangaben."])
    confirmations: dict[str, Document] = {}
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
        filter_form=filter_form,
        filter_errors=filter_errors,
        filter_args=filter_form.as_args() if filter_form is not None else {},
        filtered=filters.active,
        highlight=request.args.get("neu"),
        paper_only=_paper_only,
    )


def _paper_only(contract: Contract) -> bool:
    """Registered before the digital Eintragungsbestätigung: it went out on paper, and no PDF will come."""
    cutoff = current_app.extensions["web.settings"].digital_confirmation_cutoff
    return contract.registered_on is not None and contract.registered_on < cutoff


# -- the steps of a contract's life -------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    slug: str  # in the URL
    label: str  # the link and the page's title
    form: type[ChangeForm]
    button: str
    done: str  # the message after it was entered
    hint: str = ""


STEPS: dict[str, Step] = {
    step.slug: step
    for step in (
        Step(
            "verlaengern",
            "Verlängern",
            ExtendForm,
            "Verlängerung eintragen",
            "Die Verlängerung wurde eingetragen.",
            "Zum Beispiel bis zur Wiederholungsprüfung (BBiG § 21 Abs. 3, höchstens ein Jahr).",
        ),
        Step(
            "verkuerzen",
            "Verkürzen",
            ShortenForm,
            "Verkürzung eintragen",
            "Die Verkürzung wurde eingetragen.",
            "Insgesamt höchstens 12 Monate (BBiG § 8).",
        ),
        Step(
            "unterbrechen",
            "Unterbrechen",
            InterruptForm,
            "Unterbrechung eintragen",
            "Die Unterbrechung wurde eingetragen.",
            "Zum Beispiel für Elternzeit oder eine längere Krankheit.",
        ),
        Step(
            "fortsetzen",
            "Fortsetzen",
            ResumeForm,
            "Fortsetzung eintragen",
            "Die Fortsetzung wurde eingetragen.",
        ),
        Step(
            "ausbilder-wechseln",
            "Ausbilder/-in wechseln",
            TrainerChangeForm,
            "Ausbilder/-in ändern",
            "Die Ausbilderin bzw. der Ausbilder wurde geändert.",
        ),
        Step(
            "abschliessen",
            "Abschließen",
            CompleteForm,
            "Abschluss eintragen",
            "Das Ausbildungsverhältnis wurde abgeschlossen.",
            "Zum Beispiel am Tag der bestandenen Abschlussprüfung.",
        ),
        Step(
            "loesen",
            "Vorzeitig lösen",
            TerminateForm,
            "Lösung eintragen",
            "Die vorzeitige Lösung wurde eingetragen.",
        ),
    )
}


def available_steps(user: Principal, contract: Contract) -> list[Step]:
    """The steps this user may enter now: the chamber every step that fits the state; a company's
    administrators and Verwalter the change of trainer (training-records decides again)."""
    if not contract.running:
        return []
    if is_clerk(user):
        skip = {"fortsetzen"} if contract.state == "registered" else {"unterbrechen"}
        return [step for slug, step in STEPS.items() if slug not in skip]
    if may_change_trainer(user, contract):
        return [STEPS["ausbilder-wechseln"]]
    return []


def may_change_trainer(user: Principal, contract: Contract) -> bool:
    companies = (contract.company.company_number, contract.head_office_number)
    return is_clerk(user) or any(number and maintains(user, number) for number in companies)


@bp.get("/<uuid:contract_id>")
@require(lambda user: is_clerk(user) or is_company_user(user))
def detail(contract_id: uuid.UUID) -> str:
    """One contract: its terms, the progress of its downstream steps, its documents and its history.

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
    history = api.contract_history(str(contract_id))
    user = current_user()
    assert user is not None
    # The chamber may open every copy (it prints the apprentice's for the post);
    # a company only its own. documents enforces the same rule on its side.
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
        history=history,
        describe=partial(describe_change, trainer_names=_trainer_names(api, contract, history)),
        changes=available_steps(user, contract),
        show_imports=is_clerk(user),
    )


def describe_change(change: ContractChange, *, trainer_names: Mapping[str, str]) -> list[str]:
    """What a step of the history changed, in German lines ("Ende bisher 31.07.2029", …)."""
    d = change.details
    lines: list[str] = []
    if d.get("previous_end_date"):
        lines.append(f"Ende bisher {german_iso_date(d['previous_end_date'])}")
    if d.get("end_date"):
        lines.append(f"Ende {'neu ' if d.get('previous_end_date') else ''}{german_iso_date(d['end_date'])}")
    if d.get("since") and change.kind == "resumed":
        lines.append(f"unterbrochen seit {german_iso_date(d['since'])}")
    if d.get("reason"):
        lines.append(f"Grund: {termination_reason(d['reason'])}")
    if change.kind == "trainer_changed":
        for label, key in (("bisher", "previous_trainer_id"), ("neu", "trainer_id")):
            trainer_id = d.get(key)
            name = (
                trainer_names.get(trainer_id, "ehemalige/r Ausbilder/-in")
                if trainer_id
                else "nicht zugeordnet"
            )
            lines.append(f"{label}: {name}")
    if d.get("note"):
        lines.append(f"Bemerkung: {d['note']}")
    return lines


def _trainer_names(api: Services, contract: Contract, history: Sequence[ContractChange]) -> dict[str, str]:
    """Names of the trainers a history names by id (removed ones are no longer listed)."""
    if not any(change.kind == "trainer_changed" for change in history):
        return {}
    names = {contract.trainer.trainer_id: contract.trainer.name} if contract.trainer else {}
    try:
        names.update({t.trainer_id: t.name for t in api.trainers(contract.company.company_number)})
    except ServiceError as error:
        if error.status >= 500:
            raise
    return names


@bp.route("/<uuid:contract_id>/aendern/<slug>", methods=["GET", "POST"])
@require(lambda user: is_clerk(user) or is_company_user(user))
def change(contract_id: uuid.UUID, slug: str) -> Response | tuple[str, int]:
    step = STEPS.get(slug)
    if step is None:
        abort(404)
    user = current_user()
    assert user is not None
    api = services()
    contract = api.contract(str(contract_id))
    if step not in available_steps(user, contract):
        if is_clerk(user) or (step.form is TrainerChangeForm and may_change_trainer(user, contract)):
            # The contract moved on (ended, interrupted, resumed) since the link was shown.
            return _step_unavailable(contract, step)
        abort(403)
    form = step.form()
    trainers: list[Trainer] = []
    if isinstance(form, TrainerChangeForm):
        trainers = list(api.trainers(contract.company.company_number))
        current = contract.trainer.trainer_id if contract.trainer else None
        form.trainer_id.choices = (
            [("", "Bitte wählen")]
            + [(t.trainer_id, t.name) for t in trainers if t.trainer_id != current]
            + ([(NO_TRAINER, "keine Zuordnung")] if current else [])
        )
    general_errors: list[str] = []
    if prepare(form, general_errors):

        def send(token: str) -> str:
            api.change_contract(contract.contract_id, form.to_change(), idempotency_key=token)
            return url_for("contracts.detail", contract_id=contract.contract_id) + "#verlauf"

        outcome = send_once(form, send, done=step.done, general_errors=general_errors)
        if outcome is not None:
            return outcome
    status = 422 if request.method == "POST" else 200
    body = render_template(
        "web/contract_change.html",
        page_title=f"{step.label}: Ausbildungsverhältnis {contract.contract_number}",
        contract=contract,
        step=step,
        form=form,
        general_errors=general_errors,
        no_trainers=isinstance(form, TrainerChangeForm) and not trainers,
    )
    return body, status


def _step_unavailable(contract: Contract, step: Step) -> tuple[str, int]:
    body = render_template(
        "web/contract_change.html",
        page_title=f"{step.label}: Ausbildungsverhältnis {contract.contract_number}",
        contract=contract,
        step=step,
        form=None,
        general_errors=[],
        no_trainers=False,
    )
    return body, 409


# -- Ausbildungsvertrag eintragen -----------------------------------------------------------------


@bp.route("/neu", methods=["GET", "POST"])
@require(is_clerk)
def new() -> Response | tuple[str, int] | str:
    api = services()
    form = ContractForm()
    form.company_number.choices = [("", "Bitte wählen")] + [
        (c.company_number, f"{c.name} ({c.company_number})") for c in api.companies()
    ]
    form.set_occupations(api.occupations())
    general_errors: list[str] = []
    if prepare(form, general_errors):

        def send(token: str) -> str:
            contract = api.register_contract(form.to_new_contract(), idempotency_key=token)
            return url_for("contracts.index", neu=contract.contract_id)

        outcome = send_once(
            form,
            send,
            done=REGISTERED,
            general_errors=general_errors,
            aliases=CONTRACT_POINTER_ALIASES,
            still_running=STILL_RUNNING,
        )
        if outcome is not None:
            return outcome
    status = 422 if request.method == "POST" else 200
    body = render_template(
        "web/contract_form.html",
        page_title="Ausbildungsvertrag eintragen",
        form=form,
        general_errors=general_errors,
    )
    return body, status
