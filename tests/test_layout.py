"""The shape of services/: no import cycles (imports inside functions count too: a lazy import
hides a cycle, it does not remove it), no module too long to read, and no Flask.

The import graph is read from the source with ast, so nothing is imported to check it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[1] / "services"
MAX_LINES = 550
# Modules allowed to be longer: the typed models are one table after another.
LONG_ALLOWED = {"services.models"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SERVICES.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(SERVICES.rglob("*.py"))}


def _imported(name: str, path: Path) -> set[str]:
    """Every module name this module imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return found


def _graph() -> dict[str, set[str]]:
    return {name: {m for m in _imported(name, path) if m in MODULES and m != name}
            for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_check_sees_lazy_and_relative_imports(tmp_path):
    module = tmp_path / "records.py"
    module.write_text("from . import formats\n\n\ndef load():\n    from services import outbox\n",
                      encoding="utf-8")
    found = _imported("services.catalog.records", module)
    assert {"services.catalog.formats", "services.outbox"} <= found
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_services_have_no_import_cycles():
    assert _cycles(_graph()) == []


@pytest.mark.parametrize("name", sorted(set(MODULES) - LONG_ALLOWED))
def test_services_modules_stay_readable(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by what it does"


def test_services_import_no_flask():
    offenders = sorted(
        f"{name}: {module}"
        for name, path in MODULES.items()
        for module in _imported(name, path)
        if module.split(".")[0] == "flask" or module.startswith("flask_")
    )
    assert offenders == []
