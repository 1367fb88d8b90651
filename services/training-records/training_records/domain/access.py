"""Who may do and see what in the register (DESIGN §4): the one place its access rules live.

training-records owns the data, so it decides, from the token's claims and its own
records. Registering is for chamber clerks and administrators (403 for anyone else).
Everything not visible is left out of lists, and a single contract one may not see
is the same ``NotFound`` as one that does not exist, because whether a contract
exists is itself private.
"""

from __future__ import annotations

from dataclasses import dataclass

from chassis.domain import Forbidden, NotFound
from chassis.principal import CHAMBER_ROLES, Principal
from training_records.domain.queries import ContractView

# Who may enter contracts in the register (DESIGN §4: Sachbearbeitung and administrator).
REGISTRAR_ROLES = ("chamber_clerk", "chamber_admin")
# Company roles that handle contracts: Administrator and Verwalter (DESIGN §4).
# Ausbilder see record books of the apprentices assigned to them, not contracts.
CONTRACT_COMPANY_ROLES = ("admin", "manager")


def check_may_register(principal: Principal) -> None:
    if not principal.has_role(*REGISTRAR_ROLES):
        raise Forbidden("Only chamber staff may register training contracts.")


@dataclass(frozen=True)
class ContractVisibility:
    """The contracts a caller sees: all, those of some companies, and/or their own as apprentice."""

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

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.company_numbers)


def visible_contract(principal: Principal, contract: ContractView | None) -> ContractView:
    """The contract if ``principal`` may see it; unknown and invisible are the same NotFound."""
    if contract is None or not ContractVisibility.of(principal).allows(
        contract.company.company_number, contract.apprentice.apprentice_number
    ):
        raise NotFound("No such training contract.")
    return contract
