"""Malformed and hostile tokens are refused with a 401 whose headers carry nothing of the token."""

from __future__ import annotations

import time

import pytest
from joserfc.jwk import KeySet

from chassis.auth import INVALID_TOKEN_CHALLENGE, TokenValidator, invalid_token
from chassis.problems import ProblemError
from chassis.testing.hostile_tokens import HOSTILE_TEXT, malformed_tokens
from chassis.testing.tokens import TestIssuer

ISSUER = TestIssuer()
TOKENS = malformed_tokens(ISSUER)


def test_the_challenge_is_a_fixed_safe_header_value() -> None:
    assert INVALID_TOKEN_CHALLENGE == 'Bearer error="invalid_token"'


@pytest.fixture(scope="module")
def validator() -> TokenValidator:
    return ISSUER.validator()


@pytest.mark.parametrize(("name", "token"), TOKENS, ids=[name for name, _ in TOKENS])
def test_malformed_token_is_refused_with_a_fixed_challenge(
    validator: TokenValidator, name: str, token: str
) -> None:
    started = time.monotonic()
    with pytest.raises(ProblemError) as raised:
        validator.validate(token)
    assert time.monotonic() - started < 2.0, f"{name}: validation took too long"
    problem = raised.value
    assert problem.status == 401
    assert problem.problem_type == "invalid-token"
    assert problem.headers == {"WWW-Authenticate": INVALID_TOKEN_CHALLENGE}
    assert problem.detail == "A valid access token is required."


def test_a_valid_token_still_passes(validator: TokenValidator) -> None:
    assert validator.validate(ISSUER.token("u1", roles=["chamber_clerk"])).subject == "u1"


@pytest.mark.parametrize("text", list(HOSTILE_TEXT.values()), ids=list(HOSTILE_TEXT))
def test_invalid_token_never_copies_its_reason_into_the_response(text: str) -> None:
    problem = invalid_token(f"No key for kid: {text!s}")
    assert problem.headers == {"WWW-Authenticate": INVALID_TOKEN_CHALLENGE}
    assert text not in (problem.detail or "")


def test_unknown_key_id_refetches_the_key_set_but_shape_errors_do_not() -> None:
    calls: list[bool] = []

    def keys(force: bool = False) -> KeySet:
        calls.append(force)
        return ISSUER.key_set

    validator = TokenValidator(keys, issuer=ISSUER.issuer, audience=ISSUER.audience)
    for _name, token in TOKENS[:20]:  # not a JWS, bad base64, bad JSON
        with pytest.raises(ProblemError):
            validator.validate(token)
    assert calls == [], "a token that is not even a JWS must not reach the key set"
    rotated = TestIssuer()
    with pytest.raises(ProblemError):
        validator.validate(rotated.token("u1"))
    assert calls == [False, True]
