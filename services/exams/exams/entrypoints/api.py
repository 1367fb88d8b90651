"""exams' HTTP API: views turn requests into queries/commands for the message bus."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from chassis.app import current_runtime
from chassis.auth import current_principal
from chassis.pagination import PageRequest
from chassis.paging import PageQuerySchema, page_response, page_schema
from exams.bootstrap import ExamsRuntime
from exams.domain.queries import ListRegisteredContracts
from exams.entrypoints.schemas import RegisteredContractSchema

blp = Blueprint(
    "registered_contracts",
    __name__,
    url_prefix="/registered-contracts",
    description="Training contracts known to exams (read model of training.contract.registered).",
)


@blp.route("")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, page_schema(RegisteredContractSchema))
@blp.doc(security=[{"bearerAuth": []}])
def list_registered_contracts(page: PageRequest) -> Any:
    """Registered contracts the caller may see (chamber exam staff: all; companies: their own), newest first."""
    runtime = current_runtime(ExamsRuntime)
    return page_response(runtime.bus.handle(ListRegisteredContracts(current_principal(), page)))


BLUEPRINTS = [blp]
