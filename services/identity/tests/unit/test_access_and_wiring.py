"""Access rules, the message bus wiring of the bootstrap, and secrets kept out of reprs."""

from __future__ import annotations

import dataclasses
import inspect
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chassis.config import MissingSecret, ServiceSettings
from chassis.domain import NotFound
from chassis.messagebus import MessageBus, _inject
from chassis.principal import Principal
from identity.bootstrap import bootstrap
from identity.domain import access, access_commands, account_commands, commands, grant_commands, queries
from identity.domain.access_commands import AcceptInvitation
from identity.domain.account_commands import ConfirmRegistration, Register
from identity.domain.commands import ActivateAccount, LogIn, ResetPassword
from identity.domain.model import (
    Account,
    AccountStatus,
    ActivationCodeUsed,
    InvalidActivation,
    NewActivationCode,
)
from identity.domain.queries import GetOwnAccount
from identity.service_layer import handlers

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def account(**overrides: object) -> Account:
    return Account(id=uuid.uuid4(), email="anna@example.org", name="Anna", **overrides)  # type: ignore[arg-type]


# -- access -----------------------------------------------------------------------------------
def test_a_caller_reads_their_own_account_only() -> None:
    mine, theirs = account(), account()
    me = Principal(subject=str(mine.id))
    assert access.readable_account(me, mine) is mine
    with pytest.raises(NotFound):
        access.readable_account(me, theirs)
    with pytest.raises(NotFound):
        access.readable_account(me, None)


def test_a_subject_that_is_no_account_id_finds_nothing() -> None:
    with pytest.raises(NotFound):
        access.own_account_id(Principal(subject="service-client"))


def test_accounts_me_through_the_bus(fake_uow) -> None:  # type: ignore[no-untyped-def]
    mine = account(status=AccountStatus.ACTIVE)
    fake_uow.accounts.add(mine)
    bus = MessageBus(
        lambda: fake_uow,  # type: ignore[arg-type, return-value]
        consumer_name="identity",
        command_handlers={GetOwnAccount: handlers.get_own_account},
    )
    assert bus.handle(GetOwnAccount(Principal(subject=str(mine.id)))) is mine
    with pytest.raises(NotFound):
        bus.handle(GetOwnAccount(Principal(subject=str(uuid.uuid4()))))


# -- the activation applied under the lock is the one that was verified -----------------------------
def test_an_activation_whose_code_was_replaced_meanwhile_fails(fast_hasher, code_hasher) -> None:  # type: ignore[no-untyped-def]
    pending = account()
    code = pending.issue_activation_code(NOW, timedelta(days=30), code_hasher)
    verified = pending.verify_activation(code, "Mein-neues-Passwort-2026", NOW, code_hasher)
    pending.accept_activation_code(NewActivationCode.generate(code_hasher), NOW, timedelta(days=30))
    with pytest.raises(InvalidActivation):
        pending.complete_activation(verified, fast_hasher.hash("Mein-neues-Passwort-2026"), NOW)
    assert pending.status is AccountStatus.PENDING_ACTIVATION


def test_a_concurrent_activation_with_the_same_code_wins_once(code_hasher) -> None:  # type: ignore[no-untyped-def]
    pending = account()
    code = pending.issue_activation_code(NOW, timedelta(days=30), code_hasher)
    first = pending.verify_activation(code, "Mein-neues-Passwort-2026", NOW, code_hasher)
    second = pending.verify_activation(code, "Ein-anderes-Passwort-2026", NOW, code_hasher)
    pending.complete_activation(first, "hash-1", NOW)
    with pytest.raises(ActivationCodeUsed):
        pending.complete_activation(second, "hash-2", NOW)
    assert pending.password_hash == "hash-1"
    assert pending.activation is not None and pending.activation.used_at == NOW


# -- wiring -------------------------------------------------------------------------------------------
def test_inject_binds_the_declared_dependencies_and_refuses_missing_ones() -> None:
    def handle(message: object, uow: object, *, clock: object) -> object:
        return clock

    assert _inject(handle, {"clock": "c", "hasher": "h"})(None, None) == "c"
    with pytest.raises(TypeError, match="clock"):
        _inject(handle, {"hasher": "h"})


def test_the_bootstrap_gives_every_message_its_handler(tmp_path: Path) -> None:
    settings = ServiceSettings.from_env(
        "identity",
        {
            "BP_DATA_DIR": str(tmp_path),
            "BP_MODE": "embedded",
            "IDENTITY_ARGON2_MEMORY_KIB": "64",
            "IDENTITY_ARGON2_PARALLELISM": "1",
        },
    )
    runtime = bootstrap(settings)  # no database is touched
    messages = {
        cls
        for module in (commands, queries, account_commands, access_commands, grant_commands)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__
    }
    assert messages == set(runtime.bus.command_handlers)
    assert sorted(runtime.bus.subscribed_event_types) == [
        "training.company.branch_assigned",
        "training.company.branch_reach_changed",
        "training.company.branch_removed",
        "training.company.changed",
        "training.company.registered",
        "training.contract.registered",
        "training.trainer.added",
        "training.trainer.changed",
        "training.trainer.removed",
    ]
    runtime.engine.dispose()


def test_outside_the_embedded_mode_every_identity_process_needs_the_code_hash_key(tmp_path: Path) -> None:
    # App, worker and migrate all start through the bootstrap: none issues or checks a code unkeyed.
    settings = ServiceSettings.from_env("identity", {"BP_DATA_DIR": str(tmp_path), "BP_MODE": "distributed"})
    with pytest.raises(MissingSecret, match=r"^IDENTITY_CODE_HASH_KEY is not set"):
        bootstrap(settings)
    assert not (tmp_path / "secrets").exists()


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        (LogIn("anna@example.org", "geheimes-Passwort"), "geheimes-Passwort"),
        (ActivateAccount("20260101", "ABCD-EFGH-JKMN", "geheimes-Passwort"), "ABCD-EFGH-JKMN"),
        (ResetPassword("reset-token-0123", "geheimes-Passwort"), "reset-token-0123"),
        (Register("Anna", "anna@example.org", "geheimes-Passwort"), "geheimes-Passwort"),
        (ConfirmRegistration("confirm-token-0123", "geheimes-Passwort"), "confirm-token-0123"),
        (AcceptInvitation("invitation-token-0123", "geheimes-Passwort"), "invitation-token-0123"),
    ],
)
def test_commands_keep_their_secrets_out_of_reprs(message: object, secret: str) -> None:
    assert secret not in repr(message)
    assert "geheimes-Passwort" not in repr(message)
    assert dataclasses.is_dataclass(message)
