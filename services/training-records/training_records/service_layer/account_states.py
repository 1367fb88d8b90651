"""The accounts identity created for a company's people (Account erstellen), as their lists show them.

identity announces ``identity.account.invited`` when a company's Administrator or Verwalter
created an account: ``invited`` while its link awaits the password, ``active`` when the person
already had an active account. The apprentice's state is kept by Azubinummer, the trainer's by
trainer; states only move forward, so events may arrive in any order and more than once. The
bootstrap merges ``EVENT_HANDLERS`` into the bus.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chassis.contracts.identity import AccountInvited
from chassis.events.incoming import IncomingEvent
from training_records.domain.model import AccountState, ApprenticeAccount, TrainerAccount
from training_records.service_layer.unit_of_work import TrainingRecordsUnitOfWork


def account_invited(event: IncomingEvent[AccountInvited], uow: TrainingRecordsUnitOfWork) -> None:
    data = event.payload
    state = AccountState.ACTIVE if data.account_status == "active" else AccountState.INVITED
    with uow:
        if data.apprentice_number is not None:
            account = uow.accounts.get(data.apprentice_number)
            if account is None:
                uow.accounts.add(ApprenticeAccount(data.apprentice_number, data.account_id, state))
            elif state is AccountState.ACTIVE:
                account.state = AccountState.ACTIVE
            else:
                account.mark_invited()
        if data.trainer_id is not None:
            trainer_account = uow.trainer_accounts.get(data.trainer_id)
            if trainer_account is None:
                uow.trainer_accounts.add(TrainerAccount(data.trainer_id, data.account_id, state))
            else:
                trainer_account.mark(state, data.account_id)
        uow.commit()


COMMAND_HANDLERS: Mapping[type, Callable[..., Any]] = {}
EVENT_HANDLERS: Mapping[str, Callable[..., None]] = {AccountInvited.TYPE: account_invited}
