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
    assert set(runtime.handlers) == consumed_by(service)


def _emitted_types(package_dir: Path) -> set[str]:
    """Event types passed as string literals to ``.emit(...)`` anywhere in the package."""
    found = set()
    for path in package_dir.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            node.targets[0].id: node.value.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "emit" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
                elif isinstance(first, ast.Name) and first.id in constants:
                    found.add(constants[first.id])
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

    base = ServiceSettings.from_env(service, env={"BP_DATA_DIR": tempfile.mkdtemp()})
    return dataclasses.replace(base, database_url="sqlite://")
