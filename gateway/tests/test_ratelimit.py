"""The credentials rate limit in the embedded mode: the route table's paths and numbers, nginx's
algorithm (limit_req, burst, nodelay), 429 with Retry-After as a German page or problem+json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import Client

from gateway import embedded, nginx
from gateway.ratelimit import LeakyBucket, per_second, retry_after_seconds
from gateway.routes import (
    BENCH_CREDENTIALS_BURST,
    BENCH_CREDENTIALS_RATE,
    LIMITED_PATHS,
    RATE_LIMITS,
    ROUTES,
    RateClass,
    RateLimit,
    local_rate_limits,
)

CREDENTIALS = RATE_LIMITS[RateClass.CREDENTIALS]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_allows_burst_plus_one_then_one_per_interval() -> None:
    clock = Clock()
    bucket = LeakyBucket(RateLimit(zone="z", rate="10r/m", burst=5), clock=clock)
    assert [bucket.take("a") for _ in range(6)] == [0.0] * 6
    wait = bucket.take("a")
    assert wait == pytest.approx(6.0)
    assert bucket.take("b") == 0.0  # another address has its own bucket
    clock.now += 5.9
    assert bucket.take("a") > 0  # refused requests are not counted, but the interval has not passed
    clock.now += 0.2
    assert bucket.take("a") == 0.0
    assert bucket.take("a") > 0
    clock.now += 60
    # Drained: burst requests at once again (a new address's first request counts nothing, as in nginx).
    assert [bucket.take("a") for _ in range(5)] == [0.0] * 5
    assert bucket.take("a") > 0


def test_rates_in_nginx_syntax() -> None:
    assert per_second("10r/m") == pytest.approx(1 / 6)
    assert per_second("50r/s") == 50
    assert retry_after_seconds(CREDENTIALS) == 6
    with pytest.raises(ValueError):
        per_second("10/m")


@pytest.fixture
def edge(echo_app: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.delenv(BENCH_CREDENTIALS_RATE, raising=False)
    monkeypatch.delenv(BENCH_CREDENTIALS_BURST, raising=False)
    apps = {route.service: echo_app(route.service) for route in ROUTES}
    return Client(embedded.build_dispatcher(apps))


def _post(edge: Client, path: str, address: str = "192.0.2.10") -> Any:
    return edge.post(path, data={"login": "u", "password": "p"}, environ_base={"REMOTE_ADDR": address})


def test_embedded_login_posts_are_limited_but_page_views_are_not(edge: Client) -> None:
    assert [edge.get("/auth/login").status_code for _ in range(20)] == [200] * 20
    statuses = [_post(edge, "/auth/login").status_code for _ in range(CREDENTIALS.burst + 1)]
    assert statuses == [200] * (CREDENTIALS.burst + 1)
    refused = _post(edge, "/auth/login")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "6"
    assert refused.headers["Content-Type"].startswith("text/html")
    page = refused.get_data(as_text=True)
    assert '<html lang="de">' in page and "Zu viele Versuche" in page
    # The edge's security headers are on the refusal too.
    assert refused.headers["X-Content-Type-Options"] == "nosniff"


def test_every_credential_form_shares_one_zone_and_the_api_gets_problem_json(edge: Client) -> None:
    for _ in range(CREDENTIALS.burst + 1):
        assert _post(edge, "/auth/password/forgotten").status_code == 200
    for path in ("/auth/login", "/auth/activate", "/auth/password/reset/abc", "/auth/register"):
        assert _post(edge, path).status_code == 429, path
    api = _post(edge, "/api/identity/login")
    assert api.status_code == 429
    assert api.headers["Content-Type"] == "application/problem+json"
    assert api.json["status"] == 429 and api.headers["Retry-After"] == "6"
    # Another client address is not affected; other paths and the APIs are not limited.
    assert _post(edge, "/auth/login", address="192.0.2.11").status_code == 200
    assert [_post(edge, "/api/exams/registrations").status_code for _ in range(30)] == [200] * 30
    assert _post(edge, "/auth//login").status_code == 429  # folded slashes do not slip past


def test_both_modes_take_the_same_numbers_from_the_route_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BENCH_CREDENTIALS_RATE, raising=False)
    monkeypatch.delenv(BENCH_CREDENTIALS_BURST, raising=False)
    for options in (nginx.local_options("/tmp/x"), nginx.compose_options()):
        config = nginx.render(options)
        assert f"zone={CREDENTIALS.zone}:10m rate={CREDENTIALS.rate};" in config
        assert f"limit_req zone={CREDENTIALS.zone} burst={CREDENTIALS.burst} nodelay;" in config
        assert "add_header Retry-After 6 always;" in config
        for limited in LIMITED_PATHS:
            for _route, public_path in limited.public_paths():
                assert f"location {public_path} {{" in config
    limiter = embedded.build_dispatcher({route.service: _ok for route in ROUTES})
    limits = {bucket.rate for bucket in _limiter(limiter).buckets.values()}
    assert limits == {per_second(CREDENTIALS.rate)}


def test_a_bench_run_sets_its_own_rate_for_both_modes_but_compose_never(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(BENCH_CREDENTIALS_RATE, "500r/s")
    monkeypatch.setenv(BENCH_CREDENTIALS_BURST, "1000")
    assert local_rate_limits({BENCH_CREDENTIALS_RATE: "500r/s"})[RateClass.CREDENTIALS].rate == "500r/s"
    assert "rate=500r/s;" in nginx.render(nginx.local_options("/tmp/x"))
    assert f"rate={CREDENTIALS.rate};" in nginx.render(nginx.compose_options())
    limiter = _limiter(embedded.build_dispatcher({route.service: _ok for route in ROUTES}))
    assert {bucket.rate for bucket in limiter.buckets.values()} == {500.0}
    with pytest.raises(ValueError):
        local_rate_limits({BENCH_CREDENTIALS_RATE: "fast"})


def _ok(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def _limiter(app: Any) -> Any:
    from gateway.ratelimit import CredentialRateLimit

    while not isinstance(app, CredentialRateLimit):
        app = app.app
    return app
