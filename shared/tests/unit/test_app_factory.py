"""The app factory's contract: problem+json everywhere, request ids, validation naming fields."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from chassis.app import create_service_app
from chassis.auth import current_principal
from chassis.config import ServiceSettings
from chassis.db import new_metadata
from chassis.events.tables import add_messaging_tables
from chassis.service import ServiceRuntime, build_runtime
from chassis.testing.tokens import TestIssuer
from chassis.uow import SqlAlchemyUnitOfWork


class ThingSchema(Schema):
    name = fields.String(required=True)
    count = fields.Integer(required=True)


@pytest.fixture
def app(tmp_path) -> Flask:
    blp = Blueprint("things", __name__, url_prefix="/things")

    @blp.route("", methods=["POST"])
    @blp.arguments(ThingSchema)
    @blp.response(201, ThingSchema)
    def create(thing: dict) -> dict:
        return thing

    @blp.route("/mine")
    def mine() -> dict:
        return {"sub": current_principal().subject}

    @blp.route("/overflow")
    def overflow() -> dict:
        from sqlalchemy.exc import DataError

        raise DataError("SELECT …", {}, Exception("bigint out of range"))

    @blp.route("/boom")
    def boom() -> dict:
        raise RuntimeError("secret internals")

    issuer = TestIssuer()
    settings = ServiceSettings.from_env("exams", {"BP_DATA_DIR": str(tmp_path), "BP_LOG_JSON": "0"})
    metadata = new_metadata()
    add_messaging_tables(metadata)
    runtime = build_runtime(
        ServiceRuntime,
        settings,
        metadata=metadata,
        migrations_dir=tmp_path,
        uow_class=SqlAlchemyUnitOfWork,
    )
    runtime.token_validator = issuer.validator()
    app = create_service_app(runtime, title="t", description="d", blueprints=[blp])
    app.config["issuer"] = issuer
    return app


def test_valid_body_is_accepted_and_request_id_echoed(app: Flask) -> None:
    response = app.test_client().post(
        "/things", json={"name": "a", "count": 1}, headers={"X-Request-ID": "abc-123"}
    )
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "abc-123"


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        ({"name": "a"}, 422, "#/count"),
        ({"name": "a", "count": "many"}, 422, "#/count"),
        ({"name": "a", "count": 1, "extra": True}, 422, "#/extra"),
    ],
)
def test_bad_bodies_name_the_field(app: Flask, body: dict, status: int, pointer: str) -> None:
    response = app.test_client().post("/things", json=body)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert pointer in [e["pointer"] for e in response.json["errors"]]


def test_malformed_json_is_a_400_problem(app: Flask) -> None:
    response = app.test_client().post("/things", data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_unexpected_errors_hide_internals(app: Flask) -> None:
    response = app.test_client().get("/things/boom")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "secret internals" not in response.get_data(as_text=True)


def test_spoofed_request_id_is_replaced(app: Flask) -> None:
    response = app.test_client().post(
        "/things", json={"name": "a", "count": 1}, headers={"X-Request-ID": "a b<script>"}
    )
    assert response.headers["X-Request-ID"] != "a b<script>"


def test_auth_is_required_and_checked(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/things/mine").status_code == 401
    issuer: TestIssuer = app.config["issuer"]
    assert client.get("/things/mine", headers=issuer.header("me")).json == {"sub": "me"}


def test_values_the_database_refuses_are_a_422_problem(app: Flask) -> None:
    response = app.test_client().get("/things/overflow")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "bigint" not in response.get_data(as_text=True)
