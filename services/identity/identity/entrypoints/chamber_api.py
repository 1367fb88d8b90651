"""The chamber's API in identity: account locks (look up, lift) and the audit log.

Every view needs a bearer token (401 without); the use cases apply the access rules
(403 for anyone but the chamber; the audit log for chamber administrators only).
"""

from __future__ import annotations

import uuid
from functools import wraps
from typing import Any

from flask.views import MethodView
from marshmallow import RAISE, Schema, fields, post_load, validate

from chassis.app import current_runtime
from chassis.auth import authenticated_blueprint, current_principal
from chassis.fields import Text
from chassis.paging import PageQuerySchema, page_response, page_schema
from chassis.principal import Principal
from identity.bootstrap import IdentityRuntime
from identity.domain import access
from identity.domain.account_commands import FindAccountLock, ListAuditRecords, UnlockAccount
from identity.domain.audit import AuditFilter, AuditKind
from identity.service_layer.registration import AccountLock

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def _handle(message: Any) -> Any:
    return current_runtime(IdentityRuntime).bus.handle(message)


def _checked_first(rule: Any) -> Any:
    """Apply the access rule before the input is parsed: a caller who may not act learns nothing."""

    def decorate(view: Any) -> Any:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal: Principal = current_principal()
            rule(principal)
            return view(*args, **kwargs)

        return wrapper

    return decorate


locks = authenticated_blueprint(
    "account_locks", __name__, url_prefix="/account-locks", description="Account lockouts, for the chamber."
)
audit = authenticated_blueprint(
    "audit", __name__, url_prefix="/audit", description="identity's audit log, for chamber admins."
)


class AccountLockSchema(Schema):
    account_id = fields.UUID(required=True)
    name = fields.String(required=True)
    email = fields.Email(required=True)
    apprentice_number = fields.String(allow_none=True, metadata={"description": "Azubinummer"})
    status = fields.String(required=True, metadata={"enum": ["pending_activation", "active", "locked"]})
    locked_until = fields.AwareDateTime(
        allow_none=True, metadata={"description": "End of the lockout after failed logins; null if none."}
    )
    failed_logins = fields.Integer(required=True)


class LockQuerySchema(Schema):
    login = Text(
        required=True,
        validate=validate.Length(min=1, max=254),
        metadata={"description": "E-mail address, username or Azubinummer"},
    )


class AuditRecordSchema(Schema):
    id = fields.UUID(required=True)
    at = fields.AwareDateTime(required=True)
    kind = fields.String(required=True, metadata={"enum": [k.value for k in AuditKind]})
    label = fields.String(required=True, metadata={"description": "The kind in German"})
    account_id = fields.UUID(allow_none=True)
    actor_id = fields.UUID(allow_none=True)
    on_behalf_of = fields.UUID(allow_none=True)
    details = fields.Dict(keys=fields.String(), required=True)


class AuditQuerySchema(PageQuerySchema):
    account_id = fields.UUID(metadata={"description": "Records about or by this account"})
    kind = fields.Enum(AuditKind, by_value=True)
    since = fields.AwareDateTime(metadata={"description": "From this moment (inclusive)"})
    until = fields.AwareDateTime(metadata={"description": "Before this moment"})

    @post_load
    def _request(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        wanted = AuditFilter(
            account_id=data.pop("account_id", None),
            kind=data.pop("kind", None),
            since=data.pop("since", None),
            until=data.pop("until", None),
        )
        return {"page": super()._request(data, **kwargs), "wanted": wanted}


def _lock(lock: AccountLock) -> dict[str, Any]:
    return {
        "account_id": lock.account_id,
        "name": lock.name,
        "email": lock.email,
        "apprentice_number": lock.apprentice_number,
        "status": lock.status,
        "locked_until": lock.locked_until,
        "failed_logins": lock.failed_logins,
    }


@locks.route("")
class Locks(MethodView):
    @_checked_first(access.may_unlock_accounts)
    @locks.arguments(LockQuerySchema, location="query", unknown=RAISE)
    @locks.response(200, AccountLockSchema)
    @locks.doc(security=BEARER)
    def get(self, args: dict[str, str]) -> Any:
        """Find an account by e-mail address, username or Azubinummer and show its lock (chamber only)."""
        return _lock(_handle(FindAccountLock(current_principal(), args["login"])))


@locks.route("/<uuid:account_id>")
class Lock(MethodView):
    @_checked_first(access.may_unlock_accounts)
    @locks.response(200, AccountLockSchema)
    @locks.doc(security=BEARER)
    def delete(self, account_id: uuid.UUID) -> Any:
        """Lift the lockout after failed logins (chamber only; idempotent; recorded in the audit log)."""
        return _lock(_handle(UnlockAccount(current_principal(), account_id)))


@audit.route("")
class AuditLog(MethodView):
    @_checked_first(access.may_read_audit_log)
    @audit.arguments(AuditQuerySchema, location="query", as_kwargs=True, unknown=RAISE)
    @audit.response(200, page_schema(AuditRecordSchema))
    @audit.doc(security=BEARER)
    def get(self, page: Any, wanted: AuditFilter) -> Any:
        """The audit log, newest first, keyset-paged (chamber administrators only)."""
        return page_response(_handle(ListAuditRecords(current_principal(), wanted, page)))


BLUEPRINTS = [locks, audit]
