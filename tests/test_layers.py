"""The layers of ``../shared/DESIGN.md`` hold: every import of every module under
``companion/`` points the way the table allows.

Every import counts: at the top, inside functions, under ``TYPE_CHECKING``, relative ones
(resolved against the module's package) and ``importlib.import_module`` with a literal name.
Besides the arrows between the app's own packages, SQL (``sqlite3``, SQLAlchemy, SQLModel)
may be imported only by ``store`` and the sandbox, and Qt only by ``ui`` and the composition
root.

Breaches tolerated for a while would be listed in ``KNOWN_TODAY`` (file -> imported
module; empty now): the test lets them pass, and fails on any other breach and on any entry
that no longer occurs, so an entry is deleted when the code that needed it is gone.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import companion

PACKAGE = Path(companion.__file__).resolve().parent
REPO = PACKAGE.parent

# The layers, as ``../shared/DESIGN.md`` names them (section Layers), and what each may import
# of the app. "root" is the composition root and the command line (app.py, cli.py, commands),
# which may import everything.
ALL = frozenset(
    {
        "core",
        "store",
        "timeback",
        "session",
        "sync",
        "content",
        "system",
        "launch",
        "service",
        "ui",
        "config",
        "sandbox",
        "root",
    }
)
MAY_IMPORT: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "store": frozenset({"core"}),
    "timeback": frozenset({"core"}),
    "session": frozenset({"core", "store", "content"}),
    "sync": frozenset({"core", "store", "timeback"}),
    "content": frozenset({"core"}),
    "system": frozenset({"core"}),
    "launch": frozenset({"core", "store"}),
    # "everything above but ui": the rows above it in the table
    "service": frozenset(
        {"core", "store", "timeback", "session", "sync", "content", "system", "launch"}
    ),
    # the narrow interfaces a window is given reach it as protocols, never as imports
    "ui": frozenset({"core", "content", "system"}),
    "config": frozenset({"core"}),
    "sandbox": frozenset(),  # its web framework and a JSON Schema library; nothing of the app
    "root": ALL,
}
# Top-level modules and where they sit (a package's layer is its own name).
TOP_LEVEL_MODULES = {
    "companion": "root",
    "companion.app": "root",
    "companion.cli": "root",
    "companion.config": "config",
    "companion.machine_config": "config",  # the machine-wide file; part of the settings
    # not in DESIGN.md's table: the log files are set up by the command line at start
    "companion.logfiles": "root",
}
SQL = frozenset({"sqlite3", "sqlalchemy", "sqlmodel"})
SQL_ALLOWED = frozenset({"store", "sandbox"})
QT = frozenset({"PySide6", "shiboken6"})
QT_ALLOWED = frozenset({"ui", "root"})

# Breaches tolerated for now (file -> imported module): none. An entry may be added only with
# the reason beside it; the test fails on one that no longer occurs.
KNOWN_TODAY: frozenset[tuple[str, str]] = frozenset()

# Arrows the table allows today that the machine service (``companion/service``, a later
# issue) removes: the app in a student's OS session then talks to the service over its local
# endpoint and never opens the database, holds the credentials, runs delivery or the run use
# case itself. The service owns what the composition root wires here today.
MACHINE_SERVICE_REMOVES: frozenset[tuple[str, str]] = frozenset(
    {
        ("companion/app", "store"),
        ("companion/app", "sync"),
        ("companion/app", "timeback"),
        ("companion/app", "session"),
        ("companion/app", "sandbox"),
    }
)


@dataclass(frozen=True)
class Import:
    """One import of a module: the module it names, and where."""

    name: str
    line: int


def module_name(path: Path) -> str:
    """``companion/ui/shell.py`` -> ``companion.ui.shell`` (a package: its ``__init__``)."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def imports_in(source: str, module: str, is_package: bool = False) -> list[Import]:
    """Every module ``source`` imports, wherever the import stands (functions,
    ``TYPE_CHECKING`` blocks, ``try``), relative ones resolved against ``module``.
    ``from package import name`` counts as ``package`` (the layer is the package's either
    way); ``from . import x`` and ``from companion import x`` count as the module ``x``."""
    found: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (
                _resolve(module, is_package, node.level, node.module)
                if node.level
                else node.module or ""
            )
            if node.module is None or base == "companion":  # ``from . import x``: module x
                found.extend(Import(f"{base}.{alias.name}", node.lineno) for alias in node.names)
            else:
                found.append(Import(base, node.lineno))
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (
                    isinstance(node.func, ast.Name)
                    and node.func.id in {"import_module", "__import__"}
                )
            )
        ):
            found.append(Import(node.args[0].value, node.lineno))
    return found


def layer_of(module: str) -> str | None:
    """The layer of an app module (``companion...``); None for an unknown one."""
    parts = module.split(".")
    if parts[0] != "companion":
        return None
    if len(parts) >= 2 and parts[1] in MAY_IMPORT and parts[1] not in {"root", "config"}:
        return parts[1]
    if len(parts) >= 2 and parts[1] == "commands":
        return "root"
    return TOP_LEVEL_MODULES.get(".".join(parts[:2]))


def breaks_layers(importer: str, imported: str) -> bool:
    """Whether module ``importer`` may not import ``imported`` (a module name)."""
    layer = layer_of(importer)
    assert layer is not None, f"{importer} has no layer in DESIGN.md's table"
    top = imported.split(".")[0]
    if top in SQL:
        return layer not in SQL_ALLOWED
    if top in QT:
        return layer not in QT_ALLOWED
    if top != "companion":
        return False
    target = layer_of(imported)
    if target is None:
        return True  # an app module the table does not place
    return target != layer and target not in MAY_IMPORT[layer]


def breaches_in(source: str, module: str, is_package: bool = False) -> list[Import]:
    """The imports of ``source`` (the text of ``module``) that break the layers."""
    return [i for i in imports_in(source, module, is_package) if breaks_layers(module, i.name)]


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def breaches_today() -> dict[tuple[str, str], list[int]]:
    """(file, imported module) -> the lines, for every breach under ``companion/``."""
    found: dict[tuple[str, str], list[int]] = {}
    for path in _modules():
        source = path.read_text(encoding="utf-8")
        for i in breaches_in(source, module_name(path), path.name == "__init__.py"):
            found.setdefault((path.relative_to(REPO).as_posix(), i.name), []).append(i.line)
    return found


def test_every_import_follows_the_table_but_the_known_breaches() -> None:
    found = breaches_today()
    new = {
        f"{file}:{lines[0]} imports {name}"
        for (file, name), lines in found.items()
        if (file, name) not in KNOWN_TODAY
    }
    assert new == set(), "imports that break the layers of DESIGN.md"


def test_no_known_breach_is_stale() -> None:
    stale = KNOWN_TODAY - set(breaches_today())
    assert stale == set(), "gone from the code: delete these from KNOWN_TODAY"


def test_every_module_has_a_layer() -> None:
    modules = [module_name(p) for p in _modules()]
    assert len(modules) > 100
    assert [m for m in modules if layer_of(m) is None] == []


def test_the_machine_service_removes_arrows_that_are_allowed_and_there_today() -> None:
    arrows: set[tuple[str, str]] = set()
    for path in _modules():
        module = module_name(path)
        for i in imports_in(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"):
            target = layer_of(i.name)
            if target is not None:
                file = path.relative_to(REPO).as_posix()
                if file.startswith("companion/app/"):  # the root's package counts as one
                    file = "companion/app"
                arrows.add((file, target))
    for file, layer in MACHINE_SERVICE_REMOVES:
        importer = layer_of(module_name(REPO / file))
        assert importer is not None and layer in MAY_IMPORT[importer], (file, layer)
    assert arrows >= MACHINE_SERVICE_REMOVES


def test_the_layer_names_are_those_of_the_design(shared: Path) -> None:
    text = (shared / "DESIGN.md").read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^\| `companion/(\w+)(?:\.py)?`", section, flags=re.MULTILINE))
    assert named == (ALL - {"root"}) | {"app"}


# --- the check itself ---------------------------------------------------------------------

SYNTHETIC = """
from __future__ import annotations

from typing import TYPE_CHECKING

from companion.core.clock import Clock
from . import tray
from ..content import bundle

if TYPE_CHECKING:
    from companion.store.db import Database
    from ..timeback import CaliperClient


def later() -> None:
    import sqlite3
    from companion.app import Runtime
    from .. import config
    importlib.import_module("companion.sync.worker")
"""


def test_the_check_finds_breaches_in_functions_and_type_checking_blocks() -> None:
    found = [(i.line, i.name) for i in breaches_in(SYNTHETIC, "companion.ui.window")]
    assert found == [
        (11, "companion.store.db"),
        (12, "companion.timeback"),
        (16, "sqlite3"),
        (17, "companion.app"),
        (18, "companion.config"),
        (19, "companion.sync.worker"),
    ]


def test_relative_imports_resolve_against_the_package() -> None:
    names = [i.name for i in imports_in(SYNTHETIC, "companion.ui.window")]
    assert {"companion.ui.tray", "companion.content", "companion.timeback"} <= set(names)
    assert [i.name for i in imports_in("from . import x\n", "companion.ui", is_package=True)] == [
        "companion.ui.x"
    ]
    assert [i.name for i in imports_in("from .caliper import y\n", "companion.core.rules")] == [
        "companion.core.caliper"
    ]


@pytest.mark.parametrize(
    ("importer", "imported", "breaks"),
    [
        ("companion.core.rules", "companion.store", True),
        ("companion.store.runs", "companion.core.rules", False),
        ("companion.store.db", "sqlite3", False),
        ("companion.sandbox.ingestion", "sqlite3", False),
        ("companion.sync.delivery", "sqlmodel", True),
        ("companion.session.signin", "sqlalchemy.exc", True),
        ("companion.session.controller", "companion.content", False),
        ("companion.session.controller", "companion.timeback", True),
        ("companion.sync.worker", "companion.timeback", False),
        ("companion.launch.service", "companion.store", False),
        ("companion.launch.service", "companion.session", True),
        ("companion.config", "companion.timeback", True),
        ("companion.config", "companion.core.environments", False),
        ("companion.sandbox.app", "companion.core", True),
        ("companion.ui.shell", "companion.system.sensing", False),
        ("companion.ui.shell", "PySide6.QtCore", False),
        ("companion.session.controller", "PySide6.QtCore", True),
        ("companion.service.host", "companion.store", False),
        ("companion.service.host", "companion.ui", True),
        ("companion.app", "companion.ui.shell", False),
        ("companion.commands.audit", "companion.store", False),
        ("companion.store.runs", "companion.nowhere", True),
    ],
)
def test_the_table_row_by_row(importer: str, imported: str, breaks: bool) -> None:
    assert breaks_layers(importer, imported) is breaks
