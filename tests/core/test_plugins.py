"""Plugin loading: broken plugins are isolated and reported, never fatal."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

import pytest

from py302 import PluginHost, Provider, hookimpl


def module_plugin(name: str, **attrs: object) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    return module


def test_builtins_register_their_providers() -> None:
    host = PluginHost(entry_points=False)
    assert "flux" in host.providers
    assert host.providers["flux"].bindings == "py302.generated.flux"
    assert host.providers["flux"].plugin == "flux"
    assert host.failures == []


def test_plugin_that_fails_to_import_is_reported_and_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class BrokenEntryPoint:
        name = "broken"

        def load(self) -> object:
            raise ImportError("No module named 'missing_dependency'")

    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [BrokenEntryPoint()])
    host = PluginHost()
    assert [f.name for f in host.failures] == ["broken"]
    assert "missing_dependency" in host.failures[0].reason
    assert "flux" in host.providers, "the other plugins still work"


def test_misspelled_hook_is_refused() -> None:
    @hookimpl
    def py302_normalise_result() -> None:  # British spelling: not a hook
        return None

    host = PluginHost(
        builtins=False,
        entry_points=False,
        plugins=[("typo", module_plugin("typo", py302_normalise_result=py302_normalise_result))],
    )
    assert host.failures[0].name == "typo"
    assert "py302_normalise_result" in host.failures[0].reason


def test_plugin_api_version_mismatch_is_explained() -> None:
    host = PluginHost(
        builtins=False,
        entry_points=False,
        plugins=[("future", module_plugin("future", PY302_PLUGIN_API=99))],
    )
    assert "plugin API 99" in host.failures[0].reason


def test_register_hook_that_raises_costs_only_its_plugin() -> None:
    @hookimpl
    def py302_register_providers(register: Callable[[Provider], None]) -> None:
        raise RuntimeError("boom")

    host = PluginHost(
        entry_points=False,
        plugins=[("bad", module_plugin("bad", py302_register_providers=py302_register_providers))],
    )
    assert [f.name for f in host.failures] == ["bad"]
    assert "flux" in host.providers
    assert "bad" not in host.plugin_names()


def test_duplicate_provider_is_refused() -> None:
    @hookimpl
    def py302_register_providers(register: Callable[[Provider], None]) -> None:
        register(Provider(name="flux", bindings="elsewhere"))

    host = PluginHost(
        entry_points=False,
        plugins=[
            ("copycat", module_plugin("copycat", py302_register_providers=py302_register_providers))
        ],
    )
    assert host.providers["flux"].bindings == "py302.generated.flux"
    assert "already registered" in host.failures[0].reason


def test_plugins_can_be_disabled_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PY302_DISABLE_PLUGINS", "flux, other")
    host = PluginHost(entry_points=False)
    assert "flux" not in host.providers
    assert host.failures == []


def test_entry_point_plugins_are_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    @hookimpl
    def py302_register_providers(register: Callable[[Provider], None]) -> None:
        register(Provider(name="acme", bindings="acme_bindings.acme"))

    class EntryPoint:
        name = "acme"

        def load(self) -> object:
            return module_plugin("acme_plugin", py302_register_providers=py302_register_providers)

    monkeypatch.setattr(
        "importlib.metadata.entry_points", lambda group: [EntryPoint()] if group == "py302" else []
    )
    host = PluginHost()
    assert host.providers["acme"].plugin == "acme"


def test_a_plugin_written_for_api_1_is_refused_with_what_replaced_its_hooks() -> None:
    class OldPlugin:
        @hookimpl
        def py302_task_pattern(self, name: str) -> None:
            return None

    host = PluginHost(builtins=False, entry_points=False, plugins=[("old", OldPlugin())])
    (failure,) = host.failures
    assert failure.name == "old"
    assert "plugin API 1" in failure.reason
    assert "Provider(task_patterns=" in failure.reason


def test_a_spec_only_provider_is_registered_without_any_plugin() -> None:
    host = PluginHost(entry_points=False)
    assert host.provider("gongji").plugin == "py302"
    assert not host.provider("gongji").task_patterns
    assert "py302.plugins.gongji" not in sys.modules


def test_a_plugin_that_declares_api_1_also_gets_what_replaced_its_hooks() -> None:
    class OldDeclared:
        PY302_PLUGIN_API = 1

        @hookimpl
        def py302_normalize_result(self) -> None:
            return None

    host = PluginHost(builtins=False, entry_points=False, plugins=[("old", OldDeclared())])
    (failure,) = host.failures
    assert "plugin API 1" in failure.reason
    assert "x-py302-result" in failure.reason


def test_a_plugin_whose_registration_fails_halfway_leaves_no_provider() -> None:
    class Halfway:
        @hookimpl
        def py302_register_providers(self, register: Callable[[Provider], None]) -> None:
            register(Provider(name="first", bindings="nowhere.first"))
            raise RuntimeError("second provider broke")

    host = PluginHost(builtins=False, entry_points=False, plugins=[("halfway", Halfway())])
    assert "first" not in host.providers
    assert "second provider broke" in host.failures[0].reason
