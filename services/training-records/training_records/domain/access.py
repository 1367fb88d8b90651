"""Who may do and see what in the register (DESIGN §4): the one place its access rules live.

training-records owns the data, so it decides, from the token's claims and its own
records. Registering is for chamber clerks and administrators (403 for anyone else).
Everything not visible is left out of lists, and a single contract one may not see
is the same ``NotFound`` as one that does not exist, because whether a contract
exists is itself private.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chassis.domain import Forbidden, NotFound
from chassis.principal import CHAMBER_ROLES, Principal
from training_records.domain.queries import ContractView

# A head office's branches, for those of the caller's companies whose reach the chamber switched on
# (loaded by the handler from the register: {head office number: branch numbers}).
BranchReach = Mapping[str, Iterable[str]]
NO_REACH: BranchReach = {}
# Who maintains the occupation catalogue.
CATALOGUE_ROLES = ("chamber_admin",)
# Company roles that maintain the company's trainers and its Ausbildungsatlas entries.
COMPANY_MAINTAINER_ROLES = ("admin", "manager")

# Who may enter contracts in the register (DESIGN §4: Sachbearbeitung and administrator).
REGISTRAR_ROLES = ("chamber_clerk", "chamber_admin")
# Company roles that handle contracts: Administrator and Verwalter (DESIGN §4).
# Ausbilder see record books of the apprentices assigned to them, not contracts.
CONTRACT_COMPANY_ROLES = ("admin", "manager")


def _require_registrar(principal: Principal, what: str) -> None:
    if not principal.has_role(*REGISTRAR_ROLES):
        raise Forbidden(f"Only chamber staff may {what}.")


def check_may_register(principal: Principal) -> None:
    _require_registrar(principal, "register training contracts")


def check_may_keep_register(principal: Principal) -> None:
    """Companies, branches and the steps of a contract's life are the chamber's to enter."""
    _require_registrar(principal, "change the register")


def check_may_import(principal: Principal) -> None:
    _require_registrar(principal, "import the chamber's data")


def check_may_edit_catalogue(principal: Principal) -> None:
    if not principal.has_role(*CATALOGUE_ROLES):
        raise Forbidden("Only chamber administrators may change the occupation catalogue.")


def acting_companies(principal: Principal, roles: Iterable[str], reach: BranchReach) -> frozenset[str]:
    """The companies ``principal`` holds one of ``roles`` in, plus the branches of those of them
    that are head offices with reach."""
    own = {number for number in principal.company_numbers if principal.has_company_role(number, *roles)}
    branches = {branch for head in own for branch in reach.get(head, ())}
    return frozenset(own | branches)


def check_may_maintain_company(
    principal: Principal, company_number: str, reach: BranchReach = NO_REACH
) -> None:
    """Trainers and atlas entries: chamber staff, or the company's administrators and Verwalter
    (a head office's too, with reach). Others learn nothing about the company: 404."""
    if principal.has_role(*REGISTRAR_ROLES):
        return
    if company_number in acting_companies(principal, COMPANY_MAINTAINER_ROLES, reach):
        return
    # Whoever may see the company (other chamber staff, its trainers) learns why: 403.
    if principal.roles & CHAMBER_ROLES or company_number in acting_companies(
        principal, ("admin", "manager", "trainer"), reach
    ):
        raise Forbidden("Only the company's administrators and Verwalter may change this.")
    raise NotFound("No such company.")


def check_may_see_company(principal: Principal, company_number: str, reach: BranchReach = NO_REACH) -> None:
    if principal.roles & CHAMBER_ROLES:
        return
    if company_number not in acting_companies(principal, ("admin", "manager", "trainer"), reach):
        raise NotFound("No such company.")


def check_may_change_contract(
    principal: Principal, kind: str, contract: ContractView, reach: BranchReach
) -> None:
    """Chamber staff enter every step; a company's administrators and Verwalter may only change
    the trainer of their own contracts. Invisible contracts are NotFound."""
    visible = visible_contract(principal, contract, reach)
    if principal.has_role(*REGISTRAR_ROLES):
        return
    if kind == "trainer_changed" and visible.company.company_number in acting_companies(
        principal, CONTRACT_COMPANY_ROLES, reach
    ):
        return
    raise Forbidden("Only chamber staff may record this change of the contract.")


@dataclass(frozen=True)
class ContractVisibility:
    """The contracts a caller sees: all, those of some companies, and/or their own as apprentice."""

    everything: bool = False
    company_numbers: frozenset[str] = frozenset()
    apprentice_number: str | None = None

    @classmethod
    def of(cls, principal: Principal, reach: BranchReach = NO_REACH) -> ContractVisibility:
        if principal.roles & CHAMBER_ROLES:
            return cls(everything=True)
        return cls(
            company_numbers=acting_companies(principal, CONTRACT_COMPANY_ROLES, reach),
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
    def of(cls, principal: Principal, reach: BranchReach = NO_REACH) -> CompanyVisibility:
        if principal.roles & CHAMBER_ROLES:
            return cls(everything=True)
        # Any role in a company (trainers included) may see that company's master data.
        return cls(company_numbers=acting_companies(principal, ("admin", "manager", "trainer"), reach))

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.company_numbers)


def visible_contract(
    principal: Principal, contract: ContractView | None, reach: BranchReach = NO_REACH
) -> ContractView:
    """The contract if ``principal`` may see it; unknown and invisible are the same NotFound."""
    if contract is None or not ContractVisibility.of(principal, reach).allows(
        contract.company.company_number, contract.apprentice.apprentice_number
    ):
        raise NotFound("No such training contract.")
    return contract
