"""`py302.__all__` is complete, and every public name in it is documented."""

from __future__ import annotations

import inspect

import pytest

import py302

SUBMODULES = {
    "batch",
    "hookspecs",
    "binding",
    "cli",
    "codegen",
    "contracts",
    "generated",
    "payloads",
    "plugins",
    "sandbox",
    "testing",
}


def test_all_matches_the_public_names() -> None:
    public = {name for name in dir(py302) if not name.startswith("_")} - SUBMODULES
    assert len(py302.__all__) == len(set(py302.__all__))  # ruff (RUF022) keeps it sorted
    assert set(py302.__all__) == public | {"__version__"}


def test_public_names_have_docstrings() -> None:
    undocumented = [
        name
        for name in py302.__all__
        if (inspect.isclass(getattr(py302, name)) or inspect.isfunction(getattr(py302, name)))
        and not inspect.getdoc(getattr(py302, name))
    ]
    assert undocumented == []


def test_names_load_on_first_use_and_all_resolve() -> None:
    for name in py302.__all__:
        assert getattr(py302, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = py302.Nope


def test_errors_share_one_base() -> None:
    errors = [getattr(py302, n) for n in py302.__all__ if n.endswith("Error") and n != "Py302Error"]
    assert errors
    assert all(issubclass(e, py302.Py302Error) for e in errors)
