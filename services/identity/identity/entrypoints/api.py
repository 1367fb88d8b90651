"""identity's REST API (flask-smorest): views turn requests into queries for the message bus."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from chassis.app import current_runtime
from chassis.auth import current_principal
from identity.bootstrap import IdentityRuntime
from identity.domain.model import Account
from identity.domain.queries import GetOwnAccount
from identity.entrypoints import grants_api
from identity.entrypoints.schemas import AccountSchema

blp = Blueprint("accounts", __name__, url_prefix="/accounts", description="Accounts")


@blp.route("/me")
class Me(MethodView):
    @blp.doc(security=[{"bearerAuth": []}])
    @blp.response(200, AccountSchema)
    def get(self) -> Any:
        """The caller's account (from the access token's subject)."""
        account: Account = current_runtime(IdentityRuntime).bus.handle(GetOwnAccount(current_principal()))
        return {
            "id": account.id,
            "email": account.email,
            "name": account.name,
            "username": account.username,
            "apprentice_number": account.apprentice_number,
            "status": account.status.value,
            "roles": sorted(account.roles),
            "company_roles": {k: sorted(v) for k, v in account.company_roles.items()},
            "service_rights": {k: sorted(v) for k, v in account.service_rights.items()},
            "activated_at": account.activated_at,
            "last_login_at": account.last_login_at,
        }


BLUEPRINTS = [blp, *grants_api.BLUEPRINTS]
