"""Malformed and hostile bearer tokens, for tests that every service answers them with a 401.

Each entry is ``(name, authorization_header_value)``. Tokens come in three kinds: ones that
are not a JWS at all (bad segments, base64, JSON), ones whose JOSE header carries values no
service should trust or copy anywhere (control and non-Latin-1 characters, non-strings, huge
values, algorithm confusion), and ones correctly signed by the given issuer whose header or
claims are malformed. Some header values are not Latin-1; a WSGI test client passes them as
they are, a socket client sends them as UTF-8 (which a server then reads as Latin-1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from joserfc import jws
from joserfc.jwk import RSAKey

from chassis.testing.tokens import TestIssuer

# Characters an attacker puts into header fields: line breaks (CR, LF, NEL, U+2028/U+2029),
# NUL, a quote, a non-Latin-1 letter, a right-to-left override and a lone surrogate escape.
HOSTILE_TEXT = {
    "newline": "RS256\nX-Injected: 1",
    "crlf": "RS256\r\nSet-Cookie: a=b",
    "nel": "RS256\x85",
    "line-separator": "RS\u2028256",
    "paragraph-separator": "RS\u2029256",
    "nul": "RS256\x00",
    "quote": 'RS256", error="none',
    "euro": "RS256\u20ac",
    "rtl-override": "\u202eRS256",
    "emoji": "RS256\U0001f600",
    "long": "R" * 5000,
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_segment(value: Any) -> str:
    # ensure_ascii=False: the raw characters, not \u escapes, end up in the decoded header.
    return b64url(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def _claims(issuer: TestIssuer, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer.issuer,
        "aud": issuer.audience,
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return claims


def _signed(issuer: TestIssuer, header: dict[str, Any], claims: Any, key: RSAKey | None = None) -> str:
    payload = json.dumps(claims, ensure_ascii=False).encode("utf-8")
    return jws.serialize_compact(header, payload, key or issuer.key)


def malformed_tokens(issuer: TestIssuer) -> list[tuple[str, str]]:
    """``(name, token)`` pairs; none of them may authenticate anybody."""
    good = issuer.token("hostile-test")
    _, good_payload, good_signature = good.split(".")
    kid = issuer.key.kid

    def with_raw_header(header: bytes) -> str:
        return f"{b64url(header)}.{good_payload}.{good_signature}"

    def with_header(header: Any) -> str:
        return f"{_json_segment(header)}.{good_payload}.{good_signature}"

    tokens: list[tuple[str, str]] = [
        # Not a compact JWS.
        ("one segment", "garbage"),
        ("two segments", good.rsplit(".", 1)[0]),
        ("four segments", good + ".e30"),
        ("five segments (JWE shape)", "e30.e30.e30.e30.e30"),
        ("empty segments", ".."),
        ("empty signature", good.rsplit(".", 1)[0] + "."),
        ("dots only", "....."),
        ("space inside", good[:20] + " " + good[20:]),
        ("tab inside", good[:20] + "\t" + good[20:]),
        ("nul inside", good[:20] + "\x00" + good[20:]),
        ("huge", "e30." + "A" * 1_000_000 + ".c2ln"),
        ("huge header segment", _json_segment({"alg": "RS256", "x": "A" * 200_000}) + ".e30.c2ln"),
        # Bad base64.
        ("base64 with illegal characters", f"!!!.{good_payload}.{good_signature}"),
        ("base64 with padding", b64url(b'{"alg":"RS256"}') + f"=.{good_payload}.{good_signature}"),
        ("base64 of impossible length", f"eyJhb.{good_payload}.{good_signature}"),
        ("standard base64 alphabet", good.replace("-", "+").replace("_", "/") + "+/"),
        ("non-ASCII in the token", f"eyJ\u00e4.{good_payload}.{good_signature}"),
        ("non-Latin-1 in the token", f"eyJ\u2028.{good_payload}.{good_signature}"),
        # Bad JSON in the header.
        ("header not JSON", with_raw_header(b"{")),
        ("header invalid UTF-8", with_raw_header(b"\xff\xfe{}")),
        ("header JSON list", with_header([1, 2])),
        ("header JSON string", with_header("RS256")),
        ("header JSON null", with_header(None)),
        ("header JSON number", with_raw_header(b"1e999999")),
        ("header deeply nested", with_raw_header(b"[" * 100_000 + b"]" * 100_000)),
        ("header NaN", with_raw_header(b'{"alg": NaN}')),
        # alg and kid of the wrong type or value.
        ("alg missing", with_header({"kid": kid})),
        ("alg number", with_header({"alg": 256, "kid": kid})),
        ("alg null", with_header({"alg": None, "kid": kid})),
        ("alg list", with_header({"alg": ["RS256"], "kid": kid})),
        ("alg object", with_header({"alg": {"RS256": True}, "kid": kid})),
        ("alg none", with_header({"alg": "none", "kid": kid})),
        ("alg HS256 (key confusion)", with_header({"alg": "HS256", "kid": kid})),
        ("alg lower case", with_header({"alg": "rs256", "kid": kid})),
        ("kid number", with_header({"alg": "RS256", "kid": 7})),
        ("kid list", with_header({"alg": "RS256", "kid": [kid]})),
        ("kid object", with_header({"alg": "RS256", "kid": {"kid": kid}})),
        ("kid empty", with_header({"alg": "RS256", "kid": ""})),
        ("kid unknown", with_header({"alg": "RS256", "kid": "unknown-key"})),
        ("crit with a newline", with_header({"alg": "RS256", "kid": kid, "crit": ["x\nX-Injected: 1"]})),
        ("crit not a list", with_header({"alg": "RS256", "kid": kid, "crit": "exp"})),
        ("jku to elsewhere", with_header({"alg": "RS256", "jku": "http://127.0.0.1:9/jwks"})),
    ]
    for label, text in HOSTILE_TEXT.items():
        tokens.append((f"alg {label}", with_header({"alg": text, "kid": kid})))
        tokens.append((f"kid {label}", with_header({"alg": "RS256", "kid": text})))
        tokens.append((f"typ {label}", with_header({"alg": "RS256", "kid": kid, "typ": text})))

    # Correctly signed by the trusted key: the signature holds, the content does not.
    tokens += [
        (
            "signed, kid with a line separator",
            _signed(issuer, {"alg": "RS256", "kid": f"{kid}\u2028"}, _claims(issuer)),
        ),
        (
            "signed, typ with a line separator",
            _signed(issuer, {"alg": "RS256", "kid": kid, "typ": "JWT\u2028"}, _claims(issuer)),
        ),
        (
            "signed, crit extension",
            _signed(issuer, {"alg": "RS256", "kid": kid, "crit": ["b64"], "b64": True}, _claims(issuer)),
        ),
        ("signed, claims a list", _signed(issuer, {"alg": "RS256", "kid": kid}, [1, 2])),
        ("signed, claims not JSON", jws.serialize_compact({"alg": "RS256", "kid": kid}, b"{", issuer.key)),
        (
            "signed, sub an object",
            _signed(issuer, {"alg": "RS256", "kid": kid}, _claims(issuer, sub={"id": 1})),
        ),
        ("signed, sub null", _signed(issuer, {"alg": "RS256", "kid": kid}, _claims(issuer, sub=None))),
        (
            "signed, exp a string",
            _signed(issuer, {"alg": "RS256", "kid": kid}, _claims(issuer, exp="tomorrow")),
        ),
        ("signed, aud a number", _signed(issuer, {"alg": "RS256", "kid": kid}, _claims(issuer, aud=5))),
        (
            "signed, iss a list",
            _signed(issuer, {"alg": "RS256", "kid": kid}, _claims(issuer, iss=[issuer.issuer])),
        ),
        ("signed, roles a number", _signed(issuer, {"alg": "RS256", "kid": kid}, _claims(issuer, roles=5))),
        (
            "signed, company_roles a list",
            _signed(issuer, {"alg": "RS256", "kid": kid}, _claims(issuer, company_roles=["a"])),
        ),
        (
            "signed, company_roles values numbers",
            _signed(issuer, {"alg": "RS256", "kid": kid}, _claims(issuer, company_roles={"4711001": 5})),
        ),
        ("signed by an untrusted key that the header carries", _embedded_key_token(issuer)),
    ]
    return tokens


def _embedded_key_token(issuer: TestIssuer) -> str:
    attacker = RSAKey.generate_key(2048, parameters={"kid": str(issuer.key.kid)})
    header = {"alg": "RS256", "kid": issuer.key.kid, "jwk": attacker.as_dict(private=False)}
    return _signed(issuer, header, _claims(issuer, roles=["chamber_admin"]), key=attacker)


def malformed_authorization_headers(issuer: TestIssuer) -> list[tuple[str, str]]:
    """``(name, Authorization header value)``: every malformed token, plus broken headers themselves."""
    headers = [(name, f"Bearer {token}") for name, token in malformed_tokens(issuer)]
    headers += [
        ("scheme only", "Bearer"),
        ("scheme and blanks", "Bearer    "),
        ("other scheme", "Basic dXNlcjpwYXNz"),
        ("no scheme", issuer.token("hostile-test")),
        ("two tokens", f"Bearer {issuer.token('a')} {issuer.token('b')}"),
        ("Latin-1 bytes", "Bearer \xff\xfe\xe4\xf6"),
        ("non-Latin-1 characters", "Bearer \u20ac\u2028\U0001f600"),
        ("line separator after the scheme", "Bearer\u2028" + issuer.token("a")),
        ("control characters", "Bearer \x01\x02\x1b[31m"),
    ]
    return headers


def _decode_segment(segment: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))


def tampered_tokens(genuine: str, signing_key: RSAKey) -> list[tuple[str, str]]:
    """``(name, token)`` pairs made from a token the real issuer signed, and its real key (tests
    hold it): each forges or bends one thing, so none may authenticate anybody. The genuine
    token must still be accepted (the caller checks), or these refusals prove nothing."""
    header_segment, claims_segment, signature = genuine.split(".")
    header, claims = _decode_segment(header_segment), _decode_segment(claims_segment)
    kid = header["kid"]
    now = int(time.time())
    public_pem = signing_key.as_pem(private=False)
    public_jwk = json.dumps(signing_key.as_dict(private=False)).encode()

    def signed(new_claims: dict[str, Any], key: RSAKey = signing_key, **header_fields: Any) -> str:
        payload = json.dumps(new_claims).encode()
        return jws.serialize_compact({"alg": "RS256", "kid": kid, **header_fields}, payload, key)

    def hmac_signed(secret: bytes) -> str:
        # What a library that trusts the header's alg would verify with the RSA public key as
        # the HMAC secret (algorithm confusion, CVE-2015-9235 and kin). Signed by hand: JOSE
        # libraries rightly refuse a public key as HMAC secret.
        signing_input = f"{_json_segment({'alg': 'HS256', 'kid': kid})}.{_json_segment(elevated)}"
        mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(mac)}"

    elevated = {**claims, "roles": ["chamber_admin"]}
    foreign = RSAKey.generate_key(2048, parameters={"kid": kid})
    return [
        ("alg none, no signature", f"{_json_segment({'alg': 'none', 'kid': kid})}.{_json_segment(claims)}."),
        (
            "alg none, signature kept",
            f"{_json_segment({'alg': 'none', 'kid': kid})}.{_json_segment(claims)}.{signature}",
        ),
        ("HS256 keyed with the public key (PEM)", hmac_signed(public_pem)),
        ("HS256 keyed with the public key (JWK)", hmac_signed(public_jwk)),
        (
            "payload modified, signature kept",
            f"{_json_segment(header)}.{_json_segment(elevated)}.{signature}",
        ),
        (
            "subject changed, signature kept",
            f"{_json_segment(header)}.{_json_segment({**claims, 'sub': str(uuid.uuid4())})}.{signature}",
        ),
        (
            "signature of another payload",
            f"{_json_segment(header)}.{_json_segment(claims)}.{b64url(b'x' * 256)}",
        ),
        ("signed by a foreign key under the real kid", signed(elevated, foreign)),
        ("expired (real key)", signed({**claims, "iat": now - 7200, "exp": now - 3600})),
        ("wrong audience (real key)", signed({**claims, "aud": "another-audience"})),
        ("wrong issuer (real key)", signed({**claims, "iss": "https://attacker.example/auth"})),
        ("no expiry (real key)", signed({k: v for k, v in claims.items() if k != "exp"})),
        ("no subject (real key)", signed({k: v for k, v in claims.items() if k != "sub"})),
    ]
