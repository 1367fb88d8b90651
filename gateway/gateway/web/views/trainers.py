"""Ausbilder/-in: a company's trainers, for its administrators and Verwalter."""

from __future__ import annotations

import uuid

from flask import Blueprint, render_template, request, url_for
from werkzeug.wrappers import Response

from gateway.web.auth import current_user, require
from gateway.web.forms import ConfirmForm, TrainerForm
from gateway.web.navigation import is_company_maintainer
from gateway.web.services import Company, Trainer
from gateway.web.views.common import chosen_company, maintained_companies, services
from gateway.web.views.sending import fresh_token, prepare, send_once

bp = Blueprint("trainers", __name__, url_prefix="/ausbilder")

ADDED = "Die Ausbilderin bzw. der Ausbilder wurde hinzugefügt."
CHANGED = "Die Angaben wurden gespeichert."
REMOVED = "Die Ausbilderin bzw. der Ausbilder wurde entfernt."
REMOVE_PREFIX = "entfernen"


def _companies() -> list[Company]:
    user = current_user()
    assert user is not None
    return maintained_companies(services(), user)


@bp.get("")
@require(is_company_maintainer)
def index() -> str:
    companies = _companies()
    company = chosen_company(companies, request.args.get("betrieb")) if companies else None
    trainers = list(services().trainers(company.company_number)) if company else []
    return render_template(
        "web/trainers.html",
        page_title="Ausbilder/-in",
        companies=companies,
        company=company,
        trainers=trainers,
    )


@bp.route("/neu", methods=["GET", "POST"])
@require(is_company_maintainer)
def new() -> Response | tuple[str, int]:
    company = chosen_company(_companies(), request.args.get("betrieb"))
    api = services()
    form = TrainerForm()
    general_errors: list[str] = []
    if prepare(form, general_errors):

        def send(token: str) -> str:
            api.add_trainer(company.company_number, form.to_input(), idempotency_key=token)
            return url_for("trainers.index", betrieb=company.company_number)

        outcome = send_once(form, send, done=ADDED, general_errors=general_errors)
        if outcome is not None:
            return outcome
    body = render_template(
        "web/trainer_form.html",
        page_title="Ausbilder/-in hinzufügen",
        company=company,
        form=form,
        trainer=None,
        remove_form=None,
        general_errors=general_errors,
    )
    return body, 422 if request.method == "POST" else 200


@bp.route("/<uuid:trainer_id>", methods=["GET", "POST"])
@require(is_company_maintainer)
def edit(trainer_id: uuid.UUID) -> Response | tuple[str, int]:
    api = services()
    trainer = api.trainer(str(trainer_id))
    company = chosen_company(_companies(), trainer.company_number)
    form = TrainerForm(obj=trainer)
    general_errors: list[str] = []
    if prepare(form, general_errors):

        def send(token: str) -> str:
            api.change_trainer(trainer.trainer_id, form.to_input(), idempotency_key=token)
            return url_for("trainers.index", betrieb=company.company_number)

        outcome = send_once(form, send, done=CHANGED, general_errors=general_errors)
        if outcome is not None:
            return outcome
    remove_form = ConfirmForm(prefix=REMOVE_PREFIX, formdata=None)
    fresh_token(remove_form)
    return _edit_page(company, trainer, form, remove_form, general_errors, [])


@bp.post("/<uuid:trainer_id>/entfernen")
@require(is_company_maintainer)
def remove(trainer_id: uuid.UUID) -> Response | tuple[str, int]:
    api = services()
    trainer = api.trainer(str(trainer_id))
    company = chosen_company(_companies(), trainer.company_number)
    remove_form = ConfirmForm(prefix=REMOVE_PREFIX)
    remove_errors: list[str] = []
    if prepare(remove_form, remove_errors):

        def send(_token: str) -> str:
            api.remove_trainer(trainer.trainer_id)
            return url_for("trainers.index", betrieb=company.company_number)

        outcome = send_once(remove_form, send, done=REMOVED, general_errors=remove_errors)
        if outcome is not None:
            return outcome
    form = TrainerForm(formdata=None, obj=trainer)
    fresh_token(form)
    return _edit_page(company, trainer, form, remove_form, [], remove_errors)


def _edit_page(
    company: Company,
    trainer: Trainer,
    form: TrainerForm,
    remove_form: ConfirmForm,
    general_errors: list[str],
    remove_errors: list[str],
) -> tuple[str, int]:
    body = render_template(
        "web/trainer_form.html",
        page_title=f"Ausbilder/-in: {trainer.name}",
        company=company,
        form=form,
        trainer=trainer,
        remove_form=remove_form,
        general_errors=general_errors,
        remove_errors=remove_errors,
    )
    return body, 422 if request.method == "POST" and (general_errors or remove_errors or form.errors) else 200
