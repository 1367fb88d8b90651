"""identity's REST API (flask-smorest): the caller's own account."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from chassis.auth import current_principal, not_found
from identity.entrypoints.schemas import AccountSchema

blp = Blueprint("accounts", __name__, url_prefix="/accounts", description="Accounts")


@blp.route("/me")
class Me(MethodView):
    @blp.doc(security=[{"bearerAuth": []}])
    @blp.response(200, AccountSchema)
    def get(self) -> Any:
        """The caller's account (from the access token's subject)."""
        principal = current_principal()
        try:
            account_id = uuid.UUID(principal.subject)
        except ValueError:
            raise not_found("No account for this token.") from None
        with current_app.extensions["identity"].uow_factory() as uow:
            account = uow.accounts.get(account_id)
        if account is None:
            raise not_found("No account for this token.")
        return {
            "id": account.id,
            "email": account.email,
            "name": account.name,
            "username": account.username,
            "apprentice_number": account.apprentice_number,
            "status": account.status.value,
            "roles": sorted(account.roles),
            "company_roles": {k: sorted(v) for k, v in account.company_roles.items()},
            "activated_at": account.activated_at,
            "last_login_at": account.last_login_at,
        }
