"""Idempotency-Key through a service app built by the chassis, on PostgreSQL and on SQLite
(the embedded mode's database): a retried creating call returns the first answer."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from flask import Flask, Response, abort
from flask.testing import FlaskClient
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from werkzeug.test import TestResponse

from chassis.app import create_service_app
from chassis.auth import current_principal
from chassis.config import ServiceSettings
from chassis.db import make_engine, new_metadata
from chassis.events.tables import add_messaging_tables
from chassis.idempotency import (
    HEADER,
    REPLAYED_HEADER,
    create_idempotency_table,
    idempotency_table,
    init_idempotency,
    purge_expired,
)
from chassis.service import ServiceRuntime, build_runtime
from chassis.testing.tokens import TestIssuer
from chassis.uow import SqlAlchemyUnitOfWork


class NoteSchema(Schema):
    text = fields.String(required=True)


class NoteOutSchema(Schema):
    id = fields.String()
    text = fields.String()
    owner = fields.String()


@dataclass
class NotesService:
    """A real service app (runtime, app factory, auth, problem handlers) around one ``notes`` table."""

    app: Flask
    engine: sa.engine.Engine
    notes: sa.Table
    keys: sa.Table
    issuer: TestIssuer
    clock: list[datetime]
    gate: threading.Event = field(default_factory=threading.Event)
    entered: threading.Event = field(default_factory=threading.Event)
    failures: list[int] = field(default_factory=list)  # statuses the next creating calls answer with
    break_after_view: bool = False

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def headers(self, subject: str = "alice", key: str | None = None) -> dict[str, str]:
        headers = self.issuer.header(subject)
        if key is not None:
            headers[HEADER] = key
        return headers

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(self.notes)).scalar_one()

    def key_rows(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(self.keys)))


def build_notes_service(database_url: str, tmp_path: Path) -> NotesService:
    metadata = new_metadata()
    add_messaging_tables(metadata)
    notes = sa.Table(
        "notes",
        metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    keys = metadata.tables["idempotency_keys"]  # added by add_messaging_tables, like in every service
    issuer = TestIssuer()
    settings = dataclasses.replace(
        ServiceSettings.from_env("exams", {"BP_DATA_DIR": str(tmp_path), "BP_LOG_JSON": "0"}),
        database_url=database_url,
        issuer=issuer.issuer,
        audience=issuer.audience,
    )
    runtime = build_runtime(
        ServiceRuntime,
        settings,
        metadata=metadata,
        migrations_dir=tmp_path,
        uow_class=SqlAlchemyUnitOfWork,
    )
    runtime.token_validator = issuer.validator()
    metadata.create_all(runtime.engine)
    clock = [datetime.now(UTC)]
    blp = Blueprint("notes", __name__, url_prefix="/notes")
    public = Blueprint("public", __name__, url_prefix="/public")
    service: NotesService

    @blp.route("", methods=["POST"])
    @blp.arguments(NoteSchema)
    @blp.response(201, NoteOutSchema)
    def create(note: dict[str, str]) -> tuple[dict[str, str], int, dict[str, str]]:
        owner = current_principal().subject
        if note["text"] == "slow":
            service.entered.set()
            assert service.gate.wait(timeout=30), "the test never opened the gate"
        if service.failures:
            status = service.failures.pop(0)
            if status == 0:
                raise RuntimeError("the view failed")
            abort(status)
        row = {"id": str(uuid.uuid4()), "owner": owner, "text": note["text"]}
        with runtime.engine.begin() as conn:
            conn.execute(sa.insert(notes).values(**row))
        return row, 201, {"Location": f"/notes/{row['id']}"}

    @blp.route("/<note_id>", methods=["PATCH"])
    @blp.arguments(NoteSchema)
    @blp.response(200, NoteOutSchema)
    def edit(note: dict[str, str], note_id: str) -> dict[str, str]:
        owner = current_principal().subject
        with runtime.engine.begin() as conn:
            changed = conn.execute(
                sa.update(notes)
                .where(notes.c.id == note_id, notes.c.owner == owner)
                .values(text=notes.c.text + note["text"])
            ).rowcount
            if not changed:
                abort(404)
            return dict(conn.execute(sa.select(notes).where(notes.c.id == note_id)).one()._mapping)

    @public.route("/echo", methods=["POST"])
    @public.arguments(NoteSchema)
    @public.response(200, NoteSchema)
    def echo(note: dict[str, str]) -> dict[str, str]:
        return note

    # create_service_app honours Idempotency-Key in every service; the test drives its clock.
    app = create_service_app(runtime, title="notes", description="notes", blueprints=[blp, public])
    app.extensions["idempotency"].clock = lambda: clock[0]

    @app.after_request
    def break_after_the_view(response: Response) -> Response:
        # Registered last, so it runs before the idempotency hook stores the answer.
        if service.break_after_view:
            raise RuntimeError("broken after the view")
        return response

    service = NotesService(app, runtime.engine, notes, keys, issuer, clock)
    return service


@pytest.fixture(params=["postgres", "sqlite"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NotesService]:
    if request.param == "postgres":
        url = request.getfixturevalue("database_url")
    else:
        url = f"sqlite:///{tmp_path / 'notes.db'}"
    made = build_notes_service(url, tmp_path)
    yield made
    made.gate.set()
    made.engine.dispose()


@pytest.fixture
def pg_service(database_url: str, tmp_path: Path) -> Iterator[NotesService]:
    made = build_notes_service(database_url, tmp_path)
    yield made
    made.gate.set()
    made.engine.dispose()


def post(
    service: NotesService, text: str = "hello", *, subject: str = "alice", key: str | None
) -> TestResponse:
    return service.client().post("/notes", json={"text": text}, headers=service.headers(subject, key))


def test_retried_post_creates_once_and_replays_the_first_answer(service: NotesService) -> None:
    key = str(uuid.uuid4())
    first = post(service, key=key)
    assert first.status_code == 201 and REPLAYED_HEADER not in first.headers
    retry = post(service, key=key)
    assert retry.status_code == 201
    assert retry.headers[REPLAYED_HEADER] == "true"
    assert retry.get_json() == first.get_json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["Content-Type"] == "application/json"
    assert retry.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert service.count() == 1


def test_without_a_key_every_post_creates(service: NotesService) -> None:
    assert post(service, key=None).status_code == 201
    assert post(service, key=None).status_code == 201
    assert service.count() == 2
    assert service.key_rows() == []


def test_patch_is_covered_too(service: NotesService) -> None:
    note = post(service, key=None).get_json()
    client = service.client()
    for _ in range(2):
        response = client.patch(
            f"/notes/{note['id']}", json={"text": "!"}, headers=service.headers(key="p-1")
        )
        assert response.status_code == 200
    assert response.headers[REPLAYED_HEADER] == "true"
    assert response.get_json()["text"] == "hello!"  # appended once


def test_same_key_with_another_body_is_422(service: NotesService) -> None:
    assert post(service, "one", key="k-1").status_code == 201
    response = post(service, "two", key="k-1")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"].endswith("/idempotency-key-reused")
    assert service.count() == 1


def test_same_key_on_another_operation_is_422(service: NotesService) -> None:
    created = post(service, key="k-2").get_json()
    client = service.client()
    response = client.patch(
        f"/notes/{created['id']}", json={"text": "hello"}, headers=service.headers(key="k-2")
    )
    assert response.status_code == 422
    assert response.get_json()["type"].endswith("/idempotency-key-reused")


def test_duplicate_while_the_first_still_runs_is_409_with_retry_after(service: NotesService) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(post, service, "slow", key="k-slow")
        assert service.entered.wait(timeout=10)
        duplicate = post(service, "slow", key="k-slow")
        assert duplicate.status_code == 409
        assert duplicate.headers["Retry-After"].isdigit()
        assert duplicate.get_json()["type"].endswith("/idempotency-key-in-use")
        service.gate.set()
        assert first.result(timeout=30).status_code == 201
    retry = post(service, "slow", key="k-slow")
    assert retry.status_code == 201 and retry.headers[REPLAYED_HEADER] == "true"
    assert service.count() == 1


@pytest.mark.parametrize("failure", [500, 503, 0], ids=["500", "503", "exception"])
def test_a_server_error_releases_the_key_so_a_retry_runs(service: NotesService, failure: int) -> None:
    service.failures.append(failure)
    failed = post(service, key="k-fail")
    assert failed.status_code == (failure or 500)
    assert service.key_rows() == []
    retry = post(service, key="k-fail")
    assert retry.status_code == 201 and REPLAYED_HEADER not in retry.headers
    assert service.count() == 1


def test_an_exception_after_the_view_releases_the_key(service: NotesService) -> None:
    service.break_after_view = True
    assert post(service, key="k-late").status_code == 500
    assert service.key_rows() == []
    service.break_after_view = False
    assert post(service, key="k-late").status_code == 201


def test_a_client_error_is_final_and_replayed(service: NotesService) -> None:
    client = service.client()
    bad = client.post("/notes", json={"txt": "typo"}, headers=service.headers(key="k-bad"))
    assert bad.status_code == 422
    again = client.post("/notes", json={"txt": "typo"}, headers=service.headers(key="k-bad"))
    assert again.status_code == 422 and again.headers[REPLAYED_HEADER] == "true"
    assert again.get_json() == bad.get_json()
    assert again.mimetype == "application/problem+json"


def test_too_many_requests_is_not_final(service: NotesService) -> None:
    service.failures.append(429)
    assert post(service, key="k-429").status_code == 429
    assert post(service, key="k-429").status_code == 201


def test_another_principal_never_gets_the_answer(service: NotesService) -> None:
    alice = post(service, subject="alice", key="shared-key")
    bob = post(service, subject="bob", key="shared-key")
    assert alice.status_code == bob.status_code == 201
    assert REPLAYED_HEADER not in bob.headers
    assert bob.get_json()["owner"] == "bob" and bob.get_json()["id"] != alice.get_json()["id"]
    assert service.count() == 2
    # each one's retry gets their own first answer
    assert post(service, subject="bob", key="shared-key").get_json() == bob.get_json()
    assert post(service, subject="alice", key="shared-key").get_json() == alice.get_json()


@pytest.mark.parametrize(
    "value",
    ["", "x" * 256, "schl\u00fcssel", "tab\there", '"unterminated', '"a"b"'],
    ids=["empty", "too long", "not ASCII", "control character", "open quote", "bad quoting"],
)
def test_an_invalid_key_is_a_422_naming_the_header(service: NotesService, value: str) -> None:
    response = post(service, key=value)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["errors"] == [
        {"pointer": f"#/{HEADER}", "detail": "Must be 1 to 255 printable ASCII characters.", "in": "headers"}
    ]
    assert service.count() == 0


def test_the_structured_field_form_names_the_same_key(service: NotesService) -> None:
    assert post(service, key="abc-1").status_code == 201
    assert post(service, key='"abc-1"').headers[REPLAYED_HEADER] == "true"


def test_a_bad_token_with_a_key_is_401_and_claims_nothing(service: NotesService) -> None:
    response = service.client().post(
        "/notes", json={"text": "x"}, headers={"Authorization": "Bearer nonsense", HEADER: "k-401"}
    )
    assert response.status_code == 401
    assert service.key_rows() == []


def test_anonymous_calls_are_not_deduplicated(service: NotesService) -> None:
    client = service.client()
    for _ in range(2):
        response = client.post("/public/echo", json={"text": "x"}, headers={HEADER: "anon"})
        assert response.status_code == 200 and REPLAYED_HEADER not in response.headers
    assert service.key_rows() == []


def test_get_and_unknown_paths_ignore_the_key(service: NotesService) -> None:
    client = service.client()
    assert client.get("/healthz", headers=service.headers(key="k-get")).status_code == 200
    assert client.post("/nowhere", json={}, headers=service.headers(key="k-404")).status_code == 404
    assert service.key_rows() == []


def test_keys_expire_after_a_day(service: NotesService) -> None:
    assert post(service, key="k-old").status_code == 201
    assert post(service, key="k-kept").status_code == 201
    service.clock[0] += timedelta(hours=23)
    assert post(service, key="k-old").headers[REPLAYED_HEADER] == "true"
    assert post(service, key="k-new").status_code == 201
    service.clock[0] += timedelta(hours=1, seconds=1)
    # an expired key counts as new even before the purge came by
    again = post(service, key="k-old")
    assert again.status_code == 201 and REPLAYED_HEADER not in again.headers
    assert service.count() == 4
    deleted = purge_expired(service.engine, service.keys, service.clock[0])
    assert deleted == 1  # k-kept; k-old was replaced, k-new is young
    assert sorted(row.key for row in service.key_rows()) == ["k-new", "k-old"]
    assert purge_expired(service.engine, service.keys, service.clock[0] + timedelta(days=2)) == 2
    assert service.key_rows() == []


def test_a_claim_left_by_a_dead_request_is_taken_over_after_its_lease(service: NotesService) -> None:
    now = service.clock[0]
    body = b'{"text": "hello"}\n'
    with service.engine.begin() as conn:
        conn.execute(
            sa.insert(service.keys).values(
                subject="alice",
                key="k-dead",
                method="POST",
                path="/notes",
                fingerprint=hashlib.sha256(body).hexdigest(),
                state="processing",
                claim="0" * 32,
                locked_until=now + timedelta(minutes=5),
                created_at=now,
                expires_at=now + timedelta(hours=24),
            )
        )
    headers = {**service.headers(key="k-dead"), "Content-Type": "application/json"}
    assert service.client().post("/notes", data=body, headers=headers).status_code == 409
    service.clock[0] += timedelta(minutes=5, seconds=1)
    taken = service.client().post("/notes", data=body, headers=headers)
    assert taken.status_code == 201
    replay = service.client().post("/notes", data=body, headers=headers)
    assert replay.headers[REPLAYED_HEADER] == "true" and replay.get_json() == taken.get_json()


def test_concurrent_duplicates_create_once(pg_service: NotesService) -> None:
    """Eight identical requests at once: one runs the view, the others wait for nothing."""
    barrier = threading.Barrier(8)

    def send(_: int) -> TestResponse:
        barrier.wait(timeout=10)
        return post(pg_service, key="k-race")

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(send, range(8)))
    statuses = sorted(r.status_code for r in responses)
    fresh = [r for r in responses if r.status_code == 201 and REPLAYED_HEADER not in r.headers]
    assert len(fresh) == 1, statuses
    assert set(statuses) <= {201, 409}
    assert pg_service.count() == 1
    final = post(pg_service, key="k-race")
    assert final.headers[REPLAYED_HEADER] == "true" and final.get_json() == fresh[0].get_json()


def test_init_takes_an_engine_or_a_session_factory(tmp_path: Path) -> None:
    made = build_notes_service(f"sqlite:///{tmp_path / 'e.db'}", tmp_path)
    try:
        other = Flask("other")
        assert init_idempotency(other, made.engine, made.keys).engine is made.engine
        with pytest.raises(TypeError):
            init_idempotency(Flask("third"), sa.orm.sessionmaker(), made.keys)
    finally:
        made.engine.dispose()


def test_the_migration_helper_matches_the_metadata_on_postgres(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            with Operations.context(context):
                create_idempotency_table()
            metadata = new_metadata()
            idempotency_table(metadata)
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()
