"""The server-side session store and token sets, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask, session
from sqlalchemy import Engine, func, select

from gateway.web.oidc import TokenRefreshFailed
from gateway.web.sessions import SqlSessionInterface
from gateway.web.store import create_schema, create_store_engine, sessions
from gateway.web.tokens import TokenSet, TokenStore


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'web.db'}"
    else:
        url = request.getfixturevalue("make_database")("web")
    engine = create_store_engine(url)
    create_schema(engine)
    yield engine
    engine.dispose()


def token_set(expires_in: float) -> TokenSet:
    return TokenSet(
        id="set-1",
        subject="user-1",
        access_token="a-1",
        refresh_token="r-1",
        id_token="id-1",
        expires_at=time.time() + expires_in,
        claims={"sub": "user-1", "roles": ["apprentice"]},
    )


def rotating_refresher(calls: list[str], delay: float = 0.0) -> Callable[[TokenSet], TokenSet]:
    def refresh(current: TokenSet) -> TokenSet:
        calls.append(current.refresh_token or "")
        time.sleep(delay)
        n = len(calls) + 1
        return replace(current, access_token=f"a-{n}", refresh_token=f"r-{n}", expires_at=time.time() + 300)

    return refresh


def test_a_valid_access_token_is_used_as_is(engine: Engine) -> None:
    store = TokenStore(engine)
    store.save(token_set(expires_in=300))
    calls: list[str] = []
    assert store.fresh("set-1", rotating_refresher(calls)).access_token == "a-1"
    assert calls == []


def test_an_expiring_token_is_refreshed_and_the_rotated_refresh_token_kept(engine: Engine) -> None:
    store = TokenStore(engine)
    store.save(token_set(expires_in=10))  # inside the refresh margin
    calls: list[str] = []
    renewed = store.fresh("set-1", rotating_refresher(calls))
    assert calls == ["r-1"]
    assert (renewed.access_token, renewed.refresh_token) == ("a-2", "r-2")
    stored = store.get("set-1")
    assert stored is not None and stored.refresh_token == "r-2" and not stored.expiring()


def test_concurrent_requests_refresh_once(engine: Engine) -> None:
    store = TokenStore(engine)
    store.save(token_set(expires_in=-5))
    calls: list[str] = []
    refresher = rotating_refresher(calls, delay=0.2)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.fresh("set-1", refresher).access_token))
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One refresh with the old token; the others read its result instead of
    # spending the (already rotated) refresh token again.
    assert calls == ["r-1"]
    assert results == ["a-2"] * 5


def test_a_rejected_refresh_leaves_the_stored_set_unchanged(engine: Engine) -> None:
    store = TokenStore(engine)
    store.save(token_set(expires_in=-5))

    def reject(_current: TokenSet) -> TokenSet:
        raise TokenRefreshFailed("invalid_grant")

    with pytest.raises(TokenRefreshFailed):
        store.fresh("set-1", reject)
    stored = store.get("set-1")
    assert stored is not None and stored.refresh_token == "r-1"


def test_stale_token_sets_are_deleted(engine: Engine) -> None:
    store = TokenStore(engine)
    store.save(token_set(expires_in=300))
    store.delete_stale(timedelta(hours=12))
    assert store.get("set-1") is not None
    store.delete_stale(timedelta(seconds=-1))
    assert store.get("set-1") is None


def session_app(engine: Engine, lifetime: timedelta = timedelta(minutes=30)) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", PERMANENT_SESSION_LIFETIME=lifetime, SESSION_COOKIE_NAME="bp_session")
    app.session_interface = SqlSessionInterface(app, engine)

    @app.get("/set/<value>")
    def set_value(value: str) -> str:
        session["value"] = value
        return "ok"

    @app.get("/get")
    def get_value() -> str:
        return str(session.get("value"))

    @app.get("/rotate")
    def rotate() -> str:
        app.session_interface.regenerate(session)  # type: ignore[attr-defined]
        return "ok"

    @app.get("/login/<value>")
    def login_like_the_callback(value: str) -> str:
        # As at the OIDC callback: authlib pops its one state entry, then the login rotates the id.
        session.pop("value", None)
        app.session_interface.regenerate(session)  # type: ignore[attr-defined]
        session["user"] = value
        return "ok"

    @app.get("/user")
    def get_user() -> str:
        return str(session.get("user"))

    return app


def test_sessions_live_on_the_server_and_the_cookie_holds_only_an_id(engine: Engine) -> None:
    client = session_app(engine).test_client()
    client.get("/set/geheim")
    cookie = client.get_cookie("bp_session")
    assert cookie is not None and "geheim" not in cookie.value
    assert client.get("/get").text == "geheim"
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(sessions)).scalar_one() == 1


def test_rotation_gives_a_new_id_and_forgets_the_old_one(engine: Engine) -> None:
    app = session_app(engine)
    client = app.test_client()
    client.get("/set/wert")
    old = client.get_cookie("bp_session").value  # type: ignore[union-attr]
    client.get("/rotate")
    new = client.get_cookie("bp_session").value  # type: ignore[union-attr]
    assert new != old
    assert client.get("/get").text == "wert"
    attacker = app.test_client()
    attacker.set_cookie("bp_session", old)
    assert attacker.get("/get").text == "None"


def test_rotation_also_happens_when_the_session_was_emptied_before(engine: Engine) -> None:
    """Session fixation: an id taken before login must not carry the login afterwards."""
    app = session_app(engine)
    victim = app.test_client()
    victim.get("/set/state")  # the session before login holds only the login's state
    planted = victim.get_cookie("bp_session").value  # type: ignore[union-attr]
    victim.get("/login/lena")
    assert victim.get_cookie("bp_session").value != planted  # type: ignore[union-attr]
    assert victim.get("/user").text == "lena"
    attacker = app.test_client()
    attacker.set_cookie("bp_session", planted)
    assert attacker.get("/user").text == "None"
    with engine.connect() as connection:
        stored = connection.execute(select(sessions.c.store_id)).scalars().all()
    assert stored == ["web:" + victim.get_cookie("bp_session").value]  # type: ignore[union-attr]


def test_expired_sessions_are_not_loaded_and_get_cleaned_up(engine: Engine) -> None:
    app = session_app(engine, lifetime=timedelta(seconds=-1))
    client = app.test_client()
    client.get("/set/alt")
    assert client.get("/get").text == "None"
    app.session_interface._delete_expired_sessions()  # type: ignore[attr-defined]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(sessions)).scalar_one() == 0
