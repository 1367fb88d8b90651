"""Generates the nginx configuration of the distributed mode from the route table.

``python -P -m gateway.nginx --mode local --runtime-dir DIR`` (or ``bp-portal
nginx-config``) prints the config for ``make run-distributed`` (services on
127.0.0.1); ``--mode compose`` prints the one committed as
gateway/nginx/nginx.conf (upstreams are compose services; ``make nginx-config``).

The config never relies on running as root: pid file, temp paths and logs live
in a runtime directory of the caller's choosing, and nginx runs in the
foreground (``daemon off``).
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.ratelimit import retry_after_seconds, too_many_page
from gateway.routes import (
    EDGE_OWNED_HEADERS,
    EDGE_PORT,
    INTERNAL_PATHS,
    LIMITED_PATHS,
    RATE_LIMITS,
    ROUTES,
    UPLOAD_PATHS,
    RateClass,
    RateLimit,
    Route,
    local_rate_limits,
    security_headers,
)

# The same rule the chassis applies to incoming request ids.
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
# identity's "Neues Passwort vergeben" link, /auth/password/reset/<one-time token>.
RESET_LINK_PATH = "/password/reset/"
REDACTED = "[redacted]"

CSP = "Content-Security-Policy"

# Edge errors answer as RFC 9457 problem+json, like the services do.
EDGE_PROBLEMS: dict[int, tuple[str, str]] = {
    404: ("Not Found", "No such resource."),
    413: ("Content Too Large", "The request body exceeds the limit for this path."),
    429: ("Too Many Requests", "Too many attempts from this address; please wait a minute."),
    502: ("Bad Gateway", "The service is not reachable right now."),
    503: ("Service Unavailable", "The service is not reachable right now."),
    504: ("Gateway Timeout", "The service did not answer in time."),
}


@dataclass(frozen=True)
class NginxOptions:
    # pid file and temp paths; nginx must be able to write here.
    runtime_dir: str
    listen_port: int = EDGE_PORT
    # Empty: every interface (compose publishes the port); local runs stay on loopback.
    listen_host: str = ""
    # Where the upstreams are: "127.0.0.1" (local) or the compose service name.
    upstream_hosts: Mapping[str, str] = field(default_factory=dict)
    default_upstream_host: str = "127.0.0.1"
    # Override a service's port (tests put stand-ins on free ports).
    ports: Mapping[str, int] = field(default_factory=dict)
    access_log: str = "/dev/stdout"
    error_log: str = "stderr"
    # Only meaningful when nginx starts as root: workers then run as this user
    # and must be able to write the runtime directory.
    user: str | None = None
    worker_processes: str = "auto"
    # The request limits (routes.RATE_LIMITS; a local benchmark run may set its own).
    rate_limits: Mapping[RateClass, RateLimit] = field(default_factory=lambda: dict(RATE_LIMITS))

    def host(self, route: Route) -> str:
        return self.upstream_hosts.get(route.service, self.default_upstream_host)

    def port(self, route: Route) -> int:
        return self.ports.get(route.service, route.port)


def local_options(runtime_dir: str, **overrides: object) -> NginxOptions:
    """Options for nginx on this host in front of services on 127.0.0.1."""
    user = getpass.getuser() if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    overrides.setdefault("listen_host", "127.0.0.1")
    overrides.setdefault("rate_limits", local_rate_limits(os.environ))
    return NginxOptions(runtime_dir, user=user, **overrides)  # type: ignore[arg-type]


def compose_options() -> NginxOptions:
    """Options for the compose file: upstreams are the compose services by name."""
    hosts = {route.service: route.service for route in ROUTES}
    # The official image's cache directory exists and its master chowns temp dirs for the workers.
    return NginxOptions("/var/cache/nginx", upstream_hosts=hosts)


def _problem_json(status: int) -> str:
    title, detail = EDGE_PROBLEMS[status]
    # nginx single-quoted string: the JSON has no single quotes.
    return f'{{"type":"about:blank","title":"{title}","status":{status},"detail":"{detail}"}}'


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def line(self, text: str = "") -> None:
        self.lines.append(("    " * self.depth + text) if text else "")

    def open(self, text: str) -> None:
        self.line(text + " {")
        self.depth += 1

    def close(self) -> None:
        self.depth -= 1
        self.line("}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _security_headers(w: _Writer, *, relaxed_for_docs: bool = False) -> None:
    # add_header in a location replaces the server's, so every location gets the full set;
    # "always" puts them on error responses (413, 429, 5xx) too.
    for name, value in security_headers(relaxed_for_docs=relaxed_for_docs).items():
        if name == CSP:
            # The edge's policy unless the app sent its own (an empty value adds no header).
            w.line(f"add_header {name} {'$bp_csp_docs' if relaxed_for_docs else '$bp_csp'} always;")
        else:
            w.line(f'add_header {name} "{value}" always;')
    w.line("add_header X-Request-ID $bp_request_id always;")


def _proxy(w: _Writer, route: Route, target_path: str) -> None:
    w.line(f"proxy_pass http://{route.upstream}{target_path};")
    w.line("proxy_http_version 1.1;")
    w.line('proxy_set_header Connection "";')
    w.line("proxy_set_header Host $bp_forwarded_host;")
    w.line("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
    w.line("proxy_set_header X-Forwarded-Proto $scheme;")
    w.line("proxy_set_header X-Forwarded-Host $bp_forwarded_host;")
    # An empty value drops the header: a client's own X-Forwarded-* never reaches the apps,
    # which trust them (BP_BEHIND_PROXY).
    w.line(f'proxy_set_header X-Forwarded-Prefix "{route.prefix if route.strips_prefix else ""}";')
    w.line('proxy_set_header X-Forwarded-Port "";')
    w.line("proxy_set_header X-Request-ID $bp_request_id;")
    w.line("proxy_hide_header X-Request-ID;")
    for header in EDGE_OWNED_HEADERS:
        w.line(f"proxy_hide_header {header};")


def _location(
    w: _Writer,
    match: str,
    route: Route,
    target_path: str,
    *,
    relaxed_for_docs: bool = False,
    rate_class: RateClass = RateClass.STANDARD,
    body_limit: str | None = None,
    rate_limits: Mapping[RateClass, RateLimit] = RATE_LIMITS,
) -> None:
    w.open(f"location {match}")
    w.line(f"client_max_body_size {body_limit or route.body_limit};")
    if rate_class is not RateClass.STANDARD:
        limit = rate_limits[rate_class]
        w.line(f"limit_req zone={limit.zone} burst={limit.burst} nodelay;")
        if not route.prefix.startswith("/api/"):
            # A person posted a form: the refusal is a German page (error_page here replaces
            # the server's, so every edge error is named again).
            for status in EDGE_PROBLEMS:
                w.line(f"error_page {status} {'@page_429' if status == 429 else f'@problem_{status}'};")
    _proxy(w, route, target_path)
    _security_headers(w, relaxed_for_docs=relaxed_for_docs)
    w.close()


def render(options: NginxOptions) -> str:
    w = _Writer()
    rt = options.runtime_dir.rstrip("/")
    w.line("# Generated by `python -m gateway.nginx` from gateway/gateway/routes.py; do not edit.")
    if options.user:
        w.line(f"user {options.user};")
    w.line(f"worker_processes {options.worker_processes};")
    w.line("daemon off;")
    w.line(f"pid {rt}/nginx.pid;")
    w.line(f"error_log {options.error_log} warn;")
    w.line()
    w.open("events")
    w.line("worker_connections 1024;")
    w.close()
    w.line()
    w.open("http")
    w.line(f"client_body_temp_path {rt}/client_body;")
    w.line(f"proxy_temp_path {rt}/proxy;")
    w.line(f"fastcgi_temp_path {rt}/fastcgi;")
    w.line(f"uwsgi_temp_path {rt}/uwsgi;")
    w.line(f"scgi_temp_path {rt}/scgi;")
    w.line()
    w.line("default_type application/octet-stream;")
    w.line("server_tokens off;")
    w.line("sendfile on;")
    w.line("tcp_nodelay on;")
    w.line("keepalive_timeout 65s;")
    w.line("keepalive_requests 10000;")
    w.line("# Slow clients: short header/body timeouts, and nginx buffers both ways so")
    w.line("# a slow client never holds a service worker.")
    w.line("client_header_timeout 15s;")
    w.line("client_body_timeout 30s;")
    w.line("send_timeout 30s;")
    w.line("client_body_buffer_size 128k;")
    w.line("proxy_request_buffering on;")
    w.line("proxy_buffering on;")
    w.line("proxy_buffer_size 16k;")
    w.line("proxy_buffers 32 16k;")
    w.line("proxy_busy_buffers_size 64k;")
    w.line("proxy_connect_timeout 5s;")
    w.line("proxy_read_timeout 60s;")
    w.line("proxy_send_timeout 60s;")
    w.line("proxy_next_upstream off;  # never replay a non-idempotent request")
    w.line()
    w.line("# A client's X-Request-ID is kept when it is well-formed, else nginx makes one.")
    w.open("map $http_x_request_id $bp_request_id")
    w.line(f'"~{REQUEST_ID_PATTERN}" $http_x_request_id;')
    w.line("default $request_id;")
    w.close()
    w.open("map $http_host $bp_forwarded_host")
    w.line('"" $host;')
    w.line("default $http_host;")
    w.close()
    w.line("# An app that sets its own Content-Security-Policy keeps it; the others get the edge's.")
    for variable, relaxed in (("$bp_csp", False), ("$bp_csp_docs", True)):
        w.open(f"map $upstream_http_content_security_policy {variable}")
        w.line(f'"" "{security_headers(relaxed_for_docs=relaxed)[CSP]}";')
        w.line('default "";')
        w.close()
    w.line("# Only form posts count against the credentials limit (an empty key is not limited).")
    w.open("map $request_method $bp_credentials_key")
    w.line("POST $binary_remote_addr;")
    w.line('default "";')
    w.close()
    for limit in options.rate_limits.values():
        w.line(f"limit_req_zone $bp_credentials_key zone={limit.zone}:10m rate={limit.rate};")
    w.line("limit_req_status 429;")
    w.line("limit_req_log_level warn;")
    w.line()
    w.line("# Password-reset links carry a one-time token in the path: keep it out of the access log.")
    w.open("map $request_uri $bp_logged_uri")
    w.line(f'"~^(?<bp_reset_path>[^?]*{RESET_LINK_PATH})" "${{bp_reset_path}}{REDACTED}";')
    w.line("default $request_uri;")
    w.close()
    w.line("log_format bp_json escape=json")
    w.line(
        '    \'{"time":"$time_iso8601","request_id":"$bp_request_id",'
        '"remote_addr":"$remote_addr","method":"$request_method","uri":"$bp_logged_uri",'
        '"status":$status,"bytes_sent":$body_bytes_sent,"request_time":$request_time,'
        '"upstream":"$upstream_addr","upstream_status":"$upstream_status",'
        '"upstream_time":"$upstream_response_time","user_agent":"$http_user_agent"}\';'
    )
    w.line(f"access_log {options.access_log} bp_json;")
    w.line()
    seen: set[str] = set()
    for route in ROUTES:
        if route.upstream in seen:
            continue
        seen.add(route.upstream)
        w.open(f"upstream {route.upstream}")
        w.line(f"server {options.host(route)}:{options.port(route)};")
        w.line("keepalive 32;")
        # Below gunicorn's keep-alive (2 s): nginx lets an idle upstream connection go before
        # gunicorn closes it, so no request is sent on a connection being closed (a 502 for a POST).
        w.line("keepalive_timeout 1s;")
        w.close()
    w.line()
    w.open("server")
    listen = (
        f"{options.listen_host}:{options.listen_port}" if options.listen_host else str(options.listen_port)
    )
    w.line(f"listen {listen};")
    w.line("server_name _;")
    for status in EDGE_PROBLEMS:
        w.line(f"error_page {status} @problem_{status};")
    w.line()
    for route in ROUTES:
        if not route.strips_prefix:
            continue
        # /api/training/x -> /x; the bare prefix -> /.
        _location(w, f"= {route.prefix}", route, "/")
        _location(w, f"{route.prefix}/", route, "/")
        if route.has_api_docs:
            _location(w, f"{route.prefix}/docs", route, "/docs", relaxed_for_docs=True)
    for limited in LIMITED_PATHS:
        for route, public_path in limited.public_paths():
            _location(
                w,
                public_path,
                route,
                limited.path,
                rate_class=limited.rate_class,
                rate_limits=options.rate_limits,
            )
    for upload in UPLOAD_PATHS:
        for route, public_path, target_path in upload.public_paths():
            _location(w, f"= {public_path}", route, target_path, body_limit=upload.body_limit)
    internal = "|".join(re.escape(path.lstrip("/")) for path in INTERNAL_PATHS)
    prefixes = "|".join(re.escape(route.prefix.lstrip("/")) for route in ROUTES if route.strips_prefix)
    w.open(f'location ~ "^/({prefixes})/({internal})$"')
    w.line("return 404;")  # answered by @problem_404, with the security headers
    w.close()
    web = next(route for route in ROUTES if not route.strips_prefix)
    _location(w, "/", web, "")
    w.line()
    retry_after = retry_after_seconds(options.rate_limits[RateClass.CREDENTIALS])
    for status in EDGE_PROBLEMS:
        w.open(f"location @problem_{status}")
        w.line("default_type application/problem+json;")
        _security_headers(w)
        if status == 429:
            w.line(f"add_header Retry-After {retry_after} always;")
        w.line(f"return {status} '{_problem_json(status)}';")
        w.close()
    w.open("location @page_429")
    w.line('default_type "text/html; charset=utf-8";')
    _security_headers(w)
    w.line(f"add_header Retry-After {retry_after} always;")
    w.line('add_header Cache-Control "no-store" always;')
    # nginx single-quoted string: the page has no single quotes.
    w.line(f"return 429 '{too_many_page(retry_after).decode()}';")
    w.close()
    w.close()
    w.close()
    return w.text()


def prepare_runtime_dir(runtime_dir: str) -> None:
    """Create the pid/temp directory nginx needs (world-traversable for its workers)."""
    os.makedirs(runtime_dir, exist_ok=True)
    os.chmod(runtime_dir, 0o755)  # noqa: S103 - nginx workers may run as another user


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=("local", "compose"), default="local")
    parser.add_argument("--runtime-dir", default="var/nginx")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", EDGE_PORT)))
    args = parser.parse_args(argv)
    if args.mode == "compose":
        options = compose_options()
    else:
        options = local_options(str(Path(args.runtime_dir).resolve()), listen_port=args.port)
    sys.stdout.write(render(options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
