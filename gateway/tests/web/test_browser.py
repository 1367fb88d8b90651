"""The UI in Debian's Chromium against stand-ins for identity (OIDC) and the services' APIs.

identity & co. are built in parallel, so this test brings small but real HTTP
stand-ins: an OIDC provider that checks client credentials, PKCE (S256), the
redirect URI and one-time codes and rotates refresh tokens, and APIs that
validate the access tokens it signs. Every page is checked with axe-core at
desktop and phone (375 px) width.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask, Response, abort, jsonify, redirect, request
from joserfc import jwt
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from chassis.testing.browser import launch_chromium
from chassis.testing.tokens import TestIssuer
from gateway.web.app import create_app
from gateway.web.config import WebSettings
from gateway.web.store import migrate, sessions

CLIENT_ID = "portal-web"
CLIENT_SECRET = "browser-test-secret"
PDF = b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

USERS: dict[str, dict[str, Any]] = {
    "clerk": {"name": "Sabine Schreiber", "roles": ["chamber_clerk"], "company_roles": {}},
    "company_admin": {"name": "Markus Muster", "roles": [], "company_roles": {"4711001": ["admin"]}},
    "apprentice": {
        "name": "Lena Lernwillig",
        "roles": ["apprentice"],
        "company_roles": {},
        "apprentice_number": "20260001",
    },
    # The other demo logins (shared/chassis/demo.py) and a role without pages of its own yet.
    "trainer": {"name": "Anna Ausbilder", "roles": [], "company_roles": {"4711001": ["trainer"]}},
    "examiner": {"name": "Peter Prüfer", "roles": ["examiner"], "company_roles": {}},
    "chamber_admin": {"name": "Karl Kammer", "roles": ["chamber_admin"], "company_roles": {}},
}


# -- servers -----------------------------------------------------------------------------------


class _Late:
    """A WSGI app set after the server is bound (apps need their own URL)."""

    app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class Server:
    server: BaseWSGIServer
    holder: _Late
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def serve(self, app: Callable[..., Any]) -> None:
        self.holder.app = app
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bind() -> Server:
    holder = _Late()
    return Server(make_server("127.0.0.1", 0, holder, threaded=True), holder)


# -- the stand-in OIDC provider --------------------------------------------------------------------


@dataclass
class StandInProvider:
    issuer: str
    public_url: str
    signer: TestIssuer = field(init=False)
    login_as: str = "apprentice"
    access_lifetime: int = 300
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    grants: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    logouts: list[dict[str, str]] = field(default_factory=list)
    # Company roles granted since login (Zugang freischalten), as identity would add them.
    granted: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.signer = TestIssuer(issuer=self.issuer)

    def claims(self, subject: str) -> dict[str, Any]:
        claims = {"sub": subject, "email": f"{subject}@example.test", **USERS[subject]}
        claims["company_roles"] = {**claims["company_roles"], **self.granted.get(subject, {})}
        return claims

    def tokens(self, subject: str, nonce: str | None) -> dict[str, Any]:
        claims = self.claims(subject)
        refresh_token = secrets.token_urlsafe(24)
        self.refresh_tokens[refresh_token] = {"subject": subject, "active": True}
        now = int(time.time())
        id_claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, **claims}
        if nonce:
            id_claims["nonce"] = nonce
        id_token = jwt.encode({"alg": "RS256", "kid": self.signer.key.kid}, id_claims, self.signer.key)
        access = self.signer.token(
            subject, lifetime=self.access_lifetime, **{k: v for k, v in claims.items() if k != "sub"}
        )
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.access_lifetime,
            "refresh_token": refresh_token,
            "id_token": id_token,
            "scope": "openid profile email",
        }

    def app(self) -> Flask:
        app = Flask("standin-identity")
        redirect_uri = f"{self.public_url}/oidc/callback"

        def client_authenticated() -> bool:
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            return request.headers.get("Authorization") == f"Basic {expected}"

        @app.get("/auth/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify(
                issuer=self.issuer,
                authorization_endpoint=f"{self.issuer}/authorize",
                token_endpoint=f"{self.issuer}/token",
                revocation_endpoint=f"{self.issuer}/revoke",
                end_session_endpoint=f"{self.issuer}/logout",
                jwks_uri=f"{self.issuer}/jwks",
                userinfo_endpoint=f"{self.issuer}/userinfo",
                response_types_supported=["code"],
                code_challenge_methods_supported=["S256"],
                id_token_signing_alg_values_supported=["RS256"],
                token_endpoint_auth_methods_supported=["client_secret_basic"],
            )

        @app.get("/auth/userinfo")
        def userinfo() -> Response:
            header = request.headers.get("Authorization", "")
            try:
                subject = self.signer.validator().validate(header.removeprefix("Bearer ")).subject
            except Exception:  # noqa: BLE001 - any invalid token is a 401 here
                abort(401)
            return jsonify(self.claims(subject))

        @app.get("/auth/jwks")
        def jwks() -> Response:
            return jsonify(keys=[self.signer.key.as_dict(private=False)])

        @app.get("/auth/authorize")
        def authorize() -> Response:
            args = request.args
            if (
                args.get("client_id") != CLIENT_ID
                or args.get("redirect_uri") != redirect_uri
                or args.get("response_type") != "code"
                or args.get("code_challenge_method") != "S256"
                or not args.get("code_challenge")
                or not args.get("state")
                or not args.get("nonce")
                or "openid" not in args.get("scope", "").split()
            ):
                abort(400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "subject": self.login_as,
                "challenge": args["code_challenge"],
                "nonce": args["nonce"],
                "redirect_uri": args["redirect_uri"],
            }
            return redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': args['state']})}")

        @app.post("/auth/token")
        def token() -> Response | tuple[Response, int]:
            if not client_authenticated():
                return jsonify(error="invalid_client"), 401
            form = request.form
            self.grants.append(form.get("grant_type", ""))
            if form.get("grant_type") == "authorization_code":
                grant = self.codes.pop(form.get("code", ""), None)  # one use only
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
                if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
                    return jsonify(error="invalid_grant"), 400
                if challenge.decode() != grant["challenge"]:
                    return jsonify(error="invalid_grant", error_description="PKCE"), 400
                return jsonify(self.tokens(grant["subject"], grant["nonce"]))
            if form.get("grant_type") == "refresh_token":
                held = self.refresh_tokens.get(form.get("refresh_token", ""))
                if held is None or not held["active"]:
                    return jsonify(error="invalid_grant"), 400
                held["active"] = False  # rotation: a refresh token works once
                return jsonify(self.tokens(held["subject"], None))
            return jsonify(error="unsupported_grant_type"), 400

        @app.post("/auth/revoke")
        def revoke() -> tuple[str, int]:
            if not client_authenticated():
                return "", 401
            token = request.form.get("token", "")
            self.revoked.append(token)
            if token in self.refresh_tokens:
                self.refresh_tokens[token]["active"] = False
            return "", 200

        @app.get("/auth/logout")
        def logout() -> Response:
            self.logouts.append(dict(request.args))
            target = request.args.get("post_logout_redirect_uri", "")
            if not target.startswith(self.public_url):
                abort(400)
            return redirect(target)

        return app


# -- the stand-in APIs -------------------------------------------------------------------------


def _contract(
    number: str,
    first: str,
    last: str,
    *,
    apprentice_number: str | None,
    account: str,
    apprentice_opened: str | None = None,
    registered_on: str = "2026-11-24",
    occupation: tuple[str, str] = ("78100", "Industriekaufmann/Industriekauffrau"),
    company: tuple[str, str] = ("4711001", "Muster Maschinenbau GmbH"),
    state: str = "registered",
    trainer: dict[str, str] | None = None,
    terms: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "contract_number": number,
        "state": state,
        "registered_on": registered_on,
        "start_date": "2026-08-01",
        "end_date": "2029-07-31",
        "occupation": {"code": occupation[0], "title": occupation[1]},
        "company": {"company_number": company[0], "name": company[1]},
        "apprentice": {
            "first_name": first,
            "last_name": last,
            "birth_date": "2008-05-17",
            "email": f"{first.lower()}@example.test",
            "apprentice_number": apprentice_number,
            "account_state": account,
            "account_activated_at": None,
        },
        "confirmation_opened_at": {"company": None, "apprentice": apprentice_opened},
        "terms": terms
        or {"specialism": None, "probation_months": 4, "part_time": False, "shortened_by_months": 0},
        "trainer": trainer,
        "interrupted_since": None,
        "ended_on": "2029-06-30" if state in ("completed", "terminated") else None,
        "termination_reason": "mutual" if state == "terminated" else None,
        "head_office_number": None,
    }


OCCUPATIONS = [
    {"code": "78100", "title": "Industriekaufmann/Industriekauffrau", "specialisms": []},
    {"code": "25400", "title": "Industriemechaniker/-in", "specialisms": []},
    {"code": "26200", "title": "Mechatroniker/-in", "specialisms": []},
    {"code": "13100", "title": "Fachinformatiker/-in Anwendungsentwicklung", "specialisms": []},
    {"code": "68400", "title": "Kaufmann/Kauffrau für Büromanagement", "specialisms": []},
    {
        "code": "fk-gastronomie",
        "title": "Fachkraft für Gastronomie",
        "specialisms": ["Restaurantservice", "Systemgastronomie"],
    },
    # Not 27400 (Elektroniker/-in für Betriebstechnik): the sample file's rows for it fail, as unknown.
]
SAMPLE_FILE = Path(__file__).parents[2] / "gateway" / "web" / "static" / "datenuebermittlung-muster.csv"
# How fast the stand-in importer works through a file: slow enough to watch the bar move.
IMPORT_ROWS_PER_SECOND = 2.5


def _problem(*errors: tuple[str, str]) -> tuple[Response, int]:
    body = {
        "type": "https://bildungsportal.example/problems/validation-error",
        "title": "Validation failed",
        "status": 422,
        "errors": [{"pointer": pointer, "detail": detail} for pointer, detail in errors],
    }
    return jsonify(body), 422


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass
class StandInImport:
    """An upload the stand-in imports "in the background": rows done grow with the time since it."""

    id: str
    filename: str
    uploaded_at: datetime
    rows: list[dict[str, str]]
    errors: list[dict[str, Any]]

    def progress(self) -> dict[str, Any]:
        elapsed = (datetime.now(UTC) - self.uploaded_at).total_seconds()
        total = len(self.rows)
        done = max(0, min(total, int((elapsed - 0.5) * IMPORT_ROWS_PER_SECOND)))
        status = "queued" if elapsed < 0.5 else ("running" if done < total else "succeeded")
        failed_lines = {e["line"] for e in self.errors}
        lines_done = {row_line for row_line in range(2, 2 + done)}
        errors = len(failed_lines & lines_done)
        pace = elapsed / done if done else None
        return {
            "job": {
                "id": self.id,
                "filename": self.filename,
                "uploaded_at": self.uploaded_at.isoformat(),
                "status": status,
                "total_rows": total if status != "queued" else 0,
                "done_rows": done,
                "error_count": errors,
                "created_count": done - errors if status == "succeeded" else 0,
                "updated_count": 0,
                "unchanged_count": 0,
                "started_at": self.uploaded_at.isoformat() if status != "queued" else None,
                "finished_at": datetime.now(UTC).isoformat() if status == "succeeded" else None,
                "failure": None,
                "failure_detail": None,
            },
            "percent": done * 100 // total if total else 0,
            "seconds_left": pace * (total - done) if pace and status == "running" else None,
        }

    def errors_so_far(self) -> list[dict[str, Any]]:
        done = self.progress()["job"]["done_rows"]
        return [e for e in self.errors if e["line"] < 2 + done]


@dataclass
class StandInApis:
    validator: Any
    contracts: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    tokens_seen: list[str] = field(default_factory=list)
    idempotency_keys: list[str] = field(default_factory=list)
    trainers: list[dict[str, Any]] = field(default_factory=list)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    atlas: dict[str, dict[str, Any]] = field(default_factory=dict)
    imports: list[StandInImport] = field(default_factory=list)
    # identity's chamber API: one locked account (by login) and the audit log.
    account_locks: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    invitations: list[tuple[str, str]] = field(default_factory=list)
    access_requests: list[dict[str, Any]] = field(default_factory=list)
    access_letters: list[dict[str, Any]] = field(default_factory=list)
    # Zugang freischalten: whom the stand-in identity makes an administrator (set by the portal fixture).
    grant: Callable[[str, str], None] | None = None

    def reset_identity(self) -> None:
        account_id = str(uuid.uuid4())
        locked = {
            "account_id": account_id,
            "name": "Maximiliane-Alexandra Schmidt-Müller-Lüdenscheidt",
            "email": "maximiliane-alexandra.schmidt-mueller-luedenscheidt@example.org",
            "apprentice_number": "20170815",
            "status": "active",
            "locked_until": "2026-11-25T08:00:00+00:00",
            "failed_logins": 0,
        }
        self.account_locks = {locked["email"]: locked, "20170815": locked}
        self.audit = [
            {
                "id": str(uuid.uuid4()),
                "at": f"2026-11-24T08:0{n}:00+00:00",
                "kind": kind,
                "label": label,
                "account_id": account_id,
                "actor_id": None,
                "on_behalf_of": None,
                "details": {"client": "203.0.113.9"},
            }
            for n, (kind, label) in enumerate(
                [("login.failed", "Anmeldung fehlgeschlagen")] * 5
                + [("account.locked_out", "Zugang gesperrt (Fehlversuche)")]
            )
        ][::-1]

    def reset(self) -> None:
        self.reset_identity()
        self.invitations = []
        self.access_requests = [
            {
                "id": str(uuid.uuid4()),
                "kind": "company",
                "number": "4712999",
                "contact_name": "Maximiliane-Alexandra Schmidt-Müller-Lüdenscheidt",
                "created_at": "2026-11-24T09:30:00+00:00",
                "fulfilled_at": None,
                "outcome": None,
            }
        ]
        self.access_letters = [
            {
                "id": str(uuid.uuid4()),
                "kind": "company",
                "number": "4712001",
                "name": "Industrie- und Handelsgesellschaft Nordhessen Werkzeugmaschinenbau GmbH & Co. KG",
                "title": "Anschreiben mit Zugangsdaten",
                "reason": "registered",
                "issued_at": "2026-11-24T09:00:00+00:00",
                "expires_at": "2027-02-22T09:00:00+00:00",
                "printed_at": None,
                "superseded_at": None,
            }
        ]
        self.trainers = [
            {
                "id": str(uuid.uuid4()),
                "company_number": "4711001",
                "first_name": "Anna",
                "last_name": "Ausbilder",
                "email": "ausbilder@muster-maschinenbau.example",
                "qualified": True,
            },
            {
                "id": str(uuid.uuid4()),
                "company_number": "4711001",
                "first_name": "Bernhard-Maximilian",
                "last_name": "Oberfeldwebel-Schneider",
                "email": "bernhard-maximilian.oberfeldwebel-schneider@muster-maschinenbau.example",
                "qualified": False,
            },
        ]
        anna = {"id": self.trainers[0]["id"], "name": "Anna Ausbilder"}
        lena = _contract(
            "2026-000042", "Lena", "Lernwillig", apprentice_number="20260001", account="active", trainer=anna
        )
        max_ = _contract(
            "2026-000043",
            "Max",
            "Beispiel",
            apprentice_number="20260002",
            account="active",
            apprentice_opened="2026-11-24T13:03:00+00:00",
        )
        # Long names as real data has them, and a contract from before the digital confirmation.
        paper = _contract(
            "2017-000815",
            "Maximiliane-Alexandra",
            "Schmidt-Müller-Lüdenscheidt",
            apprentice_number="20170815",
            account="none",
            registered_on="2017-08-01",
            occupation=(
                "46100",
                "Kaufmann/Kauffrau im Groß- und Außenhandelsmanagement, Fachrichtung Außenhandel",
            ),
        )
        other_company = _contract(
            "2026-000044",
            "Konstantin",
            "Oberbürgermeister-Wiesenthal",
            apprentice_number=None,
            account="none",
            occupation=("13100", "Fachinformatiker/-in Anwendungsentwicklung"),
            company=(
                "4712999",
                "Industrie- und Handelsgesellschaft Nordhessen Werkzeugmaschinenbau GmbH & Co. KG",
            ),
        )
        ended = _contract(
            "2023-000007",
            "Paula",
            "Prepared",
            apprentice_number="20230007",
            account="prepared",
            registered_on="2023-07-01",
            state="terminated",
        )
        self.contracts = [lena, max_, paper, other_company, ended]
        self.history = {
            c["id"]: [self._change(c, "registered", c["registered_on"], {})] for c in self.contracts
        }
        self.history[ended["id"]].append(
            self._change(ended, "terminated", "2029-06-30", {"ended_on": "2029-06-30", "reason": "mutual"})
        )
        self.atlas = {
            "4711001": {"consent": False, "entries": []},
            "4712050": {
                "consent": True,
                "entries": [
                    {
                        "company_number": "4712050",
                        "occupation_code": "78100",
                        "places": 2,
                        "postal_code": "34233",
                        "city": "Fuldatal",
                        "contact_name": "Frau Yildiz",
                        "contact_email": "bewerbung-ausbildung@softwarehaus-fuldatal-nordhessen.example",
                        "contact_phone": "0561 123456",
                        "website": "https://softwarehaus-fuldatal.example/karriere/ausbildung",
                        "updated_at": "2026-11-20T08:00:00+00:00",
                    }
                ],
            },
        }
        self.imports = []
        self.documents = [
            self._document(lena, "apprentice", "20260001"),
            self._document(lena, "company", "4711001"),
            self._document(max_, "company", "4711001"),
        ]
        self.tokens_seen.clear()
        self.idempotency_keys.clear()

    @staticmethod
    def _change(
        contract: dict[str, Any], kind: str, effective_on: str, details: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "kind": kind,
            "effective_on": effective_on,
            "recorded_at": f"{contract['registered_on']}T09:00:00+00:00",
            "recorded_by": None,
            "details": details,
        }

    def trainer_view(self, trainer: dict[str, Any]) -> dict[str, Any]:
        assigned = [
            {
                "id": c["id"],
                "contract_number": c["contract_number"],
                "apprentice_name": f"{c['apprentice']['first_name']} {c['apprentice']['last_name']}",
            }
            for c in self.contracts
            if c["trainer"]
            and c["trainer"]["id"] == trainer["id"]
            and c["state"] in ("registered", "interrupted")
        ]
        return {**trainer, "contracts": assigned}

    def upload(self, filename: str, data: bytes) -> StandInImport:
        """Read the file as training-records would (CSV, ; or ,) and note the rows it would refuse."""
        text = data.decode("utf-8-sig")
        dialect = ";" if text.split("\n", 1)[0].count(";") >= text.split("\n", 1)[0].count(",") else ","
        rows = list(csv.DictReader(io.StringIO(text), delimiter=dialect))
        known = {o["code"] for o in OCCUPATIONS}
        errors = [
            {
                "line": line,
                "field": "beruf",
                "code": "unknown_occupation",
                "message": "Unbekannter oder nicht mehr gültiger Ausbildungsberuf.",
            }
            for line, row in enumerate(rows, start=2)
            if row.get("Beruf") not in known
        ]
        job = StandInImport(str(uuid.uuid4()), filename, datetime.now(UTC), rows, errors)
        self.imports.insert(0, job)
        return job

    @staticmethod
    def _document(contract: dict[str, Any], kind: str, owner: str) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "title": f"Eintragungsbestätigung {contract['contract_number']}",
            "kind": "registration_confirmation",
            "contract_id": contract["id"],
            "recipient_kind": kind,
            "owner": owner,
            "issued_at": "2026-11-24T09:00:00+00:00",
            "first_opened_at": None,
            "opened": False,
        }

    def app(self) -> Flask:
        app = Flask("standin-apis")

        def principal() -> Any:
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                abort(401)
            self.tokens_seen.append(header[7:])
            try:
                return self.validator.validate(header[7:])
            except Exception:  # noqa: BLE001 - any invalid token is a 401 here
                abort(401)

        def owns(user: Any, document: dict[str, Any]) -> bool:
            if document["recipient_kind"] == "apprentice":
                return document["owner"] == user.apprentice_number
            return document["owner"] in user.company_numbers

        def page(items: list[dict[str, Any]]) -> Response:
            return jsonify(items=items, total=len(items), page=1, per_page=20)

        @app.get("/api/training/companies")
        def companies() -> Response:
            principal()
            return page(
                [{"company_number": "4711001", "name": "Muster Maschinenbau GmbH", "email": "a@b.example"}]
            )

        @app.get("/api/training/occupations")
        def occupations() -> Response:
            principal()
            return jsonify(items=OCCUPATIONS, next_cursor=None)

        @app.get("/api/training/atlas/occupations")
        def atlas_occupations() -> Response:
            # The public search's choice of occupations: no login, as in training-records.
            return jsonify(items=OCCUPATIONS, next_cursor=None)

        @app.get("/api/training/contracts")
        def contracts() -> Response | tuple[Response, int]:
            user = principal()
            args = request.args
            known = {
                "cursor",
                "limit",
                "name",
                "apprentice_number",
                "company_number",
                "occupation_code",
                "state",
            }
            known |= {"start_from", "start_until", "registered_from", "registered_until"}
            if set(args) - known:
                return _problem(*((f"#/{name}", "Unknown field.") for name in set(args) - known))
            if user.has_role("chamber_clerk"):
                found = list(self.contracts)
            else:
                found = [c for c in self.contracts if c["company"]["company_number"] in user.company_numbers]
            name = args.get("name", "").casefold()
            if name:
                found = [
                    c
                    for c in found
                    if c["apprentice"]["last_name"].casefold().startswith(name)
                    or f"{c['apprentice']['first_name']} {c['apprentice']['last_name']}".casefold().startswith(
                        name
                    )
                ]
            for arg, read in (
                ("apprentice_number", lambda c: c["apprentice"]["apprentice_number"]),
                ("company_number", lambda c: c["company"]["company_number"]),
                ("occupation_code", lambda c: c["occupation"]["code"]),
                ("state", lambda c: c["state"]),
            ):
                if args.get(arg):
                    found = [c for c in found if read(c) == args[arg]]
            for arg, key, keep in (
                ("start_from", "start_date", lambda a, b: a >= b),
                ("start_until", "start_date", lambda a, b: a <= b),
                ("registered_from", "registered_on", lambda a, b: a >= b),
                ("registered_until", "registered_on", lambda a, b: a <= b),
            ):
                if args.get(arg):
                    found = [
                        c for c in found if keep(date.fromisoformat(c[key]), date.fromisoformat(args[arg]))
                    ]
            # Keyset paging stand-in: the cursor is the offset, as the real one is opaque.
            limit = int(args.get("limit", 20))
            start = int(args.get("cursor", 0))
            more = start + limit < len(found)
            return jsonify(
                items=found[start : start + limit], next_cursor=str(start + limit) if more else None
            )

        @app.post("/api/training/contracts")
        def register() -> tuple[Response, int]:
            if not principal().has_role("chamber_clerk"):
                abort(403)
            self.idempotency_keys.append(request.headers.get("Idempotency-Key", ""))
            body = request.get_json()
            apprentice = body["apprentice"]
            start = date.fromisoformat(body["start_date"])
            born = date.fromisoformat(apprentice["birth_date"])
            if (start.year - born.year) - ((start.month, start.day) < (born.month, born.day)) < 15:
                problem = {
                    "type": "https://bildungsportal.example/problems/validation-error",
                    "title": "Validation failed",
                    "status": 422,
                    "errors": [
                        {
                            "pointer": "#/apprentice/birth_date",
                            "detail": "The apprentice must be at least 15 years old at the start.",
                        }
                    ],
                }
                return jsonify(problem), 422
            contract = _contract(
                f"2026-{len(self.contracts) + 100:06d}",
                apprentice["first_name"],
                apprentice["last_name"],
                apprentice_number=None,
                account="none",
            )
            contract.update(start_date=body["start_date"], end_date=body["end_date"])
            contract["terms"] = {
                "specialism": body.get("specialism"),
                "probation_months": body.get("probation_months"),
                "part_time": body.get("part_time", False),
                "shortened_by_months": body.get("shortened_by_months", 0),
            }
            self.contracts.append(contract)
            self.history[contract["id"]] = [
                self._change(contract, "registered", contract["registered_on"], {})
            ]
            return jsonify(contract), 201

        @app.get("/api/training/contracts/<contract_id>")
        def contract(contract_id: str) -> Response:
            user = principal()
            found = next((c for c in self.contracts if c["id"] == contract_id), None)
            if found is None or not (
                user.has_role("chamber_clerk") or found["company"]["company_number"] in user.company_numbers
            ):
                abort(404)
            return jsonify(found)

        @app.get("/api/documents/contracts/<contract_id>/documents")
        def contract_documents(contract_id: str) -> Response:
            user = principal()
            mine = [
                d
                for d in self.documents
                if d["contract_id"] == contract_id and (user.has_role("chamber_clerk") or owns(user, d))
            ]
            return jsonify(items=[{k: v for k, v in d.items() if k != "owner"} for d in mine])

        @app.get("/api/documents/documents")
        def documents() -> Response:
            user = principal()
            mine = [d for d in self.documents if owns(user, d)]
            if request.args.get("unread") == "true":
                mine = [d for d in mine if not d["opened"]]
            return jsonify([{k: v for k, v in d.items() if k != "owner"} for d in mine])

        @app.get("/api/documents/documents/<document_id>/content")
        def content(document_id: str) -> Response:
            user = principal()
            document = next((d for d in self.documents if d["id"] == document_id), None)
            if document is None or not owns(user, document):
                abort(404)
            if not document["opened"]:
                document.update(opened=True, first_opened_at=datetime.now(UTC).isoformat())
            return Response(
                PDF,
                mimetype="application/pdf",
                headers={"Content-Disposition": 'inline; filename="eintragungsbestaetigung.pdf"'},
            )

        # -- the register: a contract's life, trainers, the atlas, the data import --

        def visible_contract(user: Any, contract_id: str) -> dict[str, Any]:
            found = next((c for c in self.contracts if c["id"] == contract_id), None)
            if found is None or not (
                user.has_role("chamber_clerk") or found["company"]["company_number"] in user.company_numbers
            ):
                abort(404)
            return found

        def maintains(user: Any, company_number: str) -> bool:
            return user.has_role("chamber_clerk") or user.has_company_role(company_number, "admin", "manager")

        @app.get("/api/training/contracts/<contract_id>/history")
        def history(contract_id: str) -> Response:
            visible_contract(principal(), contract_id)
            return jsonify(items=self.history.get(contract_id, []))

        @app.post("/api/training/contracts/<contract_id>/changes")
        def change(contract_id: str) -> tuple[Response, int]:
            user = principal()
            contract = visible_contract(user, contract_id)
            body = request.get_json()
            kind = body["kind"]
            if not (
                user.has_role("chamber_clerk")
                or (kind == "trainer_changed" and maintains(user, contract["company"]["company_number"]))
            ):
                abort(403)
            self.idempotency_keys.append(request.headers.get("Idempotency-Key", ""))
            if contract["state"] not in ("registered", "interrupted"):
                return _problem(("#/state", "The contract has ended; it can no longer be changed."))
            effective_on = body.get("effective_on") or date.today().isoformat()
            end = _day(contract["end_date"])
            details: dict[str, Any] = {}
            if kind in ("extended", "shortened"):
                if "end_date" not in body:
                    return _problem(("#/end_date", "Required for this change."))
                new_end = date.fromisoformat(body["end_date"])
                if kind == "extended" and end is not None and new_end <= end:
                    return _problem(("#/end_date", "An extension must end after the current end date."))
                if kind == "shortened" and end is not None and new_end >= end:
                    return _problem(("#/end_date", "A shortening must end before the current end date."))
                details = {"previous_end_date": contract["end_date"], "end_date": body["end_date"]}
                contract["end_date"] = body["end_date"]
            elif kind == "interrupted":
                contract.update(state="interrupted", interrupted_since=effective_on)
                details = {"since": effective_on}
            elif kind == "resumed":
                details = {"since": contract["interrupted_since"]}
                contract.update(state="registered", interrupted_since=None)
            elif kind == "trainer_changed":
                trainer = next((t for t in self.trainers if t["id"] == body.get("trainer_id")), None)
                details = {
                    "previous_trainer_id": contract["trainer"]["id"] if contract["trainer"] else None,
                    "trainer_id": trainer["id"] if trainer else None,
                }
                contract["trainer"] = (
                    {"id": trainer["id"], "name": f"{trainer['first_name']} {trainer['last_name']}"}
                    if trainer
                    else None
                )
            elif kind == "completed":
                contract.update(state="completed", ended_on=effective_on)
                details = {"ended_on": effective_on}
            elif kind == "terminated":
                probation_ends = date.fromisoformat(contract["start_date"]) + timedelta(days=120)
                if body.get("reason") == "probation" and date.fromisoformat(effective_on) >= probation_ends:
                    return _problem(("#/reason", "That date is not within the probation period."))
                contract.update(state="terminated", ended_on=effective_on, termination_reason=body["reason"])
                details = {"ended_on": effective_on, "reason": body["reason"]}
            if body.get("note"):
                details["note"] = body["note"]
            change = self._change(contract, kind, effective_on, details)
            change["recorded_at"] = datetime.now(UTC).isoformat()
            self.history.setdefault(contract_id, []).append(change)
            return jsonify(contract), 201

        @app.get("/api/training/companies/<company_number>/trainers")
        def trainers(company_number: str) -> Response:
            user = principal()
            if not (user.has_role("chamber_clerk") or company_number in user.company_numbers):
                abort(404)
            mine = [self.trainer_view(t) for t in self.trainers if t["company_number"] == company_number]
            return jsonify(
                items=sorted(mine, key=lambda t: (t["last_name"], t["first_name"])), next_cursor=None
            )

        @app.post("/api/training/companies/<company_number>/trainers")
        def add_trainer(company_number: str) -> tuple[Response, int]:
            user = principal()
            if not maintains(user, company_number):
                abort(403)
            self.idempotency_keys.append(request.headers.get("Idempotency-Key", ""))
            body = request.get_json()
            if any(
                t["email"] == body["email"] and t["company_number"] == company_number for t in self.trainers
            ):
                return _problem(("#/email", "This company already has a trainer with this e-mail address."))
            trainer = {"id": str(uuid.uuid4()), "company_number": company_number, **body}
            self.trainers.append(trainer)
            return jsonify(self.trainer_view(trainer)), 201

        def own_trainer(user: Any, trainer_id: str) -> dict[str, Any]:
            trainer = next((t for t in self.trainers if t["id"] == trainer_id), None)
            if trainer is None or not maintains(user, trainer["company_number"]):
                abort(404)
            return trainer

        @app.get("/api/training/trainers/<trainer_id>")
        def trainer(trainer_id: str) -> Response:
            return jsonify(self.trainer_view(own_trainer(principal(), trainer_id)))

        @app.put("/api/training/trainers/<trainer_id>")
        def change_trainer(trainer_id: str) -> Response:
            trainer = own_trainer(principal(), trainer_id)
            trainer.update(request.get_json())
            return jsonify(self.trainer_view(trainer))

        @app.delete("/api/training/trainers/<trainer_id>")
        def remove_trainer(trainer_id: str) -> tuple[Response | str, int]:
            trainer = own_trainer(principal(), trainer_id)
            if self.trainer_view(trainer)["contracts"]:
                return _problem(
                    ("#/trainer_id", "Assign the trainer's running contracts to someone else first.")
                )
            self.trainers.remove(trainer)
            return "", 204

        def profile(company_number: str) -> dict[str, Any]:
            if not maintains(principal(), company_number):
                abort(404)
            return self.atlas.setdefault(company_number, {"consent": False, "entries": []})

        @app.get("/api/training/companies/<company_number>/atlas")
        def atlas_profile(company_number: str) -> Response:
            found = profile(company_number)
            return jsonify(company_number=company_number, **found)

        @app.put("/api/training/companies/<company_number>/atlas/<code>")
        def save_entry(company_number: str, code: str) -> Response | tuple[Response, int]:
            found = profile(company_number)
            body = request.get_json()
            if not re.fullmatch(r"\d{5}", body.get("postal_code", "")):
                return _problem(("#/postal_code", "A German postal code has five digits."))
            entry = {
                "company_number": company_number,
                "occupation_code": code,
                "updated_at": datetime.now(UTC).isoformat(),
                **body,
            }
            found["entries"] = [e for e in found["entries"] if e["occupation_code"] != code] + [entry]
            return jsonify(entry)

        @app.delete("/api/training/companies/<company_number>/atlas/<code>")
        def remove_entry(company_number: str, code: str) -> tuple[str, int]:
            found = profile(company_number)
            found["entries"] = [e for e in found["entries"] if e["occupation_code"] != code]
            return "", 204

        @app.put("/api/training/companies/<company_number>/atlas-consent")
        def consent(company_number: str) -> Response:
            found = profile(company_number)
            found["consent"] = request.get_json()["consent"]
            return jsonify(
                company_number=company_number, name="Muster Maschinenbau GmbH", atlas_consent=found["consent"]
            )

        @app.get("/api/training/atlas")
        def search_atlas() -> Response:
            # Public: no token. Consenting companies with free places, by postcode prefix or city.
            code, place = request.args["occupation_code"], request.args.get("place", "")
            names = {"4711001": "Muster Maschinenbau GmbH", "4712050": "Softwarehaus Fuldatal GmbH"}
            titles = {o["code"]: o["title"] for o in OCCUPATIONS}
            hits = [
                {
                    "company_name": names.get(number, number),
                    "occupation_title": titles.get(code, code),
                    "entry": entry,
                }
                for number, found in self.atlas.items()
                if found["consent"]
                for entry in found["entries"]
                if entry["occupation_code"] == code
                and entry["places"] > 0
                and (
                    not place
                    or (
                        entry["postal_code"].startswith(place)
                        if place.isdigit()
                        else entry["city"].casefold() == place.casefold()
                    )
                )
            ]
            return jsonify(items=sorted(hits, key=lambda h: h["entry"]["postal_code"]), next_cursor=None)

        def clerk() -> None:
            if not principal().has_role("chamber_clerk"):
                abort(403)

        @app.get("/api/identity/account-locks")
        def account_lock() -> Response:
            if not principal().has_role("chamber_clerk", "chamber_admin"):
                abort(403)
            found = self.account_locks.get(request.args.get("login", "").strip().lower())
            if found is None:
                abort(404)
            return jsonify(found)

        @app.delete("/api/identity/account-locks/<account_id>")
        def unlock(account_id: str) -> Response:
            if not principal().has_role("chamber_clerk", "chamber_admin"):
                abort(403)
            found = next(lock for lock in self.account_locks.values() if lock["account_id"] == account_id)
            found.update(locked_until=None, failed_logins=0)
            return jsonify(found)

        @app.get("/api/identity/audit")
        def audit() -> Response:
            if not principal().has_role("chamber_admin"):
                abort(403)
            kind = request.args.get("kind")
            items = [e for e in self.audit if kind is None or e["kind"] == kind]
            return jsonify(items=items, next_cursor=None)

        @app.post("/api/training/imports")
        def upload() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
            clerk()
            self.idempotency_keys.append(request.headers.get("Idempotency-Key", ""))
            upload = request.files["file"]
            if not (upload.filename or "").lower().endswith((".csv", ".xlsx")):
                return _problem(("#/file", "Only .csv and .xlsx files can be imported."))
            job = self.upload(upload.filename or "", upload.read())
            return jsonify(job.progress()), 202, {"Location": f"/imports/{job.id}"}

        @app.get("/api/training/imports")
        def imports() -> Response:
            clerk()
            return jsonify(items=[job.progress() for job in self.imports], next_cursor=None)

        def find_import(job_id: str) -> StandInImport:
            clerk()
            job = next((j for j in self.imports if j.id == job_id), None)
            if job is None:
                abort(404)
            return job

        @app.get("/api/training/imports/<job_id>")
        def import_job(job_id: str) -> Response:
            return jsonify(find_import(job_id).progress())

        @app.get("/api/training/imports/<job_id>/errors")
        def import_errors(job_id: str) -> Response:
            return jsonify(
                items=find_import(job_id).errors_so_far()[: int(request.args.get("limit", 20))],
                next_cursor=None,
            )

        # -- identity's and documents' access data --
        def invite(user: Any, company_number: str, who: str) -> Response:
            if not user.has_company_role(company_number, "admin", "manager"):
                abort(404)
            email = (request.get_json() or {}).get("email", "")
            if "@" not in email:
                return _problem(("#/email", "Not a valid email address."))[0]
            self.invitations.append((who, email))
            return jsonify(account_id=str(uuid.uuid4()), account_status="invited")

        @app.post("/api/identity/companies/<company_number>/trainers/<trainer_id>/invitation")
        def invite_trainer(company_number: str, trainer_id: str) -> tuple[Response, int]:
            answer = invite(principal(), company_number, trainer_id)
            for trainer in self.trainers:
                if trainer["id"] == trainer_id:
                    trainer["account_state"] = "invited"
            return answer, 202

        @app.post("/api/identity/companies/<company_number>/apprentices/<number>/invitation")
        def invite_apprentice(company_number: str, number: str) -> tuple[Response, int]:
            answer = invite(principal(), company_number, number)
            for contract in self.contracts:
                if contract["apprentice"]["apprentice_number"] == number:
                    contract["apprentice"]["account_state"] = "invited"
            return answer, 202

        @app.post("/api/identity/access-codes/redeem")
        def redeem() -> Response | tuple[Response, int]:
            user = principal()
            body = request.get_json() or {}
            if (body.get("kind"), body.get("number"), body.get("code")) != (
                "company",
                "4712001",
                "ABCD-EFGH-JKMN",
            ):
                problem = {"type": "access-code-invalid", "title": "Unprocessable Content", "status": 422}
                return jsonify(problem), 422
            assert self.grant is not None
            self.grant(user.subject, "4712001")
            return jsonify(kind="company", number="4712001")

        def access_clerk() -> None:
            if not principal().has_role("chamber_clerk", "chamber_admin"):
                abort(404)

        @app.get("/api/identity/access-data-requests")
        def access_requests() -> Response:
            access_clerk()
            return jsonify([r for r in self.access_requests if r["fulfilled_at"] is None])

        @app.post("/api/identity/access-data-requests/<request_id>/fulfil")
        def fulfil(request_id: str) -> Response:
            access_clerk()
            found = next(r for r in self.access_requests if r["id"] == request_id)
            found.update(fulfilled_at=datetime.now(UTC).isoformat(), outcome="issued")
            return jsonify(found)

        @app.get("/api/documents/access-letters")
        def access_letters() -> Response:
            access_clerk()
            return jsonify([letter for letter in self.access_letters if letter["printed_at"] is None])

        @app.get("/api/documents/access-letters/<letter_id>/content")
        def access_letter(letter_id: str) -> Response:
            access_clerk()
            return Response(
                PDF,
                mimetype="application/pdf",
                headers={"Content-Disposition": 'inline; filename="Anschreiben.pdf"'},
            )

        @app.post("/api/documents/access-letters/<letter_id>/printed")
        def printed(letter_id: str) -> Response:
            access_clerk()
            found = next(letter for letter in self.access_letters if letter["id"] == letter_id)
            found["printed_at"] = datetime.now(UTC).isoformat()
            return jsonify(found)

        @app.get("/api/training/imports/<job_id>/report.csv")
        def import_report(job_id: str) -> Response:
            lines = ["Zeile;Spalte;Code;Fehler"] + [
                f"{e['line']};{e['field']};{e['code']};{e['message']}"
                for e in find_import(job_id).errors_so_far()
            ]
            return Response(
                ("\ufeff" + "\r\n".join(lines) + "\r\n").encode(),
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="importbericht-{job_id}.csv"'},
            )

        return app


# -- fixtures ----------------------------------------------------------------------------------


@dataclass
class Portal:
    url: str
    provider: StandInProvider
    apis: StandInApis
    mail_dir: Path
    app: Flask


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    root = tmp_path_factory.mktemp("portal")
    web, identity, apis_server = bind(), bind(), bind()
    provider = StandInProvider(issuer=f"{identity.url}/auth", public_url=web.url)
    apis = StandInApis(validator=provider.signer.validator())
    mail_dir = root / "mails"
    mail_dir.mkdir()
    settings = WebSettings.from_env(
        {
            "BP_PUBLIC_URL": web.url,
            "BP_ISSUER": provider.issuer,
            "BP_WEB_CLIENT_ID": CLIENT_ID,
            "BP_WEB_CLIENT_SECRET": CLIENT_SECRET,
            "BP_API_BASE_URL": apis_server.url,
            "WEB_DATABASE_URL": f"sqlite:///{root / 'web.db'}",
            "WEB_SECRET_KEY": "browser-test-secret-key",
            "BP_MAIL_SINK_DIR": str(mail_dir),
            "BP_DATA_DIR": str(root),
        }
    )
    migrate(settings.database_url)
    identity.serve(provider.app())
    apis.grant = lambda subject, number: provider.granted.setdefault(subject, {}).update({number: ["admin"]})
    apis_server.serve(apis.app())
    app = create_app(settings)
    web.serve(app)
    try:
        yield Portal(web.url, provider, apis, mail_dir, app)
    finally:
        for server in (web, identity, apis_server):
            server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(params=[(1280, 900), (375, 740)], ids=["desktop", "375px"])
def page(request: pytest.FixtureRequest, browser: Browser, portal: Portal) -> Iterator[Page]:
    portal.apis.reset()
    portal.provider.access_lifetime = 300
    portal.provider.granted.clear()
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height}, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


# What does not fit the page: the page itself scrolling sideways, anything reaching past its
# right edge, or content cut off inside a box (a table scrolled within its wrapper hides columns).
LAYOUT_PROBLEMS = """() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const problems = [];
  if (root.scrollWidth > width) {
    problems.push(`the page scrolls sideways: scrollWidth ${root.scrollWidth} > clientWidth ${width}`);
  }
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + (e.textContent || '').trim().slice(0, 40) + '"';
  for (const e of document.querySelectorAll('body *')) {
    const style = getComputedStyle(e);
    const box = e.getBoundingClientRect();
    // Visually hidden text (screen readers only) and the skip link are meant to be off-screen.
    if (style.display === 'none' || box.width <= 1 || e.closest('.visually-hidden, .skip-link')) continue;
    if (e.closest('thead') && style.position !== 'static') continue;
    if (box.right > width + 0.5) problems.push(`${name(e)} ends at ${Math.round(box.right)} px`);
    // A text field scrolls a long value (an e-mail address) inside itself, as every browser does.
    const control = e.matches('input, textarea, select');
    if (!control && ['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX) && e.scrollWidth > e.clientWidth + 1) {
      problems.push(`${name(e)} cuts off content: ${e.scrollWidth} px in ${e.clientWidth} px`);
    }
  }
  return problems.slice(0, 10);
}"""


def layout_problems(page: Page) -> list[str]:
    return page.evaluate(LAYOUT_PROBLEMS)


@pytest.fixture
def accessible(axe: Axe) -> Callable[[Page], None]:
    def check(page: Page) -> None:
        results = axe.run(page)
        assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"
        # Nothing may overflow sideways at phone width.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            culprits = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => e.scrollWidth > e.clientWidth + 1 ||"
                " e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + '.'"
                " + e.className + ' ' + e.scrollWidth + '/' + e.clientWidth + ' ' + Math.round(e.getBoundingClientRect().right))"
            )
            pytest.fail(f"{page.url} scrolls sideways by {overflow}px: {culprits}")
        # ... nor at any width does a list hide a column in a box of its own.
        problems = layout_problems(page)
        assert problems == [], f"{page.url} does not fit {page.viewport_size}: {problems}"

    return check


def sign_in(page: Page, portal: Portal, who: str) -> None:
    portal.provider.login_as = who
    page.goto(portal.url + "/")
    page.get_by_role("main").get_by_role("link", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1, name="Übersicht")).to_be_visible()


# -- tests -------------------------------------------------------------------------------------


def test_login_runs_the_code_flow_and_keeps_tokens_on_the_server(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    page.goto(portal.url + "/")
    expect(page.get_by_role("heading", level=1, name="Willkommen im Bildungsportal")).to_be_visible()
    accessible(page)
    # A session exists before login (it holds state, nonce and PKCE verifier) ...
    page.context.request.get(portal.url + "/anmelden", max_redirects=0)
    (before,) = page.context.cookies()

    sign_in(page, portal, "apprentice")

    assert page.url == portal.url + "/"
    assert portal.provider.grants[-1] == "authorization_code"
    cookies = page.context.cookies()
    assert [c["name"] for c in cookies] == ["bp_session"]
    (cookie,) = cookies
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert cookie["value"] != before["value"]  # ... and login gives it a new id
    assert "eyJ" not in cookie["value"]  # no token (JWT) in the browser
    expect(page.get_by_role("navigation", name="Hauptnavigation")).to_be_visible()
    accessible(page)


def test_apprentice_sees_the_notice_and_opens_the_pdf(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    sign_in(page, portal, "apprentice")
    notice = page.get_by_role("status").filter(
        has_text="Es liegen neue oder noch nicht gelesene Dokumente vor."
    )
    expect(notice).to_be_visible()
    navigation = page.get_by_role("navigation", name="Hauptnavigation")
    expect(navigation.get_by_role("link")).to_have_text(
        ["Übersicht", "Dokumente", "Profil – Vertretung", "Profil – Berechtigungen", "Postfach (Entwicklung)"]
    )

    notice.get_by_role("link", name="Dokumente anzeigen").click()
    expect(page.get_by_role("heading", level=1, name="Dokumente")).to_be_visible()
    expect(navigation.get_by_role("link", name="Dokumente")).to_have_attribute("aria-current", "page")
    table = page.get_by_role("table", name="Ihre Dokumente")
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table.get_by_text("Neu", exact=True)).to_be_visible()
    accessible(page)

    link = table.get_by_role("link", name="Eintragungsbestätigung 2026-000042 öffnen (PDF)")
    response = page.context.request.get(portal.url + link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.body() == PDF

    page.reload()
    expect(table.get_by_text("Gelesen", exact=True)).to_be_visible()
    expect(table).to_contain_text("geöffnet am")
    page.get_by_role("link", name="Übersicht").click()
    expect(page.get_by_text("Es liegen neue oder noch nicht gelesene Dokumente vor.")).to_have_count(0)


def test_clerk_registers_a_contract_with_german_validation(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    sign_in(page, portal, "clerk")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Ausbildungsvertrag eintragen"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Ausbildungsvertrag eintragen")).to_be_visible()
    accessible(page)

    page.get_by_label("Ausbildungsbetrieb").select_option("4711001")
    page.get_by_label("Vorname").fill("Jonas")
    page.get_by_label("Geburtsdatum").fill("2015-03-14")  # too young: the service says so
    page.get_by_label("E-Mail-Adresse").fill("jonas@example.test")
    page.get_by_label("Ausbildungsberuf").select_option("78100")
    page.get_by_label("Beginn der Ausbildung").fill("2026-08-01")
    page.get_by_label("Ende der Ausbildung").fill("2029-07-31")
    page.get_by_label("Probezeit").select_option("4")
    page.get_by_role("button", name="Ausbildungsvertrag eintragen").click()

    # The missing last name is caught by the form itself ...
    last_name = page.get_by_label("Nachname")
    expect(last_name).to_have_attribute("aria-invalid", "true")
    expect(last_name).to_have_accessible_description("Fehler: Bitte füllen Sie das Feld „Nachname“ aus.")
    expect(page.get_by_role("alert")).to_contain_text("Bitte korrigieren Sie Ihre Angaben")
    accessible(page)

    # ... the apprentice's age by training-records (a 422 problem), shown at the field in German.
    last_name.fill("Neumann")
    page.get_by_role("button", name="Ausbildungsvertrag eintragen").click()
    birth_date = page.get_by_label("Geburtsdatum")
    expect(birth_date).to_have_attribute("aria-invalid", "true")
    expect(birth_date).to_have_accessible_description(
        "Format: TT.MM.JJJJ Fehler: Das Geburtsdatum muss in der Vergangenheit liegen und plausibel sein."
    )
    expect(page.get_by_label("Nachname")).to_have_value("Neumann")
    accessible(page)

    birth_date.fill("2008-03-14")
    page.get_by_role("button", name="Ausbildungsvertrag eintragen").click()
    expect(
        page.get_by_role("status").filter(has_text="Das Ausbildungsverhältnis wurde eingetragen.")
    ).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Ausbildungsverhältnisse")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Jonas Neumann")
    expect(row).to_contain_text("eingetragen")
    expect(row).to_contain_text("01.08.2026")
    expect(row).to_contain_text("31.07.2029")
    accessible(page)


def test_company_sees_when_the_confirmation_was_opened(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    sign_in(page, portal, "company_admin")
    expect(page.get_by_role("status").filter(has_text="noch nicht gelesene Dokumente")).to_be_visible()
    navigation = page.get_by_role("navigation", name="Hauptnavigation")
    expect(navigation.get_by_role("link")).to_have_text(
        [
            "Übersicht",
            "Ausbildungsverhältnisse",
            "Ausbilder/-in",
            "Ausbildungsatlas",
            "Profil – Dokumente",
            "Berechtigungen verwalten",
            "Profil – Vertretung",
            "Profil – Berechtigungen",
            "Postfach (Entwicklung)",
        ]
    )
    navigation.get_by_role("link", name="Ausbildungsverhältnisse").click()
    table = page.get_by_role("table", name="Ausbildungsverhältnisse")
    max_row = table.get_by_role("row").filter(has_text="Max Beispiel")
    expect(max_row).to_contain_text("Auszubildende/r: geöffnet am 24.11.2026 um 14:03 Uhr")
    expect(max_row).to_contain_text("Betrieb: noch nicht geöffnet")
    accessible(page)

    link = max_row.get_by_role("link", name="Eintragungsbestätigung öffnen für Max Beispiel (PDF)")
    response = page.context.request.get(portal.url + link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"

    navigation.get_by_role("link", name="Profil – Dokumente").click()
    expect(page.get_by_role("heading", level=1, name="Profil – Dokumente")).to_be_visible()
    expect(page.get_by_role("table", name="Ihre Dokumente").get_by_role("row")).to_have_count(3)
    accessible(page)


def test_expired_access_tokens_are_refreshed_with_rotation(page: Page, portal: Portal) -> None:
    portal.provider.access_lifetime = 20  # within the refresh margin: every request refreshes
    sign_in(page, portal, "company_admin")
    page.get_by_role("link", name="Ausbildungsverhältnisse").first.click()
    expect(page.get_by_role("heading", level=1, name="Ausbildungsverhältnisse")).to_be_visible()
    assert portal.provider.grants.count("refresh_token") >= 1
    # Each refresh used the newest refresh token; an old one would have failed and logged us out.
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    used = [t for t, held in portal.provider.refresh_tokens.items() if not held["active"]]
    assert len(used) >= 1


def test_logout_revokes_and_ends_the_session_at_identity(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    sign_in(page, portal, "apprentice")
    revoked_before = len(portal.provider.revoked)
    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_role("heading", level=1, name="Willkommen im Bildungsportal")).to_be_visible()
    assert len(portal.provider.revoked) == revoked_before + 1
    assert portal.provider.logouts[-1]["client_id"] == CLIENT_ID
    assert portal.provider.logouts[-1]["id_token_hint"]
    accessible(page)
    # The server forgot the session: pages want a new login.
    response = page.context.request.get(portal.url + "/dokumente", max_redirects=0)
    assert response.status == 302 and response.headers["location"] == "/anmelden"


def test_error_pages_and_the_development_mailbox(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    message = EmailMessage()
    message["From"] = "portal@ihk.example"
    message["To"] = "azubi@demo.example"
    message["Subject"] = "Neues Dokument im Bildungsportal"
    message["Date"] = "Tue, 24 Nov 2026 13:03:00 +0000"
    message.set_content("Guten Tag,\nin Ihrem Bildungsportal liegt ein neues Dokument für Sie bereit.")
    (portal.mail_dir / "20261124T130300000000Z-abcdef12.eml").write_bytes(bytes(message))

    page.goto(portal.url + "/gibt-es-nicht")
    expect(page.get_by_role("heading", level=1, name="Seite nicht gefunden")).to_be_visible()
    accessible(page)

    sign_in(page, portal, "apprentice")
    page.goto(portal.url + "/ausbildungsverhaeltnisse")
    expect(page.get_by_role("heading", level=1, name="Kein Zugriff")).to_be_visible()
    accessible(page)

    page.get_by_role("link", name="Postfach (Entwicklung)").click()
    table = page.get_by_role("table", name="Empfangene E-Mails, neueste zuerst")
    expect(table).to_contain_text("24.11.2026 um 14:03 Uhr")
    accessible(page)
    table.get_by_role("link", name="Neues Dokument im Bildungsportal").click()
    expect(page.get_by_role("heading", level=1, name="Neues Dokument im Bildungsportal")).to_be_visible()
    expect(page.get_by_text("liegt ein neues Dokument für Sie bereit")).to_be_visible()
    accessible(page)


# -- every page fits, for every role ---------------------------------------------------------------

ROLES = [None, "clerk", "company_admin", "trainer", "apprentice", "examiner"]
# Where a crawl starts besides the links it finds: error pages, and pages a role may not open.
ATLAS_SEARCH = "/ausbildungsatlas?occupation_code=78100&place=34"
VISITOR_PATHS = ["/gibt-es-nicht", "/hilfe", "/postfach", ATLAS_SEARCH]
EXTRA_PATHS = [
    *VISITOR_PATHS,
    "/ausbildungsverhaeltnisse",
    "/ausbildungsverhaeltnisse?name=Sch&state=registered&start_from=01.08.2026",
    "/dokumente",
    "/datenuebermittlung",
    "/ausbilder",
    "/ausbildungsatlas/eintraege",
]
LONG_MAIL = "20261124T120000000000Z-longmail.eml"


def _write_long_mail(portal: Portal) -> None:
    message = EmailMessage()
    message["From"] = (
        "Bildungsportal der Industrie- und Handelskammer <noreply-ausbildungsportal@bildungsportal.example>"
    )
    message["To"] = (
        "Maximiliane-Alexandra Schmidt-Müller-Lüdenscheidt "
        "<maximiliane-alexandra.schmidt-mueller-luedenscheidt@ausbildungsbetrieb-nordhessen.example>"
    )
    message["Subject"] = "Neues Passwort für das Bildungsportal der Industrie- und Handelskammer vergeben"
    message["Date"] = "Tue, 24 Nov 2026 12:00:00 +0000"
    message.set_content(
        "Guten Tag,\nüber diesen Link vergeben Sie ein neues Passwort:\n"
        + portal.url
        + "/auth/password/reset/"
        + "x" * 120
        + "\n"
    )
    (portal.mail_dir / LONG_MAIL).write_bytes(bytes(message))


def _same_site_links(page: Page) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.getAttribute('href'))")
    paths = []
    for href in hrefs:
        # Pages of this site; not PDFs, not the login itself, not identity's pages (another origin here).
        if not href.startswith("/") or href.startswith("//") or href == "/anmelden":
            continue
        if href.startswith(("/dokumente/", "/static/", "/zugangsdaten/anschreiben/")) or href.endswith(
            ".csv"
        ):
            continue  # PDFs and downloads, not pages
        paths.append(href.split("#", 1)[0])
    return paths


def _shape(path: str) -> str:
    """Pages of one shape are checked once: the form to extend one contract stands for all others."""
    return re.sub(
        r"^/ausbildungsverhaeltnisse/[0-9a-f-]{36}/aendern/", "/ausbildungsverhaeltnisse/*/aendern/", path
    )


def _crawl(page: Page, portal: Portal, check: Callable[[Page], None], starts: list[str]) -> list[str]:
    queue, seen, shapes = list(starts), [], set()
    while queue and len(seen) < 60:
        path = queue.pop(0)
        if path in seen or _shape(path) in shapes:
            continue
        seen.append(path)
        shapes.add(_shape(path))
        page.goto(portal.url + path)
        check(page)
        queue.extend(link for link in _same_site_links(page) if link not in seen)
    return seen


@pytest.mark.parametrize("role", ROLES, ids=[role or "visitor" for role in ROLES])
def test_every_page_fits_the_screen_for_every_role(
    page: Page, portal: Portal, accessible: Callable[[Page], None], role: str | None
) -> None:
    """At 1280 px and at 375 px: no page scrolls sideways, no list hides a column, axe finds nothing."""
    _write_long_mail(portal)
    if role is not None:
        sign_in(page, portal, role)
        starts = ["/", *EXTRA_PATHS]
    else:
        # Pages behind the login would sign the visitor in (the stand-in identity asks no password).
        starts = ["/", *VISITOR_PATHS]
    visited = _crawl(page, portal, accessible, starts)
    if role is None:
        expect(page.get_by_role("button", name="Abmelden")).to_have_count(0)
    expected = {"/", "/hilfe", "/gibt-es-nicht", "/postfach", f"/postfach/{LONG_MAIL[:-4]}", ATLAS_SEARCH}
    if role is None:
        expected.add("/ausbildungsatlas")
    if role in ("clerk", "company_admin", "trainer"):
        details = [path for path in visited if path.startswith("/ausbildungsverhaeltnisse/")]
        # Every contract of the list, the one from before the digital confirmation included.
        assert len([path for path in details if path != "/ausbildungsverhaeltnisse/neu"]) >= 3, visited
    steps = {path.rsplit("/", 1)[1] for path in visited if "/aendern/" in path}
    if role == "clerk":
        expected |= {
            "/ausbildungsverhaeltnisse",
            "/ausbildungsverhaeltnisse/neu",
            "/datenuebermittlung",
            "/datenuebermittlung/dateiformat",
        }
        assert steps == {
            "verlaengern",
            "verkuerzen",
            "unterbrechen",
            "ausbilder-wechseln",
            "abschliessen",
            "loesen",
        }, visited
        # The forms with their error messages, too.
        for path, button in (
            ("/ausbildungsverhaeltnisse/neu", "Ausbildungsvertrag eintragen"),
            ("/datenuebermittlung", "Hochladen und übermitteln"),
            (next(p for p in visited if p.endswith("/aendern/loesen")), "Lösung eintragen"),
        ):
            page.goto(portal.url + path)
            page.get_by_role("button", name=button).click()
            expect(page.get_by_role("alert").first).to_contain_text("Bitte korrigieren Sie Ihre Angaben")
            accessible(page)
    if role == "company_admin":
        expected |= {
            "/ausbilder",
            "/ausbilder/neu?betrieb=4711001",
            "/ausbildungsatlas/eintraege",
            "/ausbildungsatlas/eintraege/neu?betrieb=4711001",
            "/ausbildungsatlas",
        }
        assert steps == {"ausbilder-wechseln"}, visited
        assert any(re.fullmatch(r"/ausbilder/[0-9a-f-]{36}", path) for path in visited), visited
        for path, button in (
            ("/ausbilder/neu", "Ausbilder/-in hinzufügen"),
            ("/ausbildungsatlas/eintraege/neu", "Eintrag speichern"),
        ):
            page.goto(portal.url + path)
            page.get_by_role("main").get_by_role("button", name=button).click()
            expect(page.get_by_role("alert").first).to_contain_text("Bitte korrigieren Sie Ihre Angaben")
            accessible(page)
    if role in ("company_admin", "trainer", "apprentice"):
        expected.add("/dokumente")
    assert expected <= set(visited), visited


@pytest.mark.parametrize("who", ["clerk", "company_admin"])
def test_the_contract_lists_show_every_column_on_wide_screens(
    browser: Browser, portal: Portal, who: str
) -> None:
    portal.apis.reset()
    # 1280 and 1440 px as reported; 800 px, the narrowest width before the rows become cards.
    for width in (800, 1280, 1440):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            sign_in(page, portal, who)
            page.goto(portal.url + "/ausbildungsverhaeltnisse")
            table = page.get_by_role("table", name="Ausbildungsverhältnisse")
            headers = ["Auszubildende/r", "Ausbildung", "Status", "Aktion"]
            headers += ["Eintragungsbestätigung"] if who == "company_admin" else ["Ausbildungsbetrieb"]
            for header in headers:
                expect(table.get_by_role("columnheader", name=header, exact=True)).to_be_visible()
            # Every row's last cells are on the screen, not cut off or scrolled away.
            for link in table.get_by_role("link", name=re.compile("^Details")).all():
                # Scrolled to (the chamber's search stands above the list), never sideways.
                link.scroll_into_view_if_needed()
                expect(link).to_be_in_viewport()
                box = link.bounding_box()
                assert box is not None and box["x"] + box["width"] <= width
            assert layout_problems(page) == [], f"{who} at {width} px"
        finally:
            context.close()


def test_an_old_contract_says_its_confirmation_went_out_on_paper(page: Page, portal: Portal) -> None:
    sign_in(page, portal, "company_admin")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Ausbildungsverhältnisse"
    ).click()
    row = page.get_by_role("row").filter(has_text="Schmidt-Müller-Lüdenscheidt")
    expect(row).to_contain_text("per Post versandt")
    row.get_by_role("link", name=re.compile("^Details")).click()
    section = page.locator("#dokumente")
    expect(section).to_contain_text("wurde per Post versandt")
    expect(section).not_to_contain_text("kurz nach der Eintragung erstellt")


# -- session fixation --------------------------------------------------------------------------------


def test_a_session_id_from_before_login_is_worthless_afterwards(
    browser: Browser, page: Page, portal: Portal
) -> None:
    """The id a browser holds before login (e.g. planted by someone else) must not carry the login."""
    portal.provider.login_as = "apprentice"
    # One login, straight from /anmelden: the session holds only this login's state.
    started = page.context.request.get(portal.url + "/anmelden", max_redirects=0)
    assert started.status == 302
    (before,) = page.context.cookies()
    page.goto(started.headers["location"])  # identity -> /oidc/callback -> /
    expect(page.get_by_role("heading", level=1, name="Übersicht")).to_be_visible()
    (after,) = page.context.cookies()
    assert after["value"] != before["value"]

    attacker = browser.new_context()
    try:
        attacker.add_cookies([{**before, "value": before["value"]}])
        response = attacker.request.get(portal.url + "/dokumente", max_redirects=0)
        assert response.status == 302 and response.headers["location"] == "/anmelden"
    finally:
        attacker.close()
    # Deleted on the server, not just forgotten by the browser.
    with portal.app.extensions["web.engine"].connect() as connection:
        stored = set(connection.execute(select(sessions.c.store_id)).scalars())
    assert f"web:{before['value']}" not in stored
    assert f"web:{after['value']}" in stored


# -- a form sent twice creates once ---------------------------------------------------------------------


def test_a_form_sent_twice_registers_one_contract(page: Page, portal: Portal) -> None:
    sign_in(page, portal, "clerk")
    page.goto(portal.url + "/ausbildungsverhaeltnisse/neu")
    page.get_by_label("Ausbildungsbetrieb").select_option("4711001")
    page.get_by_label("Vorname").fill("Doppelt")
    page.get_by_label("Nachname").fill("Gesendet")
    page.get_by_label("Geburtsdatum").fill("14.03.2008")
    page.get_by_label("E-Mail-Adresse").fill("doppelt@example.test")
    page.get_by_label("Ausbildungsberuf").select_option("78100")
    page.get_by_label("Beginn der Ausbildung").fill("01.08.2026")
    page.get_by_label("Ende der Ausbildung").fill("31.07.2029")
    page.get_by_label("Probezeit").select_option("4")
    form = page.evaluate("Object.fromEntries(new FormData(document.querySelector('form.card')).entries())")
    before = len(portal.apis.contracts)
    # The browser sends it, the answer gets lost, and the user (or the browser) sends it again.
    first = page.context.request.post(
        portal.url + "/ausbildungsverhaeltnisse/neu", form=form, max_redirects=0
    )
    again = page.context.request.post(
        portal.url + "/ausbildungsverhaeltnisse/neu", form=form, max_redirects=0
    )
    assert first.status == again.status == 303
    assert again.headers["location"] == first.headers["location"]
    assert len(portal.apis.contracts) == before + 1
    assert portal.apis.idempotency_keys == [form["form_token"]]
    page.goto(portal.url + again.headers["location"])
    expect(page.get_by_role("row").filter(has_text="Doppelt Gesendet")).to_have_count(1)


# -- the register: search, a contract's life, trainers, the Ausbildungsatlas, the data import -----------


def _open_contract(page: Page, portal: Portal, apprentice: str) -> None:
    page.goto(portal.url + "/ausbildungsverhaeltnisse")
    row = page.get_by_role("row").filter(has_text=apprentice)
    row.get_by_role("link", name=re.compile("^Details")).click()
    expect(page.get_by_role("heading", level=1, name=re.compile("^Ausbildungsverhältnis"))).to_be_visible()


def test_the_chamber_searches_the_register(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    sign_in(page, portal, "clerk")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Ausbildungsverhältnisse"
    ).click()
    search = page.get_by_role("form", name="Suchen")
    search.get_by_label("Name", exact=True).fill("Schmidt")
    search.get_by_label("Status").select_option(label="eingetragen")
    search.get_by_label("Beginn von").fill("01.08.2026")
    search.get_by_role("button", name="Suchen").click()
    table = page.get_by_role("table", name="Ausbildungsverhältnisse (gefiltert)")
    expect(table.get_by_role("row")).to_have_count(2)  # the header and Maximiliane-Alexandra
    expect(table).to_contain_text("Schmidt-Müller-Lüdenscheidt")
    expect(search.get_by_label("Beginn von")).to_have_value("01.08.2026")
    accessible(page)

    # A date that is none: said at the field, nothing listed.
    search.get_by_label("Eingetragen bis").fill("31.02.2026")
    search.get_by_role("button", name="Suchen").click()
    field = page.get_by_label("Eingetragen bis")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(
        "TT.MM.JJJJ Fehler: Bitte geben Sie ein gültiges Datum im Format TT.MM.JJJJ ein."
    )
    expect(page.get_by_role("table")).to_have_count(0)
    accessible(page)

    page.get_by_role("link", name="Alle Filter zurücksetzen").click()
    expect(page.get_by_role("table", name="Ausbildungsverhältnisse").get_by_role("row")).to_have_count(6)


def test_the_chamber_enters_the_steps_of_a_contracts_life(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    sign_in(page, portal, "clerk")
    _open_contract(page, portal, "Lena Lernwillig")
    terms = page.locator("#vertrag")
    expect(terms).to_contain_text("Probezeit4 Monate")
    expect(terms).to_contain_text("Ausbilder/-inAnna Ausbilder")
    accessible(page)

    terms.get_by_role("link", name="Verlängern").click()
    expect(page.get_by_role("heading", level=1, name="Verlängern")).to_be_visible()
    page.get_by_role("button", name="Verlängerung eintragen").click()
    expect(page.get_by_label("Neues Ende der Ausbildung")).to_have_attribute("aria-invalid", "true")
    accessible(page)
    page.get_by_label("Neues Ende der Ausbildung").fill("31.07.2029")  # not later: training-records refuses
    page.get_by_role("button", name="Verlängerung eintragen").click()
    expect(page.get_by_label("Neues Ende der Ausbildung")).to_have_accessible_description(
        "Format: TT.MM.JJJJ; bisher 31.07.2029 Fehler: Das neue Ende muss nach dem bisherigen Ende liegen."
    )
    page.get_by_label("Neues Ende der Ausbildung").fill("31.01.2030")
    page.get_by_label("Bemerkung (optional)").fill("Wiederholungsprüfung im Winter")
    page.get_by_role("button", name="Verlängerung eintragen").click()
    expect(page.get_by_role("status").filter(has_text="Die Verlängerung wurde eingetragen.")).to_be_visible()
    history = page.get_by_role("table", name="Verlauf")
    extended = history.get_by_role("row").filter(has_text="verlängert")
    expect(extended).to_contain_text("Ende bisher 31.07.2029")
    expect(extended).to_contain_text("Ende neu 31.01.2030")
    expect(extended).to_contain_text("Bemerkung: Wiederholungsprüfung im Winter")
    accessible(page)

    page.get_by_role("link", name="Vorzeitig lösen").click()
    page.get_by_label("Gelöst zum").fill("01.06.2027")
    page.get_by_label("Grund").select_option(label="Kündigung in der Probezeit")
    page.get_by_role("button", name="Lösung eintragen").click()
    expect(page.get_by_label("Grund")).to_have_accessible_description(
        re.compile("Fehler: Das Datum liegt nicht in der Probezeit.$")
    )
    accessible(page)
    page.get_by_label("Grund").select_option(label="Aufhebungsvertrag")
    page.get_by_role("button", name="Lösung eintragen").click()
    expect(page.locator("#daten-titel + dl")).to_contain_text(
        "vorzeitig gelöst am 01.06.2027 – Aufhebungsvertrag"
    )
    expect(page.get_by_role("link", name="Verlängern")).to_have_count(0)
    accessible(page)


def test_a_company_keeps_its_trainers_and_assigns_them(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    sign_in(page, portal, "company_admin")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Ausbilder/-in").click()
    table = page.get_by_role("table", name="Ausbilderinnen und Ausbilder")
    anna = table.get_by_role("row").filter(has_text="Anna Ausbilder")
    expect(anna).to_contain_text("ja")
    expect(anna.get_by_role("link", name="Lena Lernwillig")).to_be_visible()
    accessible(page)

    page.get_by_role("link", name="Ausbilder/-in hinzufügen").click()
    page.get_by_label("Vorname").fill("Clara")
    page.get_by_label("Nachname").fill("Chef")
    page.get_by_label("E-Mail-Adresse").fill("ausbilder@muster-maschinenbau.example")  # Anna's
    page.get_by_label("Ausbildereignung (AEVO) liegt vor").check()
    page.get_by_role("main").get_by_role("button", name="Ausbilder/-in hinzufügen").click()
    expect(page.get_by_label("E-Mail-Adresse")).to_have_accessible_description(
        "Fehler: Im Betrieb gibt es bereits eine/n Ausbilder/-in mit dieser E-Mail-Adresse."
    )
    accessible(page)
    page.get_by_label("E-Mail-Adresse").fill("clara.chef@muster-maschinenbau.example")
    page.get_by_role("main").get_by_role("button", name="Ausbilder/-in hinzufügen").click()
    expect(page.get_by_role("status").filter(has_text="wurde hinzugefügt")).to_be_visible()
    clara = table.get_by_role("row").filter(has_text="Clara Chef")
    expect(clara).to_contain_text("ja")

    # Anna still trains Lena: no removal, but a way to change that.
    anna.get_by_role("link", name="Bearbeiten (Anna Ausbilder)").click()
    expect(page.get_by_role("button", name=re.compile("entfernen$"))).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text("Ausbilder/-in wechseln")
    accessible(page)

    _open_contract(page, portal, "Lena Lernwillig")
    page.get_by_role("link", name="Ausbilder/-in wechseln").click()
    page.get_by_label("Neue/r Ausbilder/-in").select_option(label="Clara Chef")
    accessible(page)
    page.get_by_role("button", name="Ausbilder/-in ändern").click()
    expect(page.locator("#vertrag")).to_contain_text("Ausbilder/-inClara Chef")
    changed = page.get_by_role("table", name="Verlauf").get_by_role("row").filter(has_text="gewechselt")
    expect(changed).to_contain_text("bisher: Anna Ausbilder")
    expect(changed).to_contain_text("neu: Clara Chef")

    page.goto(portal.url + "/ausbilder")
    table.get_by_role("row").filter(has_text="Anna Ausbilder").get_by_role(
        "link", name=re.compile("^Bearbeiten")
    ).click()
    page.get_by_role("button", name="Anna Ausbilder entfernen").click()
    expect(page.get_by_role("status").filter(has_text="wurde entfernt")).to_be_visible()
    expect(table.get_by_role("row").filter(has_text="Anna Ausbilder")).to_have_count(0)
    accessible(page)


def test_a_company_publishes_in_the_atlas_and_visitors_find_it(
    browser: Browser, page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    sign_in(page, portal, "company_admin")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Ausbildungsatlas"
    ).click()
    expect(page.get_by_text("nicht veröffentlicht", exact=True)).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="Ausbildungsberuf anbieten").click()
    page.get_by_label("Ausbildungsberuf").select_option(label="Industriekaufmann/Industriekauffrau")
    page.get_by_label("Freie Ausbildungsplätze").fill("3")
    page.get_by_label("Postleitzahl").fill("3411")
    page.get_by_label("Ort").fill("Kassel")
    page.get_by_label("Website (optional)").fill("https://muster-maschinenbau.example/ausbildung")
    page.get_by_role("button", name="Eintrag speichern").click()
    expect(page.get_by_label("Postleitzahl")).to_have_accessible_description(
        "Fehler: Die Postleitzahl hat fünf Ziffern."
    )
    accessible(page)
    page.get_by_label("Postleitzahl").fill("34117")
    page.get_by_role("button", name="Eintrag speichern").click()
    expect(page.get_by_role("status").filter(has_text="wurde gespeichert")).to_be_visible()
    entries = page.get_by_role("table", name="Angebotene Ausbildungsberufe")
    expect(entries.get_by_role("row").filter(has_text="Industriekaufmann")).to_contain_text("34117 Kassel")
    page.get_by_label("Veröffentlichung im Ausbildungsatlas zustimmen").check()
    page.get_by_role("button", name="Zustimmung speichern").click()
    expect(
        page.get_by_role("status").filter(has_text="werden im Ausbildungsatlas veröffentlicht")
    ).to_be_visible()
    expect(page.get_by_label("Veröffentlichung im Ausbildungsatlas zustimmen")).to_be_checked()
    accessible(page)

    # Anyone, without login, at this width.
    visitor = browser.new_context(viewport=page.viewport_size, locale="de-DE")
    try:
        public = visitor.new_page()
        public.set_default_timeout(10_000)
        public.goto(portal.url + "/")
        public.get_by_role("navigation", name="Hauptnavigation").get_by_role(
            "link", name="Ausbildungsatlas"
        ).click()
        expect(public.get_by_role("heading", level=1, name="Ausbildungsatlas")).to_be_visible()
        accessible(public)
        search = public.get_by_role("search", name="Ausbildungsplätze suchen")
        search.get_by_role("button", name="Ausbildungsplätze suchen").click()
        expect(public.get_by_label("Ausbildungsberuf")).to_have_accessible_description(
            "Fehler: Bitte wählen Sie einen Eintrag im Feld „Ausbildungsberuf“ aus."
        )
        accessible(public)
        search.get_by_label("Ausbildungsberuf").select_option(label="Industriekaufmann/Industriekauffrau")
        search.get_by_label("PLZ oder Ort (optional)").fill("341")
        search.get_by_role("button", name="Ausbildungsplätze suchen").click()
        results = public.get_by_role("region", name=re.compile("^Ergebnisse"))
        expect(results.get_by_role("heading", level=3)).to_have_text(["Muster Maschinenbau GmbH"])
        expect(results).to_contain_text("3 Ausbildungsplätze")
        accessible(public)
        search.get_by_label("PLZ oder Ort (optional)").fill("")
        search.get_by_role("button", name="Ausbildungsplätze suchen").click()
        expect(results.get_by_role("heading", level=3)).to_have_text(
            ["Muster Maschinenbau GmbH", "Softwarehaus Fuldatal GmbH"]
        )
        accessible(public)
        expect(public.get_by_role("button", name="Abmelden")).to_have_count(0)
    finally:
        visitor.close()


def test_the_chamber_uploads_its_register_and_watches_the_progress(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    sign_in(page, portal, "clerk")
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name="Datenübermittlung"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Datenübermittlung")).to_be_visible()
    sample = page.context.request.get(
        portal.url + page.get_by_role("link", name="Musterdatei herunterladen (CSV)").get_attribute("href")
    )
    assert sample.status == 200 and sample.body() == SAMPLE_FILE.read_bytes()
    accessible(page)

    page.get_by_label("Datei (CSV oder Excel)").set_input_files(SAMPLE_FILE)
    page.get_by_role("button", name="Hochladen und übermitteln").click()
    expect(page.get_by_role("status").filter(has_text="Sie können diese Seite schließen")).to_be_visible()
    bar = page.get_by_role("progressbar", name="Fortschritt")
    expect(bar).to_be_visible()
    accessible(page)

    # The page refreshes itself (refresh.js): the bar fills, then the status line says it is done.
    seen: set[tuple[str | None, str | None]] = set()
    deadline = time.monotonic() + 30
    done = page.get_by_role("status").filter(has_text="Die Datenübermittlung ist abgeschlossen")
    while time.monotonic() < deadline and not done.is_visible():
        seen.add((bar.get_attribute("value"), bar.get_attribute("max")))
        page.wait_for_timeout(300)
    expect(done).to_be_visible()
    assert any(value not in (None, "0") and value != maximum for value, maximum in seen), seen
    expect(bar).to_have_attribute("value", "10")
    expect(bar).to_have_attribute("max", "10")
    expect(page.locator("#fortschritt")).to_contain_text("10 von 10 Zeilen verarbeitet (100 %)")
    expect(page.locator("#fortschritt")).to_contain_text("Nicht übernommen2")
    errors = page.get_by_role("table", name="Alle Fehler")
    expect(errors.get_by_role("row")).to_have_count(3)
    expect(errors.get_by_role("row").nth(1)).to_contain_text("Beruf")
    expect(errors.get_by_role("row").nth(1)).to_contain_text(
        "Unbekannter oder nicht mehr gültiger Ausbildungsberuf."
    )
    accessible(page)

    report = page.context.request.get(
        portal.url
        + page.get_by_role("link", name=re.compile("^Fehlerbericht herunterladen")).get_attribute("href")
    )
    assert report.status == 200 and report.headers["content-type"].startswith("text/csv")
    assert report.headers["content-disposition"].startswith("attachment")
    assert report.body().decode("utf-8-sig").splitlines()[0] == "Zeile;Spalte;Code;Fehler"

    page.get_by_role("link", name="Zurück zur Datenübermittlung").click()
    row = (
        page.get_by_role("table", name="Bisherige Datenübermittlungen")
        .get_by_role("row")
        .filter(has_text="datenuebermittlung-muster.csv")
    )
    expect(row).to_contain_text("abgeschlossen")
    expect(row).to_contain_text("8 neu, 0 aktualisiert, 0 unverändert, 2 Fehler")
    accessible(page)


def test_the_chamber_unlocks_an_account_and_reads_the_audit_log(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    """Zugangssperren (clerk) and Protokoll (chamber admin), at 1280 px and 375 px, with axe."""
    sign_in(page, portal, "clerk")
    navigation = page.get_by_role("navigation", name="Hauptnavigation")
    navigation.get_by_role("link", name="Zugangssperren").click()
    expect(page.get_by_role("heading", level=1, name="Zugangssperren")).to_be_visible()
    accessible(page)
    page.get_by_label("E-Mail-Adresse oder Azubinummer").fill("20170815")
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_text("gesperrt bis 25.11.2026 um 09:00 Uhr")).to_be_visible()
    accessible(page)
    page.get_by_role("button", name="Sperre aufheben").click()
    expect(page.get_by_text("Die Sperre wurde aufgehoben")).to_be_visible()
    expect(page.get_by_text("nicht gesperrt")).to_be_visible()
    accessible(page)
    page.get_by_label("E-Mail-Adresse oder Azubinummer").fill("niemand@example.org")
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_role("status")).to_contain_text("keinen Zugang")
    expect(navigation.get_by_role("link", name="Protokoll")).to_have_count(0)
    page.get_by_role("button", name="Abmelden").click()

    sign_in(page, portal, "chamber_admin")
    navigation.get_by_role("link", name="Protokoll").click()
    expect(page.get_by_role("heading", level=1, name="Protokoll")).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(7)  # the header and six entries
    accessible(page)
    page.get_by_label("Art").select_option(label="Zugang gesperrt (Fehlversuche)")
    page.get_by_label("Von (Datum)").fill("24.11.2026")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.get_by_role("row")).to_have_count(2)
    accessible(page)
    page.get_by_label("Bis (Datum)").fill("01.01.2026")
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.get_by_role("alert")).to_contain_text("Bitte korrigieren Sie die Suchangaben")
    accessible(page)


# -- access data: Account erstellen, Zugang freischalten, the chamber's Zugangsdaten ----------------


def test_a_company_creates_accounts_for_its_trainers_and_apprentices(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    sign_in(page, portal, "company_admin")
    page.goto(portal.url + "/ausbilder")
    row = page.get_by_role("row").filter(has_text="Anna Ausbilder")
    expect(row).to_contain_text("noch nicht angelegt")
    row.get_by_role("link", name="Account erstellen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Account erstellen: Anna Ausbilder")
    expect(page.get_by_label("E-Mail-Adresse")).to_have_value("ausbilder@muster-maschinenbau.example")
    accessible(page)
    page.get_by_label("E-Mail-Adresse").fill("keine-adresse")
    page.get_by_role("main").get_by_role("button", name="Account erstellen").click()
    expect(page.get_by_role("alert").first).to_contain_text("Bitte korrigieren Sie Ihre Angaben")
    accessible(page)
    page.get_by_label("E-Mail-Adresse").fill("anna.ausbilder@example.test")
    page.get_by_role("main").get_by_role("button", name="Account erstellen").click()
    expect(page.get_by_text("Der Account wurde erstellt.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Anna Ausbilder")).to_contain_text("eingeladen")
    accessible(page)
    assert portal.apis.invitations[-1][1] == "anna.ausbilder@example.test"

    page.goto(portal.url + "/ausbildungsverhaeltnisse")
    page.get_by_role(
        "link", name="Account erstellen für Maximiliane-Alexandra Schmidt-Müller-Lüdenscheidt"
    ).click()
    accessible(page)
    page.get_by_label("E-Mail-Adresse").fill("maximiliane@example.test")
    page.get_by_role("main").get_by_role("button", name="Account erstellen").click()
    expect(page.get_by_text("Der Account wurde erstellt.")).to_be_visible()
    assert portal.apis.invitations[-1] == ("20170815", "maximiliane@example.test")


def test_a_person_unlocks_a_company_with_the_access_letter(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    sign_in(page, portal, "trainer")
    expect(page.get_by_role("navigation").get_by_role("link", name="Ausbilder/-in")).to_have_count(0)
    page.get_by_role("main").get_by_role("link", name="Zugang freischalten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Zugang freischalten")
    accessible(page)
    page.get_by_label("Zugang für").select_option("company")
    page.get_by_label("Identnummer bzw. Azubinummer").fill("4712001")
    page.get_by_label("Aktivierungscode").fill("AAAA-BBBB-CCCC")
    page.get_by_role("main").get_by_role("button", name="Zugang freischalten").click()
    expect(page.get_by_role("alert").first).to_contain_text("Aktivierungscode ist ungültig")
    accessible(page)
    page.get_by_label("Aktivierungscode").fill("ABCD-EFGH-JKMN")
    page.get_by_role("main").get_by_role("button", name="Zugang freischalten").click()
    expect(page.get_by_text("Sie sind jetzt Administrator/-in des Betriebs 4712001")).to_be_visible()
    # The session took the new role at once: the company's pages are there, no new login.
    expect(page.get_by_role("navigation").get_by_role("link", name="Ausbilder/-in")).to_be_visible()
    accessible(page)


def test_the_chamber_fulfils_requests_and_prints_access_letters(
    page: Page, portal: Portal, accessible: Callable[[Page], None]
) -> None:
    sign_in(page, portal, "clerk")
    page.get_by_role("navigation").get_by_role("link", name="Zugangsdaten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Zugangsdaten")
    accessible(page)
    page.get_by_role("button", name="Neue Zugangsdaten erstellen für 4712999").click()
    expect(page.get_by_text("Neue Zugangsdaten für 4712999 wurden erstellt")).to_be_visible()
    expect(page.get_by_text("Keine offenen Anfragen.")).to_be_visible()
    link = page.get_by_role("link", name=re.compile("Anschreiben öffnen"))
    assert link.get_attribute("href", timeout=5000).startswith("/zugangsdaten/anschreiben/")
    response = page.request.get(portal.url + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    page.get_by_role("button", name=re.compile("Als gedruckt markieren")).click()
    expect(page.get_by_text("Keine Anschreiben zu drucken.")).to_be_visible()
    accessible(page)
