"""The example third-party plugin (tests/example_plugin) is installed as one would be.

Its behaviour is tested by its own suite (`cd tests/example_plugin && pytest`, run by
scripts/check); these tests check that what that suite exercises is the installed
distribution, reached through its entry point, and that the suite itself sticks to
what a plugin author has: py302's public names and py302.testing.
"""

from __future__ import annotations

import ast
import sys
from importlib import metadata
from pathlib import Path

from py302 import PluginHost
from py302.codegen import generate
from py302.plugins import BUILTIN_PLUGINS

PLUGIN = Path(__file__).parent / "example_plugin"
REINSTALL = "scripts/check installs it afresh into build/example-plugin"


def test_it_is_an_installed_distribution_with_a_py302_entry_point() -> None:
    dist = metadata.distribution("py302-acme")
    points = [p for p in dist.entry_points if p.group == "py302"]
    assert [(p.name, p.value) for p in points] == [("acme", "py302_acme.plugin")]
    assert not any("acme" in module for module in BUILTIN_PLUGINS)


def test_the_host_finds_it_through_the_entry_point_alone() -> None:
    host = PluginHost(builtins=False)
    assert host.failures == []
    assert host.provider("acme").plugin == "acme"
    assert host.versions["acme"] == metadata.version("py302-acme")
    assert "acme" not in PluginHost(entry_points=False).providers


def test_the_installed_copy_is_the_source_in_this_tree() -> None:
    import py302_acme.plugin

    installed = Path(py302_acme.plugin.__file__).read_bytes()
    source = (PLUGIN / "src" / "py302_acme" / "plugin.py").read_bytes()
    assert installed == source, f"the installed py302-acme is stale: {REINSTALL}"


def test_its_bindings_are_generated_from_its_own_fragment(tmp_path: Path) -> None:
    out = PLUGIN / "src" / "py302_acme" / "generated"
    assert generate(PLUGIN / "specs", out, package="py302_acme.generated", check=True) == 0


def test_its_tests_use_only_public_py302_names_and_py302_testing() -> None:
    allowed_roots = {"py302", "py302_acme", "pytest", "yaml", *sys.stdlib_module_names}
    for path in sorted((PLUGIN / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = [
            name
            for node in ast.walk(tree)
            for name in (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
        ]
        assert modules, path
        for module in modules:
            assert module.split(".")[0] in allowed_roots, f"{path.name} imports {module}"
            assert module == "__future__" or not any(
                part.startswith("_") for part in module.split(".")
            ), f"{path.name} imports the private {module}"
    text = (PLUGIN / "pyproject.toml").read_text(encoding="utf-8")
    assert '"-p py302.testing' in text
