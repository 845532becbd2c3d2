"""The runtime's modules import each other without cycles, and never import tooling.

Read from the source (ast), not by importing: a cycle that happens to resolve in
today's import order still fails here. The runtime is every module directly in core/
(`py302._client`, `py302.binding`, `py302.hookspecs`, ...); the subpackages are tooling.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Set
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "core"
TOOLING = ("codegen", "cli", "contracts", "sandbox", "testing")
# `python -m py302` is the command line's entry point: tooling by definition.
ENTRY_POINTS = {"py302.__main__"}


def module_name(path: Path, package: str) -> str:
    """`core/_client.py` -> `py302._client`; `core/contracts/__init__.py` -> `py302.contracts`."""
    parts = [package, *path.relative_to(CORE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
    return name.endswith("TYPE_CHECKING")  # `_TYPE_CHECKING` aliases included


def _statements(body: list[ast.stmt], *, in_functions: bool) -> Iterator[ast.stmt]:
    """Statements that run when the module is imported (with `in_functions`, also those
    that run when its functions are called); `if TYPE_CHECKING:` bodies never run."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not in_functions:
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _statements(node.orelse, in_functions=in_functions)
            continue
        for field in ("body", "orelse", "finalbody", "handlers"):  # handlers hold a body
            yield from _statements(getattr(node, field, []), in_functions=in_functions)


def imported_modules(path: Path, name: str, *, in_functions: bool = False) -> set[str]:
    """The modules (as dotted names) that the module `name` at `path` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _statements(tree.body, in_functions=in_functions):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from . import hookspecs` imports a module; `from ._errors import X` a name.
            found.update(f"{base}.{alias.name}" for alias in node.names)
            found.add(base)
    return found


def import_graph(modules: Mapping[str, Path], *, in_functions: bool = False) -> dict[str, set[str]]:
    """Module -> the modules of `modules` it imports."""
    return {
        name: imported_modules(path, name, in_functions=in_functions) & modules.keys() - {name}
        for name, path in modules.items()
    }


def find_cycle(graph: Mapping[str, Set[str]]) -> list[str] | None:
    """One import cycle as a path that ends where it starts, or None."""
    done: set[str] = set()
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in stack:
            return [*stack[stack.index(node) :], node]
        if node in done:
            return None
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if cycle := visit(target):
                return cycle
        stack.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        if cycle := visit(start):
            return cycle
    return None


def runtime_modules() -> dict[str, Path]:
    modules = {module_name(path, "py302"): path for path in sorted(CORE.glob("*.py"))}
    return {name: path for name, path in modules.items() if name not in ENTRY_POINTS}


def test_the_runtime_has_no_import_cycle() -> None:
    graph = import_graph(runtime_modules())
    # The graph is read right: a real edge is there, a TYPE_CHECKING-only one is not.
    assert "py302._calls" in graph["py302._client"]
    assert "py302._results" not in graph["py302.binding"]
    assert {"py302.binding", "py302.hookspecs", "py302._journal"} <= graph.keys()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_runtime_imports_no_tooling_package() -> None:
    tooling = {f"py302.{package}" for package in TOOLING}
    found = sorted(
        f"{name} imports {target}"
        for name, path in runtime_modules().items()
        for target in imported_modules(path, name)
        if ".".join(target.split(".")[:2]) in tooling
    )
    assert found == []


def test_the_contracts_package_has_no_import_cycle_even_inside_functions() -> None:
    """`_contract` and `_drift` once imported each other from inside functions."""
    modules = {
        module_name(path, "py302"): path for path in sorted((CORE / "contracts").glob("*.py"))
    }
    graph = import_graph(modules, in_functions=True)
    assert "py302.contracts._match" in graph["py302.contracts._drift"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": {"b"}}, ["b", "c", "b"]),
    ],
)
def test_find_cycle(graph: dict[str, set[str]], cycle: list[str] | None) -> None:
    assert find_cycle(graph) == cycle
