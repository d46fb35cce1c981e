"""`companion/core` imports only pure standard-library modules (DESIGN.md layers)."""

from __future__ import annotations

import ast
from pathlib import Path

import companion.core

ALLOWED = frozenset({
    "__future__", "abc", "base64", "bisect", "calendar", "collections", "contextlib",
    "copy", "dataclasses", "datetime", "decimal", "enum", "fractions", "functools",
    "hashlib", "heapq", "hmac", "itertools", "json", "math", "numbers", "operator", "re", "secrets",
    "statistics", "string", "textwrap", "types", "typing", "uuid",
    "urllib", "zoneinfo",
    "companion",  # only companion.core, checked below
})
FORBIDDEN = frozenset({
    "PySide6", "httpx", "sqlite3", "sqlalchemy", "sqlmodel", "os", "sys", "socket",
    "subprocess", "ctypes", "platform", "threading", "pathlib", "time", "random", "io",
    "asyncio", "multiprocessing", "shutil", "signal", "logging",
})
CORE = Path(companion.core.__file__).parent
# The one real clock (``SystemClock``) reads the OS clocks through the standard library; no
# other core module may, they are all handed a clock.
CLOCK_MODULE = "clock.py"
CLOCK_MODULE_MAY_ALSO_IMPORT = frozenset({"sys", "time"})


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append((node.lineno, "companion.core." + (node.module or "")))
            else:
                found.append((node.lineno, node.module or ""))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
            in {"__import__", "import_module"}
        ):
            found.append((node.lineno, "<dynamic import>"))
    return found


def _inside_core_if_ours(name: str) -> bool:
    if name.split(".")[0] != "companion":
        return True
    return name == "companion.core" or name.startswith("companion.core.")


def problems_in(source: str, also: frozenset[str] = frozenset()) -> list[str]:
    """Import lines of ``source`` that break the core's layering rule (``also``: top-level
    modules this one may import besides)."""
    bad: list[str] = []
    for line_no, name in _imports(ast.parse(source)):
        top = name.split(".")[0]
        if top in also:
            continue
        if name == "<dynamic import>":
            bad.append(f"{line_no}: dynamic import")
        elif top in FORBIDDEN or top not in ALLOWED or not _inside_core_if_ours(name):
            bad.append(f"{line_no}: {name}")
    return bad


def test_core_modules_import_only_pure_stdlib() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) >= 3
    bad = [f"{f.relative_to(CORE)}:{p}" for f in files
           for p in problems_in(f.read_text(encoding="utf-8"),
                                CLOCK_MODULE_MAY_ALSO_IMPORT if f == CORE / CLOCK_MODULE
                                else frozenset())]
    assert bad == []


def test_only_the_clock_module_reads_the_os_clocks() -> None:
    assert problems_in("import time\nimport sys\n") == ["1: time", "2: sys"]
    assert problems_in("import time\nimport sys\n", CLOCK_MODULE_MAY_ALSO_IMPORT) == []
    assert problems_in("import os\n", CLOCK_MODULE_MAY_ALSO_IMPORT) == ["1: os"]


def test_the_check_catches_forbidden_imports() -> None:
    source = (
        "import os\nfrom PySide6 import QtCore\nimport httpx.auth\nfrom companion.store import x\n"
        "import json\nfrom . import rules\nimport yaml\nimportlib.import_module('os')\n"
    )
    assert problems_in(source) == [
        "1: os", "2: PySide6", "3: httpx.auth", "4: companion.store", "7: yaml",
        "8: dynamic import",
    ]


def test_allowlist_is_standard_library() -> None:
    import sys

    assert ALLOWED - {"companion"} <= sys.stdlib_module_names
    assert not (ALLOWED & FORBIDDEN)
