from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from chassis.auth import current_principal
from exams.entrypoints.schemas import PageQuerySchema, RegisteredContractSchema
from exams.service_layer import queries

blp = Blueprint(
    "registered_contracts",
    __name__,
    url_prefix="/registered-contracts",
    description="Training contracts known to exams (read model of training.contract.registered).",
)


@blp.route("")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, RegisteredContractSchema(many=True))
@blp.doc(security=[{"bearerAuth": []}])
def list_registered_contracts(page: dict[str, int]) -> Any:
    """Registered contracts the caller may see (chamber exam staff: all; companies: their own)."""
    principal = current_principal()
    runtime = current_app.extensions["runtime"]
    return queries.registered_contracts(runtime.uow_factory(), principal, **page)
