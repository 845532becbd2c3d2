"""py302: a typed Python SDK for the 302.AI API.

    from py302 import Client

    with Client() as client:                     # key from AI302_API_KEY
        result = client.<provider>.<operation>(prompt="a lighthouse at dawn")
        result.save("out/")

Provider operations live under `client.<provider>`; submit-then-poll operations
return a `Task` whose `wait()` gives the `Result`. Errors are in `py302` too
(`py302.APIStatusError`, ...); plugin authors need `hookimpl`, `Provider`,
`TaskPattern`, `TaskSnapshot`, `TaskStatus` and `Normalized`.
"""

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from ._client import AsyncClient, Client
    from ._errors import (
        APIConnectionError,
        APIStatusError,
        APIStreamError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        CassetteError,
        ConfigurationError,
        ConflictError,
        DownloadError,
        DownloadTooLargeError,
        InternalServerError,
        JournalError,
        MalformedResponseError,
        NotFoundError,
        OutputExistsError,
        PermissionDeniedError,
        Py302Error,
        RateLimitError,
        RequestValidationError,
        ResponseShapeError,
        ResponseTooLargeError,
        StreamInterruptedError,
        TaskCancelledError,
        TaskError,
        TaskFailedError,
        TaskTimeoutError,
        UnprocessableEntityError,
        UnsupportedOperationError,
    )
    from ._journal import Journal, JournalEntry
    from ._plugins import AskFormat, PluginFailure, PluginHost, Provider
    from ._registry import OperationSpec
    from ._results import Asset, Normalized, Result, ToolCall, Usage
    from ._streams import Accumulator, AsyncStream, Stream
    from ._task_handles import AsyncTask, Task
    from ._tasks import PollParams, TaskPattern, TaskSnapshot, TaskStatus
    from ._version import __version__
    from ._webhooks import (
        AsyncWebhooks,
        ConfirmedWebhook,
        InvalidWebhookError,
        Webhook,
        Webhooks,
    )
    from .hookspecs import PLUGIN_API_VERSION, hookimpl

# Names are imported on first use (PEP 562): `import py302` stays cheap for code that
# needs one corner of it (the CLI, plugins reading `py302.payloads`), and the cost of
# httpx, attrs and pluggy is paid by the first `from py302 import Client`.
_EXPORTS: dict[str, str] = {
    "APIConnectionError": "._errors",
    "APIStatusError": "._errors",
    "APITimeoutError": "._errors",
    "AskFormat": "._plugins",
    "Asset": "._results",
    "AsyncClient": "._client",
    "Accumulator": "._streams",
    "AsyncStream": "._streams",
    "AsyncTask": "._task_handles",
    "APIStreamError": "._errors",
    "DownloadError": "._errors",
    "DownloadTooLargeError": "._errors",
    "Stream": "._streams",
    "StreamInterruptedError": "._errors",
    "AuthenticationError": "._errors",
    "BadRequestError": "._errors",
    "Client": "._client",
    "ConfigurationError": "._errors",
    "ConflictError": "._errors",
    "InternalServerError": "._errors",
    "JournalError": "._errors",
    "MalformedResponseError": "._errors",
    "Journal": "._journal",
    "JournalEntry": "._journal",
    "Normalized": "._results",
    "NotFoundError": "._errors",
    "OutputExistsError": "._errors",
    "OperationSpec": "._registry",
    "PLUGIN_API_VERSION": ".hookspecs",
    "PermissionDeniedError": "._errors",
    "PluginFailure": "._plugins",
    "PluginHost": "._plugins",
    "PollParams": "._tasks",
    "AsyncWebhooks": "._webhooks",
    "ConfirmedWebhook": "._webhooks",
    "InvalidWebhookError": "._webhooks",
    "Webhook": "._webhooks",
    "Webhooks": "._webhooks",
    "Provider": "._plugins",
    "Py302Error": "._errors",
    "RateLimitError": "._errors",
    "RequestValidationError": "._errors",
    "ResponseShapeError": "._errors",
    "ResponseTooLargeError": "._errors",
    "CassetteError": "._errors",
    "Result": "._results",
    "Task": "._task_handles",
    "TaskCancelledError": "._errors",
    "TaskError": "._errors",
    "TaskFailedError": "._errors",
    "TaskPattern": "._tasks",
    "TaskSnapshot": "._tasks",
    "TaskStatus": "._tasks",
    "TaskTimeoutError": "._errors",
    "ToolCall": "._results",
    "UnprocessableEntityError": "._errors",
    "UnsupportedOperationError": "._errors",
    "Usage": "._results",
    "__version__": "._version",
    "hookimpl": ".hookspecs",
}


def __getattr__(name: str) -> _Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'py302' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    if isinstance(value, type):
        value.__module__ = "py302"
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "PLUGIN_API_VERSION",
    "APIConnectionError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "Accumulator",
    "AskFormat",
    "Asset",
    "AsyncClient",
    "AsyncStream",
    "AsyncTask",
    "AsyncWebhooks",
    "AuthenticationError",
    "BadRequestError",
    "CassetteError",
    "Client",
    "ConfigurationError",
    "ConfirmedWebhook",
    "ConflictError",
    "DownloadError",
    "DownloadTooLargeError",
    "InternalServerError",
    "InvalidWebhookError",
    "Journal",
    "JournalEntry",
    "JournalError",
    "MalformedResponseError",
    "Normalized",
    "NotFoundError",
    "OperationSpec",
    "OutputExistsError",
    "PermissionDeniedError",
    "PluginFailure",
    "PluginHost",
    "PollParams",
    "Provider",
    "Py302Error",
    "RateLimitError",
    "RequestValidationError",
    "ResponseShapeError",
    "ResponseTooLargeError",
    "Result",
    "Stream",
    "StreamInterruptedError",
    "Task",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "TaskPattern",
    "TaskSnapshot",
    "TaskStatus",
    "TaskTimeoutError",
    "ToolCall",
    "UnprocessableEntityError",
    "UnsupportedOperationError",
    "Usage",
    "Webhook",
    "Webhooks",
    "__version__",
    "hookimpl",
]
