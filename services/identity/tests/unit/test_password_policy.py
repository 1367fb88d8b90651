"""The password rules (ASVS 5.0 V6.2): length, the shipped list of common passwords, nothing else."""

from __future__ import annotations

import pytest

from identity.domain.password_policy import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PasswordPolicyViolation,
    PasswordRule,
    check_password_policy,
    common_passwords,
)


def rule_broken_by(password: str, personal: tuple[str | None, ...] = ()) -> PasswordRule | None:
    try:
        check_password_policy(password, personal)
    except PasswordPolicyViolation as exc:
        assert exc.message  # a German sentence naming the rule
        return exc.rule
    return None


def test_the_shipped_list_is_loaded_once_and_is_the_real_one() -> None:
    listed = common_passwords()
    assert len(listed) > 25_000
    assert {"123456", "password", "qwerty", "1qaz2wsx3edc", "leavemealone"} <= listed
    assert not any(entry.startswith("#") for entry in listed)
    assert common_passwords() is listed


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("a" * (MIN_PASSWORD_LENGTH - 1), PasswordRule.TOO_SHORT),
        ("a" * (MAX_PASSWORD_LENGTH + 1), PasswordRule.TOO_LONG),
        ("1qaz2wsx3edc", PasswordRule.COMMON),
        ("LeaveMeAlone", PasswordRule.COMMON),  # case does not help
        ("password2024!", PasswordRule.COMMON),  # padded past the minimum
        ("dragondragon", PasswordRule.COMMON),  # repeated
        ("letmein letmein", PasswordRule.COMMON),
    ],
)
def test_refused(password: str, rule: PasswordRule) -> None:
    assert rule_broken_by(password) is rule


@pytest.mark.parametrize(
    "password",
    [
        "a" * MIN_PASSWORD_LENGTH + "Z",  # no composition rules: letters only is fine if not listed
        "pferd batterie heftklammer",
        "x" * (MAX_PASSWORD_LENGTH - 1) + "y",
        "Ünïcödé-Päßwörter sind erlaubt",
    ],
)
def test_accepted(password: str) -> None:
    assert rule_broken_by(password) is None


def test_own_address_name_or_number_is_refused() -> None:
    personal = ("paula.probst@example.org", "Paula Probst", "20260101")
    assert rule_broken_by("Paula.Probst@Example.org", personal) is PasswordRule.PERSONAL
    assert rule_broken_by("paula.probst", personal) is PasswordRule.PERSONAL
    assert rule_broken_by("Paula  PROBST", personal) is PasswordRule.PERSONAL
    assert rule_broken_by("Paula Probst sagt hallo", personal) is None
