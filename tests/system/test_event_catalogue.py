"""The event catalogue stays true: the rendered document, the producers and the consumers."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from chassis.events.catalogue import CATALOGUE, consumed_by, produced_by, render_markdown
from gateway.routes import backend_services

ROOT = Path(__file__).resolve().parents[2]
# The five backend services and their packages, from the one route table.
SERVICES = {name: route.package for name, route in backend_services().items()}


def test_docs_events_md_is_rendered_from_the_catalogue() -> None:
    assert (ROOT / "docs" / "events.md").read_text(encoding="utf-8") == render_markdown(), (
        "docs/events.md is stale: run `python -m chassis.events.catalogue > docs/events.md`"
    )


def test_catalogue_names_only_known_services() -> None:
    for contract in CATALOGUE:
        assert contract.producer in SERVICES
        assert set(contract.consumers) <= set(SERVICES)
        assert contract.producer not in contract.consumers


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_consumes_exactly_what_the_catalogue_says(service: str) -> None:
    bootstrap = importlib.import_module(f"{SERVICES[service]}.bootstrap")
    runtime = bootstrap.bootstrap(_settings(service))
    assert set(runtime.bus.subscribed_event_types) == consumed_by(service)


def _emitted_types(package_dir: Path) -> set[str]:
    """Event types whose typed payload the package constructs (``uow.emit(ContractRegistered(...))``).

    Producers build the catalogue's payload classes; consumers only read them, so a
    constructor call of a payload class is what marks a producer.
    """
    by_class = {contract.payload_class.__name__: contract.type for contract in CATALOGUE}
    found = set()
    for path in package_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in by_class:
                found.add(by_class[name])
    return found


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_emits_only_what_it_produces(service: str) -> None:
    package = importlib.import_module(SERVICES[service])
    package_dir = Path(package.__file__).parent
    emitted = _emitted_types(package_dir)
    assert emitted <= produced_by(service), f"{service} emits events the catalogue does not give it"
    assert produced_by(service) <= emitted, f"{service} is catalogued as producer of events it never emits"


def _settings(service: str):  # type: ignore[no-untyped-def]
    import dataclasses
    import tempfile

    from chassis.config import ServiceSettings

    # BP_MODE=embedded: secrets are generated under the data directory (chassis.config.require_secret).
    base = ServiceSettings.from_env(service, env={"BP_DATA_DIR": tempfile.mkdtemp(), "BP_MODE": "embedded"})
    return dataclasses.replace(base, database_url="sqlite://")
