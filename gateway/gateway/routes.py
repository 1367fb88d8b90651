"""The one route table of the edge (DESIGN §2 rule 6).

Both run modes are generated from it: the nginx configuration of the
distributed mode (``gateway.nginx``) and the WSGI dispatcher of the embedded
mode (``gateway.embedded``). Ports and database names follow
docs/service-conventions.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class RateClass(StrEnum):
    """How the edge limits the request rate of a route.

    ``STANDARD`` routes carry no per-client request limit: the browser UI calls
    the APIs server-side, so every user shares one client address, and a
    per-address limit would throttle them all. The services authenticate every
    call themselves. ``CREDENTIALS`` limits form posts per client address, for
    the paths where passwords and activation codes can be guessed.
    """

    STANDARD = "standard"
    CREDENTIALS = "credentials"


@dataclass(frozen=True)
class Route:
    prefix: str  # the public path prefix; stripped before the request reaches the service
    service: str  # the service's name (settings, env prefix, compose service)
    package: str  # the Python package with bootstrap() and entrypoints.app:create_app()
    port: int  # where the service listens in distributed mode
    rate_class: RateClass = RateClass.STANDARD
    body_limit: str = "2m"  # nginx size syntax; services also cap bodies (chassis: 2 MiB)

    @property
    def strips_prefix(self) -> bool:
        return self.prefix != "/"

    @property
    def upstream(self) -> str:
        return "bp_" + self.service.replace("-", "_")

    @property
    def has_api_docs(self) -> bool:
        return self.prefix.startswith("/api/")


@dataclass(frozen=True)
class LimitedPath:
    """A path of a service whose form posts are rate-limited, under every prefix it is mounted at."""

    service: str
    path: str  # relative to the service's root, e.g. "/login"
    rate_class: RateClass = RateClass.CREDENTIALS

    def public_paths(self) -> list[tuple[Route, str]]:
        """(route, public path) for each prefix that reaches the service."""
        return [
            (route, route.prefix + self.path if route.strips_prefix else self.path)
            for route in ROUTES
            if route.service == self.service
        ]


@dataclass(frozen=True)
class RateLimit:
    zone: str
    rate: str
    burst: int


WEB = Route("/", "web", "gateway.web", 8100)

ROUTES: tuple[Route, ...] = (
    # identity serves its OIDC endpoints and login pages under /auth (the issuer
    # is <public>/auth) and its REST API under /api/identity.
    Route("/auth", "identity", "identity", 8101),
    Route("/api/identity", "identity", "identity", 8101),
    Route("/api/training", "training-records", "training_records", 8102),
    Route("/api/exams", "exams", "exams", 8103),
    # Documents accepts uploads (the chamber's import, attachments); larger bodies.
    Route("/api/documents", "documents", "documents", 8104, body_limit="10m"),
    Route("/api/notifications", "notifications", "notifications", 8105),
    WEB,
)

# Login, password reset, account activation and self-registration: where guessing (or mass
# registration) would pay off. identity is
# mounted at /auth and /api/identity, so each is limited under both prefixes.
LIMITED_PATHS: tuple[LimitedPath, ...] = (
    LimitedPath("identity", "/login"),
    LimitedPath("identity", "/activate"),
    LimitedPath("identity", "/password"),
    # Zugangsdaten erneut anfordern (public form) and Zugang einrichten (invitation links):
    # where numbers and links could be probed.
    LimitedPath("identity", "/access-data"),
    LimitedPath("identity", "/invitation"),
    # Zugang freischalten (access-letter codes) is limited at the portal's form, per browser: the
    # portal calls identity's API (/api/identity/access-codes) from one address for everybody, so a
    # limit there would let one person use up everyone's attempts. The API needs a login, and the
    # codes' 59 random bits make guessing them hopeless anyway.
    LimitedPath("web", "/zugang-freischalten"),
    # Self-registration: a form that creates accounts (and can probe for existing ones).
    LimitedPath("identity", "/register"),
)


@dataclass(frozen=True)
class UploadPath:
    """A path of a service that takes larger bodies than its route (exact match, every prefix)."""

    service: str
    path: str
    body_limit: str

    def public_paths(self) -> list[tuple[Route, str, str]]:
        """(route, public path, path at the service) for each route that reaches the service."""
        return [
            (route, route.prefix + self.path, self.path) if route.strips_prefix else (route, self.path, "")
            for route in ROUTES
            if route.service == self.service
        ]


# The chamber's data import takes whole registers (64 MiB): the UI's upload form and the service's
# endpoint, which each allow the size on this path only.
UPLOAD_PATHS: tuple[UploadPath, ...] = (
    UploadPath("web", "/datenuebermittlung", "65m"),
    UploadPath("training-records", "/imports", "65m"),
)

# Operational endpoints are for operators and probes on the services' own ports,
# not for the public: the edge answers 404 for them under every prefix.
INTERNAL_PATHS: tuple[str, ...] = ("/metrics", "/readyz")

# Both run modes apply these numbers: nginx's limit_req (gateway.nginx) and the embedded
# mode's middleware (gateway.ratelimit).
RATE_LIMITS: dict[RateClass, RateLimit] = {
    RateClass.CREDENTIALS: RateLimit(zone="bp_credentials", rate="10r/m", burst=5),
}

# For benchmarks on one machine only (every client there has the address 127.0.0.1): the
# credentials rate and burst of a local run (``python -m gateway.distributed``, the embedded
# mode). The compose configuration, the production one, never reads them.
BENCH_CREDENTIALS_RATE = "BP_BENCH_CREDENTIALS_RATE"
BENCH_CREDENTIALS_BURST = "BP_BENCH_CREDENTIALS_BURST"


def local_rate_limits(env: Mapping[str, str]) -> dict[RateClass, RateLimit]:
    """``RATE_LIMITS``, or for a benchmark run the credentials limit it sets."""
    rate, burst = env.get(BENCH_CREDENTIALS_RATE, "").strip(), env.get(BENCH_CREDENTIALS_BURST, "").strip()
    if not rate and not burst:
        return dict(RATE_LIMITS)
    default = RATE_LIMITS[RateClass.CREDENTIALS]
    if rate and not re.fullmatch(r"[1-9]\d*r/[sm]", rate):
        raise ValueError(f"{BENCH_CREDENTIALS_RATE}: an nginx rate such as 50r/s, not {rate!r}")
    return {
        **RATE_LIMITS,
        RateClass.CREDENTIALS: RateLimit(
            zone=default.zone, rate=rate or default.rate, burst=int(burst) if burst else default.burst
        ),
    }


EDGE_PORT = 8080


def services() -> dict[str, Route]:
    """One route per service (the first one wins for services mounted twice)."""
    found: dict[str, Route] = {}
    for route in ROUTES:
        found.setdefault(route.service, route)
    return found


def backend_services() -> dict[str, Route]:
    """The five backend services, without the browser UI."""
    return {name: route for name, route in services().items() if route is not WEB}


def database_name(service: str, prefix: str = "bp_") -> str:
    """``training-records`` -> ``bp_training_records``."""
    return prefix + service.replace("-", "_")


def route_for(path: str) -> Route:
    """The route a request path belongs to: the longest matching prefix."""
    matches = [
        route
        for route in ROUTES
        if route.strips_prefix and (path == route.prefix or path.startswith(route.prefix + "/"))
    ]
    return max(matches, key=lambda route: len(route.prefix), default=WEB)


def is_docs_path(path: str) -> bool:
    """The browsable API page of a service (and its assets): ``/api/<service>/docs…``."""
    route = route_for(path)
    return route.has_api_docs and path.startswith(route.prefix + "/docs")


# Headers the edge owns: the apps' own copies are dropped so none appears twice.
EDGE_OWNED_HEADERS = (
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Permissions-Policy",
    "Cross-Origin-Opener-Policy",
)


def security_headers(*, relaxed_for_docs: bool = False) -> dict[str, str]:
    """The security headers the edge adds to every response.

    The pages are server-rendered without inline scripts or styles, so the CSP
    allows only same-origin resources. The API's Swagger page (flask-smorest)
    bootstraps itself with inline script and style, so it alone gets a relaxed
    policy.
    """
    inline = " 'unsafe-inline'" if relaxed_for_docs else ""
    csp = "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self'{inline}",
            f"style-src 'self'{inline}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
