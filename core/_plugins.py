"""Finding, checking and registering plugins, and the providers they serve.

A `PluginHost` owns one pluggy `PluginManager`: it registers the built-in plugins by
module path and third-party ones from the `py302` entry-point group, skips those that
are disabled, and records (rather than raises) every plugin that fails to load, so a
broken plugin costs its own provider and nothing else. Each client uses the shared
default host unless it is given its own (tests build one per test).

Providers are scoped: a plugin registers a `Provider` that carries that provider's
behaviour (task patterns, error reading, normalization, headers, authentication,
stream accumulators), and the core calls it only for that provider's operations.
A provider whose spec says everything needs no plugin: every provider of a generated
bindings package (`PROVIDER_MODULES`) that no plugin registered is registered bare,
and an entry point may name such a package directly.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from . import hookspecs
from ._errors import ConfigurationError
from ._version import __version__

if TYPE_CHECKING:
    import httpx

    from ._registry import OperationSpec
    from ._results import Normalized
    from .binding import Call

__all__ = [
    "DISABLE_ENV_VAR",
    "PluginFailure",
    "PluginHost",
    "Provider",
    "default_host",
]

logger = logging.getLogger("py302")
DISABLE_ENV_VAR = "PY302_DISABLE_PLUGINS"
ENTRY_POINT_GROUP = "py302"


@attrs.frozen(kw_only=True)
class Provider:
    """A provider as a plugin registers it, with what its spec cannot say.

    `name` is the attribute on the client (`client.acme`); `bindings` is the module of
    its generated operations (`acme_py302.generated.acme`); `plugin` is filled in with
    the name of the plugin that registered it. The rest is optional behaviour, each
    called only for this provider's operations:

    * `task_patterns`: pattern name (as in `x-py302-task.pattern`) -> a `TaskPattern`
      subclass, or a callable taking the submit `OperationSpec` and returning one;
    * `response_error(operation, response, payload)`: the exception an answer stands
      for, or None (see `py302.hookspecs` for who judges an answer);
    * `normalize(operation, payload, response)`: a `Normalized`, or None to fall back
      on the operation's `x-py302-result`;
    * `request_headers(operation, call)`: extra headers (an `Accept` it needs);
    * `auth_headers(api_key)`: headers that authenticate (default: Bearer);
    * `accumulators`: name (as in `x-py302-stream.accumulator`) -> a factory of
      `py302.Accumulator`s that fold a stream's events into the whole answer;
    * `ask`: an `AskFormat`, for a provider whose chat operation `py302 chat` can put
      one question to.
    """

    name: str
    bindings: str
    title: str = ""
    plugin: str | None = None
    task_patterns: Mapping[str, Callable[..., Any]] = attrs.field(factory=dict)
    response_error: Callable[[OperationSpec, httpx.Response, Any], Exception | None] | None = None
    normalize: Callable[[OperationSpec, Any, httpx.Response | None], Normalized | None] | None = (
        None
    )
    request_headers: Callable[[OperationSpec, Call[Any]], Mapping[str, str] | None] | None = None
    auth_headers: Callable[[str], Mapping[str, str] | None] | None = None
    accumulators: Mapping[str, Callable[[], Any]] = attrs.field(factory=dict)
    ask: AskFormat | None = None


@attrs.frozen(kw_only=True)
class AskFormat:
    """How one question is put to a provider's chat operation (`py302 chat`).

    `name` is the `--format` that picks it; `operation` answers whole and, if it can
    stream, through its `.stream(...)` form, unless `streaming_operation` names an
    operation that always streams; `arguments(model, prompt, system, max_tokens)`
    gives the keyword arguments of a call (`system` and `max_tokens` may be None).
    """

    name: str
    operation: str
    arguments: Callable[[str, str, str | None, int | None], Mapping[str, Any]]
    streaming_operation: str | None = None
    #: The format `py302 chat` uses unless told: one that reaches every model.
    preferred: bool = False


@attrs.frozen(kw_only=True)
class PluginFailure:
    """A plugin that could not be used, and why (shown by `py302 plugins`)."""

    name: str
    reason: str


class PluginHost:
    """The loaded plugins, the providers they registered, and those that failed."""

    def __init__(
        self,
        *,
        builtins: bool = True,
        entry_points: bool = True,
        plugins: Iterable[tuple[str, object]] = (),
        disabled: Iterable[str] | None = None,
    ) -> None:
        self.pm = pluggy.PluginManager("py302")
        self.pm.add_hookspecs(hookspecs)
        self.failures: list[PluginFailure] = []
        self.providers: dict[str, Provider] = {}
        self.versions: dict[str, str] = {}
        if disabled is None:
            disabled = _disabled_from_env()
        self.disabled = frozenset(disabled)
        self._bare: dict[str, tuple[str, str]] = {}  # generated providers, by name
        if builtins:
            from py302.plugins import BUILTIN_PLUGINS

            for module in BUILTIN_PLUGINS:
                name = module.rsplit(".", 1)[-1]
                self.versions[name] = f"{__version__} (built in)"
                self._load(name, lambda module=module: importlib.import_module(module))
            from py302.generated import PROVIDER_MODULES

            self._bare.update({p: (m, "py302") for p, m in PROVIDER_MODULES.items()})
        if entry_points:
            # Only hosts that look for third-party plugins pay for importing this.
            from importlib import metadata

            for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
                dist = getattr(point, "dist", None)
                self.versions[point.name] = getattr(dist, "version", None) or "unknown"
                self._load(point.name, point.load)
        for name, plugin in plugins:
            self._load(name, lambda plugin=plugin: plugin)
        self._register_providers()
        for provider, (bindings, plugin_name) in sorted(self._bare.items()):
            # A disabled name disables the provider too, not just the plugin behind it.
            if provider not in self.providers and not {provider, plugin_name} & self.disabled:
                self.providers[provider] = Provider(
                    name=provider, bindings=bindings, plugin=plugin_name
                )

    @property
    def hook(self) -> Any:
        """The pluggy hook relay (`host.hook.py302_response_error(operation=...)`)."""
        return self.pm.hook

    def plugin_names(self) -> list[str]:
        """Names of the plugins that loaded, in registration order."""
        return [name for name, _ in self.pm.list_name_plugin() if name is not None]

    def provider(self, name: str) -> Provider:
        """The registered provider `name`; a clear error if no plugin registered it."""
        try:
            return self.providers[name]
        except KeyError:
            known = ", ".join(sorted(self.providers)) or "none"
            failed = [f.name for f in self.failures]
            hint = f"; plugins that failed to load: {', '.join(failed)}" if failed else ""
            raise ConfigurationError(
                f"no plugin provides {name!r} (providers: {known}{hint})"
            ) from None

    def _load(self, name: str, load: Any) -> None:
        if name in self.disabled:
            logger.info("py302 plugin %s is disabled", name)
            return
        try:
            plugin = load()
        except Exception as exc:  # a broken plugin must not take the client down
            self._fail(name, f"import failed: {type(exc).__name__}: {exc}")
            return
        marked = [
            attr
            for attr in dir(plugin)
            if getattr(getattr(plugin, attr, None), "py302_impl", None) is not None
        ]
        modules = getattr(plugin, "PROVIDER_MODULES", None)
        if isinstance(modules, Mapping) and not marked:  # a generated bindings package
            self._bare.update({str(p): (str(m), name) for p, m in modules.items()})
            return
        removed = [attr for attr in marked if attr in hookspecs.REMOVED_HOOKS]
        declared = getattr(plugin, "PY302_PLUGIN_API", hookspecs.PLUGIN_API_VERSION)
        if removed or declared != hookspecs.PLUGIN_API_VERSION:
            advice = "; ".join(f"{attr}: {hookspecs.REMOVED_HOOKS[attr]}" for attr in removed)
            self._fail(
                name,
                f"written for plugin API {declared if not removed else 1}, this py302 provides "
                f"{hookspecs.PLUGIN_API_VERSION}"
                + (f" (hooks removed: {advice})" if advice else "")
                + "; upgrade the plugin, or pin py302<0.2",
            )
            return
        unknown = [attr for attr in marked if not hasattr(hookspecs, attr)]
        if unknown:
            self._fail(name, f"unknown hook(s) {', '.join(unknown)} (misspelled?)")
            return
        try:
            self.pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            self._fail(name, str(exc))

    def _register_providers(self) -> None:
        for impl in self.pm.hook.py302_register_providers.get_hookimpls():

            def register(provider: Provider, _plugin: str = impl.plugin_name) -> None:
                if provider.name in self.providers:
                    raise ValueError(
                        f"provider {provider.name!r} is already registered by "
                        f"{self.providers[provider.name].plugin}"
                    )
                self.providers[provider.name] = attrs.evolve(provider, plugin=_plugin)

            before = dict(self.providers)
            try:
                impl.function(register=register)
            except Exception as exc:  # isolate: one plugin's bug is its own failure
                self._fail(impl.plugin_name, f"py302_register_providers failed: {exc}")
                self.pm.unregister(name=impl.plugin_name)
                self.providers = before  # nothing half-registered stays behind

    def _fail(self, name: str, reason: str) -> None:
        logger.warning("py302 plugin %s was not loaded: %s", name, reason)
        self.failures.append(PluginFailure(name=name, reason=reason))


def _disabled_from_env() -> list[str]:
    raw = os.environ.get(DISABLE_ENV_VAR, "")
    return [name.strip() for name in raw.split(",") if name.strip()]


@functools.lru_cache(maxsize=1)
def default_host() -> PluginHost:
    """The host shared by clients that are not given one, built on first use."""
    return PluginHost()
