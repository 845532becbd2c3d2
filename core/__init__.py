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

from ._client import AsyncClient, Client
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    Py302Error,
    RateLimitError,
    RequestValidationError,
    ResponseShapeError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskTimeoutError,
    UnprocessableEntityError,
    UnsupportedOperationError,
)
from ._journal import Journal, JournalEntry
from ._plugins import PluginFailure, PluginHost, Provider
from ._registry import OperationSpec
from ._results import Asset, Normalized, Result, Usage
from ._tasks import AsyncTask, PollParams, Task, TaskPattern, TaskSnapshot, TaskStatus
from ._version import __version__
from .hookspecs import PLUGIN_API_VERSION, hookimpl

__all__ = [
    "PLUGIN_API_VERSION",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Asset",
    "AsyncClient",
    "AsyncTask",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "InternalServerError",
    "Journal",
    "JournalEntry",
    "Normalized",
    "NotFoundError",
    "OperationSpec",
    "PermissionDeniedError",
    "PluginFailure",
    "PluginHost",
    "PollParams",
    "Provider",
    "Py302Error",
    "RateLimitError",
    "RequestValidationError",
    "ResponseShapeError",
    "Result",
    "Task",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "TaskPattern",
    "TaskSnapshot",
    "TaskStatus",
    "TaskTimeoutError",
    "UnprocessableEntityError",
    "UnsupportedOperationError",
    "Usage",
    "__version__",
    "hookimpl",
]

for _name in __all__:
    _value = globals()[_name]
    if hasattr(_value, "__module__") and isinstance(_value, type):
        _value.__module__ = "py302"
del _name, _value
