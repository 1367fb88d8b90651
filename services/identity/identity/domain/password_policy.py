"""The password rules (OWASP ASVS 5.0 V6.2): length and the list of common passwords, nothing else.

- at least 12 characters (V6.2.1), at most 128 (V6.2.9: long passphrases welcome);
- not one of the common and breached passwords shipped in ``identity/data``
  (V6.2.4; the list and its source: ``scripts/build_common_passwords.py``), nor one
  of them padded with digits or symbols or repeated (``password2024!``);
- not the person's own e-mail address, login or name (V6.2.11);
- no composition rules (V6.2.5): no "one digit, one capital".

``check_password_policy`` is the one check every flow calls wherever a password is
set (activation, registration, reset, invitations...). The violation names its rule,
so that a page can say in German which one was broken.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from importlib import resources

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128

COMMON_PASSWORDS_FILE = "common_passwords.txt"


class PasswordRule(enum.StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    PERSONAL = "personal"


# German, for the forms: each names the rule that was broken.
RULE_MESSAGES: dict[PasswordRule, str] = {
    PasswordRule.TOO_SHORT: f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen lang sein.",
    PasswordRule.TOO_LONG: f"Das Passwort darf höchstens {MAX_PASSWORD_LENGTH} Zeichen lang sein.",
    PasswordRule.COMMON: (
        "Dieses Passwort ist zu bekannt: Es steht auf einer Liste häufig verwendeter oder bei "
        "Datenlecks veröffentlichter Passwörter. Bitte wählen Sie ein anderes, z. B. einen Satz aus "
        "mehreren Wörtern."
    ),
    PasswordRule.PERSONAL: "Das Passwort darf nicht Ihre E-Mail-Adresse, Ihr Name oder Ihre Azubinummer sein.",
}

# What the forms say before anyone types: the rules, plainly.
PASSWORD_HINT = (
    f"Mindestens {MIN_PASSWORD_LENGTH} Zeichen. Bekannte oder leicht zu erratende Passwörter "
    "sind nicht erlaubt; ein Satz aus mehreren Wörtern ist ein gutes Passwort."
)


class PasswordPolicyViolation(Exception):
    """A new password breaks a rule; ``rule`` says which, ``message`` says it in German."""

    def __init__(self, rule: PasswordRule) -> None:
        super().__init__(rule.value)
        self.rule = rule

    @property
    def message(self) -> str:
        return RULE_MESSAGES[self.rule]


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once per process (lower-case; ``#`` lines are its header)."""
    text = resources.files("identity.data").joinpath(COMMON_PASSWORDS_FILE).read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def _normalised(value: str) -> str:
    return "".join(value.split()).lower()


_PADDING = "0123456789!?.,-_#*+$%&@ "


def _variants(password: str) -> set[str]:
    """The forms in which a listed password is commonly lengthened past the minimum.

    Checked against the list: the password itself, without spaces, without digits and
    symbols padded onto its ends (``password2024!``), and its repeated unit
    (``passwordpassword``). A padded or doubled common password is as guessable as
    the common one: guessing tools try exactly these variations first.
    """
    folded = password.lower()
    squeezed = _normalised(password)
    variants = {folded, squeezed, squeezed.strip(_PADDING)}
    for size in range(1, len(squeezed) // 2 + 1):
        if len(squeezed) % size == 0 and squeezed[:size] * (len(squeezed) // size) == squeezed:
            variants.add(squeezed[:size])
            break
    return {variant for variant in variants if len(variant) >= 4}


def check_password_policy(password: str, personal: Iterable[str | None] = ()) -> None:
    """Raise ``PasswordPolicyViolation`` unless ``password`` may be set.

    ``personal``: the account's e-mail, login, name, Azubinummer, where known.
    Length counts characters (code points), spaces included; nothing is trimmed.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyViolation(PasswordRule.TOO_SHORT)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyViolation(PasswordRule.TOO_LONG)
    if not _variants(password).isdisjoint(common_passwords()):
        raise PasswordPolicyViolation(PasswordRule.COMMON)
    own: set[str] = set()
    for value in personal:
        if value:
            own.add(_normalised(value))
            own.add(_normalised(value.split("@")[0]))  # an e-mail's local part
    if _normalised(password) in own:
        raise PasswordPolicyViolation(PasswordRule.PERSONAL)
