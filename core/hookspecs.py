"""Hook specifications: how plugins shape what the core does.

A plugin is a module (or object) with functions marked `@py302.hookimpl` whose names
are among the specs below. Built-in plugins live in `py302.plugins`; third-party ones
are found through the `py302` entry-point group. Every hook is called with keyword
arguments and a plugin may accept any subset of them. `PLUGIN_API_VERSION` is the
version of this contract; a plugin declares `PY302_PLUGIN_API = 2` to be checked
against it.

Two hooks only. What a single provider needs is not a hook: the plugin registers a
`py302.Provider` carrying it (task patterns, error reading, normalization, headers,
authentication, stream accumulators), and the core calls it for that provider's
operations and no others. Hooks are for concerns that cross providers:

* `py302_register_providers` — once, when the plugins are loaded;
* `py302_response_error` — each answer that no provider rule judged (302's gateway
  reports some failures the same way in front of every provider).

Who judges an answer, in this order; the first that returns an error wins:

1. the provider's `Provider.response_error`;
2. the operation's declared error envelope (`x-py302-result.error` in the spec);
3. the cross-provider `py302_response_error` hooks;
4. the HTTP status (4xx/5xx become `APIStatusError` subclasses).

A task's state inside a 2xx submit or poll answer (running, failed, cancelled) is not
an error: the operation's task pattern reads it. Authentication headers are built
once per call, after validation, and reused by its retries; the provider's request
headers come first, then authentication, then the caller's own headers, which win.

Plugin API 2 (py302 0.2) replaced the per-provider hooks of API 1, which every plugin
answered for every provider's operations, by `Provider` fields (`REMOVED_HOOKS`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import httpx

    from ._plugins import Provider
    from ._registry import OperationSpec

__all__ = ["PLUGIN_API_VERSION", "REMOVED_HOOKS", "hookimpl", "hookspec"]

PLUGIN_API_VERSION = 2

#: Hooks of plugin API 1 and what replaced them, for the message an old plugin gets.
REMOVED_HOOKS = {
    "py302_task_pattern": "pass Provider(task_patterns={name: PatternClass})",
    "py302_normalize_result": "pass Provider(normalize=...) or declare x-py302-result",
    "py302_request_headers": "pass Provider(request_headers=...)",
    "py302_auth_headers": "pass Provider(auth_headers=...)",
}

hookspec = pluggy.HookspecMarker("py302")
hookimpl = pluggy.HookimplMarker("py302")


@hookspec
def py302_register_providers(register: Callable[[Provider], None]) -> None:
    """Declare the providers this plugin serves, each with its behaviour.

    :param register: call it once per provider with a `py302.Provider` (its name, the
        bindings module that holds its generated operations, a title, and whatever
        the spec cannot say).

    All implementations are called, once, when the plugin host loads the plugins.
    Two plugins registering the same provider name is an error reported for the
    second one.
    """


@hookspec(firstresult=True)
def py302_response_error(
    operation: OperationSpec, response: httpx.Response, payload: Any
) -> Exception | None:
    """Turn an answer into the exception it stands for, or None, for any provider.

    :param operation: the operation that was called.
    :param response: the HTTP response (its body is already read).
    :param payload: the body decoded from JSON, or the raw bytes if it is not JSON.

    Stops at the first non-None result. Called for every answer (2xx included) that
    the provider's own rules did not already judge an error (see the module docs).
    """
