"""Every project declares what it imports; every version is pinned once; uv.lock holds the pins.

The workspace (the root pyproject.toml) has one lock, uv.lock. A member's [project] tables name the
packages its code imports, without versions; the root's [tool.uv] constraint-dependencies pins each
of them exactly once. tests/ (each project's and the root's) and bench/ are the root's dev
dependency group. An import may come from one of the project's extras only where the project still
imports without that extra: inside a function (a lazy import), or in a module that belongs to the
extra (EXTRA_MODULES); test_a_project_imports_without_its_extras proves it by importing every module
with the extras' packages blocked.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOT_PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
DEV_GROUP = "dev"

# Modules whose module-level imports may come from one of their project's extras: the extra is the
# price of importing them (test_a_project_imports_without_its_extras shows no other module needs them).
EXTRA_MODULES = {"chassis.testing": "testing"}

# Declared, never imported: what they do happens outside an import statement.
NOT_IMPORTED = {
    "gunicorn": "the Dockerfiles' CMD and gateway.distributed run it",
    "tzdata": "zoneinfo's data where the OS has none (slim images)",
    "pytest-timeout": "a pytest plugin (timeout = 300 in the pytest config)",
    "ruff": "make lint",
    "mypy": "make lint",
    "import-linter": "make lint",
    "types-pyyaml": "stubs for mypy",
    "types-requests": "stubs for mypy",
    "uv": "scripts/bootstrap.sh and `uv lock`",
}

# A requirement as the workspace writes it: a name and extras, no version or marker.
NAME_ONLY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[(?P<extras>[A-Za-z0-9._,\s-]+)\])?$")
EXACT_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[0-9][0-9A-Za-z.+!-]*)$")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(text: str) -> tuple[str, tuple[str, ...]]:
    match = NAME_ONLY.match(text)
    assert match, f"{text!r}: name the package (and extras) only; its version is pinned in [tool.uv]"
    extras = tuple(sorted(normalize(e) for e in (match["extras"] or "").split(",") if e.strip()))
    return normalize(match["name"]), extras


@dataclass(frozen=True)
class Member:
    path: Path
    name: str
    packages: tuple[str, ...]
    required: tuple[str, ...]
    extras: dict[str, tuple[str, ...]] = field(hash=False)
    build_requires: tuple[str, ...]

    def names(self, strings: Iterable[str]) -> set[str]:
        return {requirement(s)[0] for s in strings}


def load_member(path: Path) -> Member:
    pyproject = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    includes = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    return Member(
        path=path,
        name=normalize(project["name"]),
        packages=tuple(sorted({pattern.rstrip("*").rstrip(".") for pattern in includes})),
        required=tuple(project.get("dependencies", [])),
        extras={normalize(k): tuple(v) for k, v in project.get("optional-dependencies", {}).items()},
        build_requires=tuple(pyproject["build-system"]["requires"]),
    )


def members() -> list[Member]:
    found: list[Member] = []
    for pattern in ROOT_PYPROJECT["tool"]["uv"]["workspace"]["members"]:
        found += [
            load_member(path) for path in sorted(ROOT.glob(pattern)) if (path / "pyproject.toml").exists()
        ]
    return found


MEMBERS = members()
WORKSPACE = {member.name: member for member in MEMBERS}
DEV = tuple(item for item in ROOT_PYPROJECT["dependency-groups"][DEV_GROUP] if isinstance(item, str))
CONSTRAINTS = ROOT_PYPROJECT["tool"]["uv"]["constraint-dependencies"]
BUILD_CONSTRAINTS = ROOT_PYPROJECT["tool"]["uv"]["build-constraint-dependencies"]


@cache
def distributions_of(module: str) -> frozenset[str]:
    """The installed distributions that provide the top-level module ``module``."""
    for member in MEMBERS:
        if module in member.packages:
            return frozenset({member.name})
    return frozenset(normalize(d) for d in packages_distributions().get(module, []))


@cache
def modules_of(distribution: str) -> frozenset[str]:
    if distribution in WORKSPACE:
        return frozenset(WORKSPACE[distribution].packages)
    return frozenset(
        m for m, dists in packages_distributions().items() if distribution in map(normalize, dists)
    )


# -- reading imports --------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    file: Path
    line: int
    module: str  # the top-level name
    lazy: bool  # inside a function or an `if TYPE_CHECKING:` block

    def where(self) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line} imports {self.module}"


def imports_in(file: Path) -> Iterator[Import]:
    tree = ast.parse(file.read_text(encoding="utf-8"), str(file))

    def visit(node: ast.AST, lazy: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(file, child.lineno, alias.name.split(".")[0], lazy)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield Import(file, child.lineno, child.module.split(".")[0], lazy)
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                inner = True
            yield from visit(child, inner)

    yield from visit(tree, False)


def python_files(*folders: Path) -> list[Path]:
    return sorted(f for folder in folders for f in folder.rglob("*.py") if "__pycache__" not in f.parts)


def local_names(*folders: Path) -> set[str]:
    """Modules a test folder imports from itself (conftest helpers, bench scripts)."""
    return {f.stem for f in python_files(*folders)} | {
        d.name for folder in folders for d in folder.rglob("*") if d.is_dir()
    }


def third_party(imp: Import, own: set[str]) -> bool:
    return imp.module not in sys.stdlib_module_names and imp.module != "__future__" and imp.module not in own


def module_name(member: Member, file: Path) -> str:
    parts = file.relative_to(member.path).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def undeclared(imp: Import, allowed: set[str], advice: str) -> str | None:
    provided = distributions_of(imp.module)
    if not provided:
        return f"{imp.where()}: no installed distribution provides it ({advice})"
    if provided & allowed:
        return None
    return f"{imp.where()} ({', '.join(sorted(provided))}): {advice}"


# -- every import is declared -------------------------------------------------------------------


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_each_project_declares_what_its_code_imports(member: Member) -> None:
    required = member.names(member.required)
    extras = {name: member.names(reqs) for name, reqs in member.extras.items()}
    problems = []
    for package in member.packages:
        for file in python_files(member.path / package):
            module = module_name(member, file)
            owning = {
                extra
                for prefix, extra in EXTRA_MODULES.items()
                if module == prefix or module.startswith(prefix + ".")
            }
            assert owning <= set(extras), f"{module}: EXTRA_MODULES names an extra {member.name} lacks"
            for imp in imports_in(file):
                if not third_party(imp, set(member.packages)):
                    continue
                allowed = required | {d for extra in owning for d in extras[extra]}
                if imp.lazy:
                    allowed |= {d for names in extras.values() for d in names}
                advice = (
                    f"declare it in {member.path.relative_to(ROOT)}/pyproject.toml [project] dependencies"
                    + ("" if imp.lazy else ", or import it lazily and declare it in an extra")
                )
                if problem := undeclared(imp, allowed, advice):
                    problems.append(problem)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_each_projects_tests_import_what_it_or_the_dev_group_declares(member: Member) -> None:
    tests = member.path / "tests"
    allowed = member.names(member.required) | {member.name} | {name for name, _ in map(requirement, DEV)}
    allowed |= {d for reqs in member.extras.values() for d in member.names(reqs)}
    own = set(member.packages) | local_names(tests)
    advice = f"declare it in {member.path.relative_to(ROOT)}/pyproject.toml or the root's dev group"
    problems = [
        problem
        for file in python_files(tests)
        for imp in imports_in(file)
        if third_party(imp, own) and (problem := undeclared(imp, allowed, advice))
    ]
    assert not problems, "\n".join(problems)


def test_the_root_tests_and_benchmarks_import_what_the_dev_group_declares() -> None:
    folders = (ROOT / "tests", ROOT / "bench")
    allowed = {name for name, _ in map(requirement, DEV)}
    own = local_names(*folders)
    problems = [
        problem
        for file in python_files(*folders)
        for imp in imports_in(file)
        if third_party(imp, own)
        and (problem := undeclared(imp, allowed, "declare it in the root's dev group"))
    ]
    assert not problems, "\n".join(problems)


def imported_by(*folders: Path) -> set[str]:
    return {
        d for file in python_files(*folders) for imp in imports_in(file) for d in distributions_of(imp.module)
    }


# The gateway's embedded mode imports the services by the route table's names (importlib), so
# declarations of workspace members are not checked here.
@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_each_project_imports_what_it_declares(member: Member) -> None:
    """A declaration its code never imports is dead weight in its image (or has a NOT_IMPORTED reason)."""
    declared = member.names(member.required) | {
        n for reqs in member.extras.values() for n in member.names(reqs)
    }
    imported = imported_by(*(member.path / package for package in member.packages))
    unused = declared - imported - set(NOT_IMPORTED) - set(WORKSPACE)
    assert not unused, f"{member.name} declares but never imports {sorted(unused)}"


def test_the_tests_and_benchmarks_import_what_the_dev_group_declares() -> None:
    declared = {name for name, _ in map(requirement, DEV)}
    imported = imported_by(*(m.path / "tests" for m in MEMBERS), ROOT / "tests", ROOT / "bench")
    unused = declared - imported - set(NOT_IMPORTED) - set(WORKSPACE)
    assert not unused, f"the dev group declares {sorted(unused)}, which no test or benchmark imports"


# -- each version once, and uv.lock holds it ------------------------------------------------


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for text in CONSTRAINTS:
        match = EXACT_PIN.match(text)
        assert match, f"{text!r}: constraint-dependencies holds exact pins (name==version)"
        name = normalize(match["name"])
        assert name not in found, f"{name} is pinned twice"
        found[name] = match["version"]
    return found


def test_members_and_the_dev_group_name_packages_without_versions() -> None:
    for member in MEMBERS:
        for text in (
            *member.required,
            *(r for reqs in member.extras.values() for r in reqs),
            *member.build_requires,
        ):
            requirement(text)
    for text in (
        *DEV,
        *(r for m in MEMBERS for r in (*m.required, *(r for rs in m.extras.values() for r in rs))),
    ):
        name, extras = requirement(text)
        if name in WORKSPACE:
            assert set(extras) <= set(WORKSPACE[name].extras), f"{text}: no such extra"


def test_every_declared_package_has_exactly_one_pin() -> None:
    declared: set[str] = set()
    for member in MEMBERS:
        declared |= member.names(member.required)
        declared |= {name for reqs in member.extras.values() for name in member.names(reqs)}
    declared |= {name for name, _ in map(requirement, DEV)}
    declared -= set(WORKSPACE)
    pinned = set(pins())
    assert declared - pinned == set(), "declared but not pinned in [tool.uv] constraint-dependencies"
    assert pinned - declared == set(), "pinned but declared by no project (a stale pin)"
    assert all(EXACT_PIN.match(text) for text in BUILD_CONSTRAINTS), "build constraints are exact pins"
    build_pins = {normalize(text.split("==")[0]) for text in BUILD_CONSTRAINTS}
    build_requires = {name for m in MEMBERS for name in m.names(m.build_requires)}
    assert build_pins == build_requires, "build-constraint-dependencies pins each build requirement"


def test_uv_itself_is_pinned_in_the_dev_group() -> None:
    # scripts/bootstrap.sh and the Dockerfiles install the uv that uv.lock holds (scripts/uv_requirement.py).
    assert "uv" in {name for name, _ in map(requirement, DEV)}
    assert "uv" in pins()
    assert "required-version" not in ROOT_PYPROJECT["tool"]["uv"], (
        "uv's version is pinned once, as a constraint"
    )


def locked_packages() -> dict[str, dict]:
    return {normalize(p["name"]): p for p in LOCK["package"]}


def test_the_lock_holds_the_pins() -> None:
    manifest = LOCK["manifest"]
    assert {normalize(c["name"]): c["specifier"] for c in manifest["constraints"]} == {
        name: f"=={version}" for name, version in pins().items()
    }, "uv.lock is stale: run `uv lock`"
    assert [f"{c['name']}{c['specifier']}" for c in manifest["build-constraints"]] == BUILD_CONSTRAINTS
    locked = locked_packages()
    for name, version in pins().items():
        assert locked[name]["version"] == version, (
            f"{name}: uv.lock has {locked[name]['version']}, the pin {version}"
        )


def locked_requirements(entries: Iterable[dict]) -> set[tuple[str, tuple[str, ...], str | None]]:
    found = set()
    for entry in entries:
        marker = entry.get("marker")
        match = re.fullmatch(r"extra == '([^']+)'", marker or "")
        assert match or marker is None, f"{entry['name']}: an unexpected marker {marker}"
        extra = match[1] if match else None
        found.add((normalize(entry["name"]), tuple(sorted(entry.get("extras", []))), extra))
    return found


def test_the_lock_is_current_with_every_project_file() -> None:
    locked = locked_packages()
    assert sorted(LOCK["manifest"]["members"]) == sorted(WORKSPACE), "uv.lock is stale: run `uv lock`"
    for member in MEMBERS:
        declared = {(*requirement(text), None) for text in member.required}
        declared |= {(*requirement(text), extra) for extra, reqs in member.extras.items() for text in reqs}
        metadata = locked[member.name]["metadata"]
        assert locked_requirements(metadata.get("requires-dist", [])) == declared, (
            f"uv.lock is stale for {member.name}: run `uv lock`"
        )
    dev = {(*requirement(text), None) for text in DEV}
    assert locked_requirements(LOCK["manifest"]["dependency-groups"][DEV_GROUP]) == dev, "run `uv lock`"


# -- extras are optional --------------------------------------------------------------------

IMPORT_ALL = """
import importlib, json, sys
blocked, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"{name} is not installed (an extra)", name=name)
        return None

sys.meta_path.insert(0, Blocked())
for module in modules:
    importlib.import_module(module)
print(len(modules))
"""


def importable_modules(member: Member) -> list[str]:
    """Every module of the member but the extras' own, migrations (alembic runs them) and __main__."""
    names = []
    for package in member.packages:
        for file in python_files(member.path / package):
            name = module_name(member, file)
            if any(name == p or name.startswith(p + ".") for p in EXTRA_MODULES):
                continue
            if ".migrations" in name or name.endswith("__main__"):
                continue
            names.append(name)
    return names


@pytest.mark.parametrize("member", [m for m in MEMBERS if m.extras], ids=lambda m: m.name)
def test_a_project_imports_without_its_extras(member: Member, tmp_path: Path) -> None:
    required = member.names(member.required)
    optional = {name for reqs in member.extras.values() for name in member.names(reqs)} - required
    blocked = sorted({module for name in optional for module in modules_of(name)})
    assert blocked, f"{member.name}: the extras' packages are not installed"
    modules = importable_modules(member)
    result = subprocess.run(
        [sys.executable, "-P", "-c", IMPORT_ALL, json.dumps(blocked), json.dumps(modules)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{member.name} without {blocked}:\n{result.stderr[-3000:]}"
    assert result.stdout.strip() == str(len(modules))


def test_the_notifications_sink_is_the_embedded_extra() -> None:
    notifications = WORKSPACE["bildungsportal-notifications"]
    assert "aiosmtpd" not in notifications.names(notifications.required)
    assert "aiosmtpd" in notifications.names(notifications.extras["embedded"])
    sink = notifications.path / "notifications/adapters/mail_sink.py"
    assert [imp.lazy for imp in imports_in(sink) if imp.module == "aiosmtpd"] == [True]
