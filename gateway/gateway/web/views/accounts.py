"""The chamber's account tools: "Zugangssperren" (find an account, see its lock, lift it) and
"Protokoll" (identity's audit log, for chamber administrators)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request, url_for
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from chassis.auth import Principal
from gateway.web.account_admin import AUDIT_KINDS, AccountLock, AuditQuery, account_admin
from gateway.web.auth import require
from gateway.web.forms import ConfirmForm, GermanDateField, GermanSelectField, SearchForm
from gateway.web.navigation import is_clerk
from gateway.web.views.sending import prepare, send_once

bp = Blueprint("accounts", __name__, url_prefix="/kammer")

BERLIN = ZoneInfo("Europe/Berlin")
UNLOCKED = "Die Sperre wurde aufgehoben. Die Person kann sich wieder mit ihrem Passwort anmelden."
UNLOCK_PREFIX = "entsperren"


def is_chamber_admin(user: Principal) -> bool:
    return user.has_role("chamber_admin")


class AccountSearchForm(SearchForm):
    suche = StringField(
        "E-Mail-Adresse oder Azubinummer",
        validators=[Optional()],
        filters=[lambda value: (value or "").strip()],
    )

    def validate_suche(self, field: StringField) -> None:
        if field.data and len(field.data) > 254:
            raise ValidationError("Höchstens 254 Zeichen.")


class AuditFilterForm(AccountSearchForm):
    art = GermanSelectField(
        "Art",
        choices=[SelectChoice(value, label) for value, label in (("", "alle"), *AUDIT_KINDS)],
        validators=[Optional()],
    )
    von = GermanDateField("Von (Datum)", validators=[Optional()])
    bis = GermanDateField("Bis (Datum)", validators=[Optional()])

    def validate_bis(self, field: GermanDateField) -> None:
        if field.data and self.von.data and field.data < self.von.data:
            raise ValidationError("„Bis“ darf nicht vor „Von“ liegen.")

    def as_args(self) -> dict[str, str]:
        return {f.name: str(f.raw_data[0]).strip() for f in self if f.raw_data and str(f.raw_data[0]).strip()}


def _start_of(day: object) -> datetime | None:
    """The start of a German calendar day, in UTC (the log speaks UTC)."""
    if day is None:
        return None
    assert hasattr(day, "year")
    return datetime.combine(day, time.min, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[arg-type]


def _find(search: AccountSearchForm) -> tuple[AccountLock | None, bool]:
    """The account the search names (None if none), and whether anything was searched."""
    if not search.validate() or not search.suche.data:
        return None, False
    return account_admin().account_lock(search.suche.data), True


@bp.get("/zugaenge")
@require(is_clerk)
def locks() -> str:
    search = AccountSearchForm(formdata=request.args)
    account, searched = _find(search)
    unlock_form = ConfirmForm(prefix=UNLOCK_PREFIX, formdata=None)
    prepare(unlock_form, [])
    return render_template(
        "web/account_locks.html",
        page_title="Zugangssperren",
        search=search,
        account=account,
        searched=searched,
        unlock_form=unlock_form,
        general_errors=[],
    )


@bp.post("/zugaenge/<uuid:account_id>/entsperren")
@require(is_clerk)
def unlock(account_id: object) -> Response | tuple[str, int]:
    form = ConfirmForm(prefix=UNLOCK_PREFIX)
    errors: list[str] = []
    back = request.form.get("suche", "")
    if prepare(form, errors):

        def send(_token: str) -> str:
            account_admin().unlock_account(str(account_id))
            return url_for("accounts.locks", suche=back) if back else url_for("accounts.locks")

        outcome = send_once(form, send, done=UNLOCKED, general_errors=errors)
        if outcome is not None:
            return outcome
    search = AccountSearchForm(formdata=None, data={"suche": back})
    account, searched = (
        _find(AccountSearchForm(data={"suche": back}, formdata=None)) if back else (None, False)
    )
    body = render_template(
        "web/account_locks.html",
        page_title="Zugangssperren",
        search=search,
        account=account,
        searched=searched,
        unlock_form=form,
        general_errors=errors,
    )
    return body, 422


@bp.get("/protokoll")
@require(is_chamber_admin)
def audit() -> tuple[str, int]:
    filters = AuditFilterForm(formdata=request.args)
    entries = None
    unknown_account = False
    status = 200
    if filters.validate():
        account_id = None
        if filters.suche.data:
            account = account_admin().account_lock(filters.suche.data)
            if account is None:
                unknown_account = True
            else:
                account_id = account.account_id
        if not unknown_account:
            until = _start_of(filters.bis.data)
            query = AuditQuery(
                account_id=account_id,
                kind=filters.art.data or None,
                since=_start_of(filters.von.data),
                until=until + timedelta(days=1) if until else None,
            )
            entries = account_admin().audit_log(query, cursor=request.args.get("weiter") or None)
    else:
        status = 422
    return (
        render_template(
            "web/audit.html",
            page_title="Protokoll",
            filters=filters,
            filter_args=filters.as_args(),
            entries=entries,
            unknown_account=unknown_account,
        ),
        status,
    )
