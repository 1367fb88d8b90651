"""The route table itself, and the nginx config generated from it (without running nginx)."""

from __future__ import annotations

import re

import pytest

from gateway import nginx
from gateway.routes import (
    LIMITED_PATHS,
    RATE_LIMITS,
    ROUTES,
    WEB,
    backend_services,
    database_name,
    is_docs_path,
    route_for,
)

# docs/service-conventions.md, "Ports and databases of the distributed mode".
CONVENTIONS = {
    "web": ("/", 8100, "bp_web"),
    "identity": ("/api/identity", 8101, "bp_identity"),
    "training-records": ("/api/training", 8102, "bp_training_records"),
    "exams": ("/api/exams", 8103, "bp_exams"),
    "documents": ("/api/documents", 8104, "bp_documents"),
    "notifications": ("/api/notifications", 8105, "bp_notifications"),
}


@pytest.fixture(scope="module")
def config() -> str:
    return nginx.render(nginx.local_options("/run/bp-test"))


def test_the_table_follows_the_service_conventions() -> None:
    for service, (prefix, port, database) in CONVENTIONS.items():
        routes = [route for route in ROUTES if route.service == service]
        assert prefix in [route.prefix for route in routes], service
        assert {route.port for route in routes} == {port}, service
        assert database_name(service) == database
    assert {route.prefix for route in ROUTES if route.service == "identity"} == {"/auth", "/api/identity"}
    assert set(backend_services()) == set(CONVENTIONS) - {"web"}


def test_prefixes_are_unique_and_ports_belong_to_one_service() -> None:
    prefixes = [route.prefix for route in ROUTES]
    assert len(prefixes) == len(set(prefixes))
    owners: dict[int, set[str]] = {}
    for route in ROUTES:
        owners.setdefault(route.port, set()).add(route.service)
    assert all(len(services) == 1 for services in owners.values())


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/auth", "identity"),
        ("/auth/login", "identity"),
        ("/api/identity/users", "identity"),
        ("/api/training/contracts/1", "training-records"),
        ("/api/trainings", "web"),
        ("/authority", "web"),
        ("/", "web"),
    ],
)
def test_route_for_takes_whole_path_segments(path: str, service: str) -> None:
    assert route_for(path).service == service


def test_docs_paths_are_the_api_pages_only() -> None:
    assert is_docs_path("/api/exams/docs")
    assert is_docs_path("/api/exams/docs-assets/swagger-ui.css")
    assert not is_docs_path("/docs")
    assert not is_docs_path("/auth/docs")


def test_every_route_has_its_locations_and_upstream(config: str) -> None:
    for route in ROUTES:
        assert f"upstream {route.upstream} {{" in config
        assert f"server 127.0.0.1:{route.port};" in config
        if route.strips_prefix:
            assert f"location {route.prefix}/ {{" in config
            assert f"location = {route.prefix} {{" in config
    assert "location / {" in config


def test_every_location_has_a_body_limit_and_the_security_headers(config: str) -> None:
    blocks = re.findall(r"location [^@][^{]*\{(.*?)\n        \}", config, re.DOTALL)
    proxied = [block for block in blocks if "proxy_pass" in block]
    assert len(proxied) >= len(ROUTES)
    for block in proxied:
        assert "client_max_body_size" in block
        assert "add_header X-Frame-Options" in block
        assert "add_header Content-Security-Policy" in block
        assert "proxy_set_header X-Request-ID $bp_request_id;" in block


def test_body_limits_come_from_the_table(config: str) -> None:
    for route in ROUTES:
        if route.strips_prefix:
            block = config.split(f"location {route.prefix}/ {{", 1)[1].split("}", 1)[0]
            assert f"client_max_body_size {route.body_limit};" in block


def test_credential_paths_are_rate_limited(config: str) -> None:
    public = []
    for limited in LIMITED_PATHS:
        for _route, path in limited.public_paths():
            public.append(path)
            block = config.split(f"location {path} {{", 1)[1].split("}", 1)[0]
            zone = RATE_LIMITS[limited.rate_class].zone
            assert f"limit_req zone={zone} " in block
    # identity's forms are limited under each prefix that reaches identity.
    assert {"/auth/login", "/api/identity/login", "/auth/activate", "/api/identity/activate"} <= set(public)
    assert "limit_req_status 429;" in config
    # The API routes carry no per-address limit (the BFF is one address for every user).
    api_block = config.split("location /api/training/ {", 1)[1].split("}", 1)[0]
    assert "limit_req" not in api_block


def test_local_mode_listens_on_loopback_and_compose_on_all(config: str) -> None:
    assert "listen 127.0.0.1:8080;" in config
    assert "listen 8080;" in nginx.render(nginx.compose_options())


def test_web_route_is_the_catch_all() -> None:
    assert WEB.prefix == "/"
    assert not WEB.strips_prefix
