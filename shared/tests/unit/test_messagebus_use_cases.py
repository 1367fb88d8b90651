"""collect_use_cases: a service's handler maps, merged from its use-case modules."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import pytest

from chassis.messagebus import collect_use_cases
from chassis.messages import Command


@dataclass(frozen=True)
class Ping(Command):
    pass


def module(name: str, commands: dict, events: dict) -> ModuleType:
    made = ModuleType(name)
    made.COMMAND_HANDLERS = commands  # type: ignore[attr-defined]
    made.EVENT_HANDLERS = events  # type: ignore[attr-defined]
    return made


def handler(*_: object) -> None:
    return None


def test_the_maps_of_every_module_are_merged() -> None:
    collected = collect_use_cases(
        [module("a", {Ping: handler}, {}), module("b", {}, {"x.y": handler, "x.z": handler})]
    )
    assert collected.command_handlers == {Ping: handler}
    assert set(collected.event_handlers) == {"x.y", "x.z"}


def test_a_message_handled_in_two_modules_stops_the_start() -> None:
    with pytest.raises(TypeError, match=r"x\.y"):
        collect_use_cases([module("a", {}, {"x.y": handler}), module("b", {}, {"x.y": handler})])
    with pytest.raises(TypeError, match="Ping"):
        collect_use_cases([module("a", {Ping: handler}, {}), module("b", {Ping: handler}, {})])
