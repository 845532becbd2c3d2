"""The three folders install as one package, and `import py302` stays light."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping: dict[str, str] = config["package-dir"]
    found = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join([package, *relative]))
    assert found == set(config["packages"])


def test_runtime_and_tooling_are_separate_packages() -> None:
    """The runtime is py302's top level (with its bindings and plugins); tooling lives in
    subpackages of its own, so the tree shows which is which."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    runtime = {"py302", "py302.generated", "py302.plugins"}
    tooling = {
        "py302.batch",
        "py302.cli",
        "py302.codegen",
        "py302.contracts",
        "py302.sandbox",
        "py302.testing",
    }
    assert set(config["packages"]) == runtime | tooling


@pytest.mark.parametrize("name", ["core", "generated", "plugins"])
def test_folder_names_are_not_importable(name: str, tmp_path: Path) -> None:
    """Installed, py302 exposes no generic top-level names (checked outside the repo,
    where the current directory cannot put the folders on sys.path)."""
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is not None)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    found = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=False)
    assert found.returncode == 0
    assert importlib.util.find_spec("py302") is not None


def test_import_loads_no_provider_module() -> None:
    """`python -X importtime -c "import py302"` lists no provider bindings or plugins."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import py302; py302.Client"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT / "tests",
    )
    modules = {
        line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line
    }
    assert "py302" in modules
    loaded = sorted(
        m for m in modules if m.startswith(("py302.generated.", "py302.plugins.", "py302.codegen"))
    )
    assert loaded == [], f"imported eagerly: {loaded}"
    # (httpx itself imports click and rich when they are installed.)
    heavy = sorted(
        m for m in modules if m.split(".")[0] in {"jsonschema", "cattrs", "yaml", "referencing"}
    )
    assert heavy == [], f"heavy dependencies imported eagerly: {heavy}"
    # The task journal (and SQLite) is for clients that keep one.
    assert {"py302._journal", "sqlite3"} & modules == set()


def test_provider_module_loads_on_first_use() -> None:
    code = (
        "import sys, py302\n"
        "c = py302.Client(api_key='k')\n"
        "assert 'py302.generated.flux' not in sys.modules\n"
        "c.flux\n"
        "assert 'py302.generated.flux' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT / "tests")


def test_wheel_carries_registries_and_templates(tmp_path: Path) -> None:
    """The non-editable install has the data files the editable one reads from the tree."""
    # Built from a copy: setuptools never empties the checkout's build/lib, so a wheel
    # built in place still carries modules that were renamed or deleted since.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for folder in ("core", "generated", "plugins"):
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("py302-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = {
        "py302/py.typed",
        "py302/generated/__init__.py",
        "py302/generated/flux.py",
        "py302/generated/flux.json",
        "py302/plugins/flux.py",
        "py302/codegen/templates/module.py.jinja2",
        "py302/cli/__init__.py",
        "py302/contracts/__init__.py",
        "py302/contracts/_contract.py",
    }
    assert expected <= names
    assert not any(name.startswith(("core/", "generated/", "plugins/")) for name in names)
    assert not any(name.startswith(("py302/_cli/", "py302/_contract")) for name in names)
