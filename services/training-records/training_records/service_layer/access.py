"""Who may see what in the register (DESIGN §4), decided from token claims.

training-records owns the data, so it decides. Everything not granted here is
invisible: lists leave it out and single reads answer 404, because whether a
contract exists is itself private.
"""

from __future__ import annotations

from dataclasses import dataclass

from chassis.auth import CHAMBER_ROLES, Principal

# Company roles that handle contracts: Administrator and Verwalter (DESIGN §4).
# Ausbilder see record books of the apprentices assigned to them, not contracts.
CONTRACT_COMPANY_ROLES = ("admin", "manager")


@dataclass(frozen=True)
class ContractVisibility:
    everything: bool = False
    company_numbers: frozenset[str] = frozenset()
    apprentice_number: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> ContractVisibility:
        if principal.roles & CHAMBER_ROLES:
            return cls(everything=True)
        return cls(
            company_numbers=frozenset(
                number
                for number in principal.company_numbers
                if principal.has_company_role(number, *CONTRACT_COMPANY_ROLES)
            ),
            # identity puts the Azubinummer into an apprentice's token: their own contracts.
            apprentice_number=principal.apprentice_number or None,
        )

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.company_numbers or self.apprentice_number)

    def allows(self, company_number: str, apprentice_number: str | None) -> bool:
        if self.everything or company_number in self.company_numbers:
            return True
        return self.apprentice_number is not None and apprentice_number == self.apprentice_number


@dataclass(frozen=True)
class CompanyVisibility:
    everything: bool = False
    company_numbers: frozenset[str] = frozenset()

    @classmethod
    def of(cls, principal: Principal) -> CompanyVisibility:
        if principal.roles & CHAMBER_ROLES:
            return cls(everything=True)
        # Any role in a company (trainers included) may see that company's master data.
        return cls(company_numbers=principal.company_numbers)
