"""The public addresses of identity's pages that mails point to (under the issuer)."""

from __future__ import annotations

from dataclasses import dataclass

PASSWORD_RESET_PATH = "/password/reset/"  # noqa: S105 - a path, not a secret
PASSWORD_FORGOTTEN_PATH = "/password/forgotten"  # noqa: S105 - a path, not a secret
REGISTRATION_CONFIRM_PATH = "/register/confirm/"


@dataclass(frozen=True)
class AccountLinks:
    issuer: str

    @property
    def password_forgotten(self) -> str:
        return self.issuer + PASSWORD_FORGOTTEN_PATH

    def password_reset(self, token: str) -> str:
        return self.issuer + PASSWORD_RESET_PATH + token

    def registration_confirm(self, token: str) -> str:
        return self.issuer + REGISTRATION_CONFIRM_PATH + token
