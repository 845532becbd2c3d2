"""Hook specifications: how provider plugins shape what the core does.

A plugin is a module (or object) with functions marked `@py302.hookimpl` whose names
are among the specs below. Built-in plugins live in `py302.plugins`; third-party ones
are found through the `py302` entry-point group. Every hook is called with keyword
arguments and a plugin may accept any subset of them. `PLUGIN_API_VERSION` is the
version of this contract; a plugin may declare `PY302_PLUGIN_API = 1` to be checked
against it.

Hooks, in the order a call meets them:

* `py302_register_providers` — once, when the plugins are loaded;
* `py302_auth_headers`, `py302_request_headers` — building each request;
* `py302_response_error` — each answer, before it is read as a success;
* `py302_task_pattern` — before a task is submitted (no pattern, no submit);
* `py302_normalize_result` — each finished call, to build the `Result`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import httpx

    from ._plugins import Provider
    from ._registry import OperationSpec
    from ._results import Normalized
    from ._tasks import TaskPattern
    from .binding import Call

__all__ = ["PLUGIN_API_VERSION", "hookimpl", "hookspec"]

PLUGIN_API_VERSION = 1

hookspec = pluggy.HookspecMarker("py302")
hookimpl = pluggy.HookimplMarker("py302")


# -- registration ---------------------------------------------------------------------


@hookspec
def py302_register_providers(register: Callable[[Provider], None]) -> None:
    """Declare the providers this plugin serves.

    :param register: call it once per provider with a `py302.Provider` (its name, the
        bindings module that holds its generated operations, a title).

    All implementations are called, once, when the plugin host loads the plugins.
    Two plugins registering the same provider name is an error reported for the
    second one.
    """


# -- requests -------------------------------------------------------------------------


@hookspec(firstresult=True)
def py302_auth_headers(provider: str, api_key: str) -> Mapping[str, str] | None:
    """Headers that authenticate a request to `provider`.

    :param provider: the provider of the operation being called.
    :param api_key: the client's API key. Never log it or keep it.

    Stops at the first non-None result. With none, the core sends
    `Authorization: Bearer <api_key>`, which is what 302.AI documents for its
    endpoints. Called for every request, retries included.
    """


@hookspec
def py302_request_headers(operation: OperationSpec, call: Call[Any]) -> Mapping[str, str] | None:
    """Extra headers for one request (an `Accept` a provider needs, for instance).

    :param operation: the operation being called.
    :param call: the caller's values (path, query, body, headers).

    All results are merged, later plugins over earlier ones; the caller's own headers
    in `call.headers` win over every plugin. Called once per call, before validation.
    """


# -- responses ------------------------------------------------------------------------


@hookspec(firstresult=True)
def py302_response_error(
    operation: OperationSpec, response: httpx.Response, payload: Any
) -> Exception | None:
    """Turn an answer into the exception it stands for, or None if it is a success.

    :param operation: the operation that was called.
    :param response: the HTTP response (its body is already read).
    :param payload: the body decoded from JSON, or the raw bytes if it is not JSON.

    Stops at the first non-None result. Called for every answer, 2xx included, so a
    provider that reports errors inside HTTP 200 can raise them. With no result, a
    non-2xx answer becomes the `APIStatusError` subclass for its status.
    """


@hookspec(firstresult=True)
def py302_normalize_result(
    operation: OperationSpec, payload: Any, response: httpx.Response | None
) -> Normalized | None:
    """Extract assets, text and usage from a finished call's payload.

    :param operation: the operation whose answer this is (for a task: the poll
        operation that reported success).
    :param payload: the decoded body (bytes for a binary answer).
    :param response: the HTTP response, or None when the payload was not fetched now.

    Stops at the first non-None result. With none, the `Result` has no assets. Must
    not raise for a payload it does not recognise: return None instead.
    """


# -- tasks ----------------------------------------------------------------------------


@hookspec(firstresult=True)
def py302_task_pattern(name: str, operation: OperationSpec) -> TaskPattern | None:
    """The `TaskPattern` for the name used in an operation's `x-py302-task.pattern`.

    :param name: the pattern's name, such as `acme.jobs`.
    :param operation: the submit operation; `operation.task.options` holds any other
        keys of its `x-py302-task` block, so a pattern can be configured by the spec.

    Stops at the first non-None result. Called before a task is submitted: an
    operation whose pattern no plugin supplies is refused before anything is sent.
    """
