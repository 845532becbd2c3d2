"""Every exception py302 raises, in one hierarchy.

    Py302Error
    ├── ConfigurationError          the client was set up wrongly (nothing was sent)
    ├── RequestValidationError      a request breaks its schema (nothing was sent)
    ├── UnsupportedOperationError   the provider has no such action (e.g. cancel)
    ├── APIConnectionError          the request did not get a (whole) HTTP answer
    │   ├── APITimeoutError         ... because a timeout ran out
    │   ├── ResponseTooLargeError   ... because it was larger than the size cap
    │   └── StreamInterruptedError  ... an event stream broke or ended early
    ├── APIStatusError              the server answered with an error
    │   ├── BadRequestError             400
    │   ├── AuthenticationError         401
    │   ├── PermissionDeniedError       403
    │   ├── NotFoundError               404
    │   ├── ConflictError               409
    │   ├── UnprocessableEntityError    422
    │   ├── RateLimitError              429
    │   ├── InternalServerError         5xx
    │   └── APIStreamError              an error event inside a stream
    ├── ResponseShapeError          a 2xx body does not fit the operation's model
    │   └── MalformedResponseError  ... it is not even the JSON it says it is
    ├── DownloadError               a result file could not be fetched
    │   └── DownloadTooLargeError   ... it was larger than the size cap
    ├── OutputExistsError           saving would replace a file (pass overwrite=True)
    ├── CassetteError               a file is not a readable VCR cassette
    ├── JournalError                the task journal file cannot be read or written
    └── TaskError                   a submitted task did not produce a result
        ├── TaskFailedError         ... the provider says it failed
        ├── TaskCancelledError      ... it was cancelled
        └── TaskTimeoutError        ... the wait's deadline passed first

A 2xx answer whose body is an error envelope (a provider that reports errors inside
HTTP 200) becomes an `APIStatusError` through the provider's plugin. No message here
ever contains the API key: errors carry the response, never the request headers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CassetteError",
    "ConfigurationError",
    "ConflictError",
    "DownloadError",
    "DownloadTooLargeError",
    "InternalServerError",
    "JournalError",
    "MalformedResponseError",
    "NotFoundError",
    "OutputExistsError",
    "PermissionDeniedError",
    "Py302Error",
    "RateLimitError",
    "RequestValidationError",
    "ResponseShapeError",
    "ResponseTooLargeError",
    "StreamInterruptedError",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "TaskTimeoutError",
    "UnprocessableEntityError",
    "UnsupportedOperationError",
    "status_error_class",
]

#: The headers that carry a request id, preferred first (lower-case bytes, as compared
#: with the raw headers).
_REQUEST_ID_HEADERS = (b"x-request-id", b"request-id", b"x-302-request-id", b"cf-ray")
_BODY_PREVIEW = 500


class Py302Error(Exception):
    """Base class of every error py302 raises on purpose."""


class ConfigurationError(Py302Error):
    """Raised when the client is set up in a way that cannot work, before any request."""


class RequestValidationError(Py302Error, ValueError):
    """Raised before sending when a request breaks its operation's schema.

    `problems` lists one `(field, rule)` pair per violation; `field` is a dotted path
    into the request (`image_size.width`), `rule` says what is wrong and what is allowed.
    """

    def __init__(self, operation: str, problems: Sequence[tuple[str, str]]) -> None:
        self.operation = operation
        self.problems = tuple(problems)
        lines = [f"{field}: {rule}" for field, rule in self.problems]
        super().__init__(
            f"{operation}: invalid request, nothing was sent.\n  " + "\n  ".join(lines)
        )


class UnsupportedOperationError(Py302Error):
    """Raised when an action (cancel, for instance) does not exist for this provider."""


class APIConnectionError(Py302Error):
    """Raised when a request got no HTTP answer: DNS, refused or reset connections."""

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        self.operation = operation
        super().__init__(f"{operation}: {message}" if operation else message)


class APITimeoutError(APIConnectionError, TimeoutError):
    """Raised when connecting, sending or reading ran past the client's timeout."""


class ResponseTooLargeError(APIConnectionError):
    """Raised when an API answer decodes to more than `limit` bytes; the rest is not
    read. `Client(max_response_bytes=...)` raises the cap."""

    def __init__(self, limit: int, *, operation: str | None = None) -> None:
        self.limit = limit
        super().__init__(
            f"the answer is larger than {limit} bytes once decoded, and was not read; "
            "if that is expected, raise Client(max_response_bytes=...)",
            operation=operation,
        )


class StreamInterruptedError(APIConnectionError):
    """Raised while iterating when an event stream breaks, or ends without its end
    marker, after the server started answering; such a stream is never resent."""


class APIStatusError(Py302Error):
    """Raised when the server answers with an error (or a 2xx that carries one).

    Carries the HTTP `status`, the `provider`, the `operation`, the provider's own
    error `code` and `message` when its envelope has them, the server's `request_id`,
    and the decoded `body` (JSON value or text).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        provider: str | None = None,
        operation: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        code: str | int | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.status = status
        self.provider = provider
        self.operation = operation
        self.request_id = request_id
        self.body = body
        self.code = code
        self.message = message
        self.response = response
        where = operation or provider or "py302"
        rid = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{where}: HTTP {status}: {message}{rid}")

    @classmethod
    def from_response(
        cls,
        response: httpx.Response,
        *,
        provider: str | None = None,
        operation: str | None = None,
        message: str | None = None,
        code: str | int | None = None,
    ) -> APIStatusError:
        """Build the error class that fits `response.status_code` from a response."""
        body = _decode_body(response)
        if message is None:
            message = _guess_message(body) or response.reason_phrase or "error"
        if code is None:
            code = _guess_code(body)
        error_class = status_error_class(response.status_code)
        return error_class(
            message,
            status=response.status_code,
            provider=provider,
            operation=operation,
            request_id=request_id_of(response),
            body=body,
            code=code,
            response=response,
        )


class BadRequestError(APIStatusError):
    """HTTP 400: the server rejected the request's content."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key may not use this endpoint (or has no balance left)."""


class NotFoundError(APIStatusError):
    """HTTP 404: no such endpoint, model or task."""


class ConflictError(APIStatusError):
    """HTTP 409: the request conflicts with the current state of a resource."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422: the request was well formed but its values were refused."""


class RateLimitError(APIStatusError):
    """HTTP 429: too many requests; retried automatically within `max_retries`."""


class InternalServerError(APIStatusError):
    """HTTP 5xx: the server or an upstream provider failed."""


class APIStreamError(APIStatusError):
    """Raised while iterating when the server sends an error inside an event stream
    (an `event: error`, or an error object where an event should be)."""

    @classmethod
    def from_event(
        cls,
        data: Any,
        response: httpx.Response,
        *,
        operation: str,
        message: str | None = None,
        code: str | int | None = None,
    ) -> APIStreamError:
        """The error an error event stands for (`data` decoded, or its text); `message`
        and `code` as the operation's declared envelope read them, else guessed."""
        return cls(
            message or _guess_message(data) or "error event in the stream",
            status=response.status_code,
            operation=operation,
            request_id=request_id_of(response),
            body=data,
            code=code if code is not None else _guess_code(data),
            response=response,
        )


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The `APIStatusError` subclass that stands for HTTP `status`."""
    if status >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status, APIStatusError)


class DownloadError(Py302Error):
    """Raised by `Asset.read()`/`save()` when a result file cannot be fetched.

    `status` is the file host's HTTP status (None when no answer came); `url` is the
    file's address without its query string (signed URLs carry credentials there).
    """

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(f"download of {url} failed: {message}")


class DownloadTooLargeError(DownloadError):
    """Raised when a result file decodes to more than `limit` bytes; nothing of it is
    kept. `Client(max_download_bytes=...)` raises the cap."""

    def __init__(self, *, url: str, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"the file is larger than {limit} bytes once decoded; if that is expected, "
            "raise Client(max_download_bytes=...)",
            url=url,
        )


class OutputExistsError(Py302Error, FileExistsError):
    """Raised by `save()` instead of replacing an existing file; `path` is that file.

    Saving into a folder never raises it (a free name is chosen, `name-1.png`); saving
    to a named file does, unless `overwrite=True` (CLI: `--overwrite`).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"{path} exists and was kept; pass overwrite=True (CLI: --overwrite) to replace "
            "it, or save under another name or into a folder"
        )


class CassetteError(Py302Error, ValueError):
    """Raised when a file given as a cassette cannot be read as one (contract checks,
    `py302 specs drift` and `learn`); the message names the file."""


class JournalError(Py302Error):
    """Raised when the task journal's file cannot be opened, read or written; `path` is
    the file. Before a submit nothing is sent; after one, the task is kept (its id is
    logged and returned) and only the journal row is missing."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(
            f"the task journal {path} cannot be used: {reason}. Repair or move that file, "
            "or set PY302_JOURNAL to another one"
        )


class ResponseShapeError(Py302Error):
    """Raised when a successful body cannot be read as the operation's model.

    `problems` holds cattrs' explanation, one line per field; `body` the decoded body.
    """

    def __init__(self, operation: str, problems: Sequence[str], body: Any = None) -> None:
        self.operation = operation
        self.problems = tuple(problems)
        self.body = body
        super().__init__(
            f"{operation}: the response does not match the spec.\n  " + "\n  ".join(self.problems)
        )


class MalformedResponseError(ResponseShapeError):
    """Raised when a 2xx body says it is JSON and is not (broken UTF-8, broken JSON,
    nesting deeper than Python reads). A wait treats a poll answered so as no news
    and polls again; a submit answered so may have started a task (journal: `lost`)."""


class TaskError(Py302Error):
    """Base class of the ways a submitted task can end without a result.

    `task_id` and `operation` are always set, so the task can be looked up again
    (`client.resume_task(operation, task_id)`).
    """

    def __init__(self, message: str, *, task_id: str, operation: str, raw: Any = None) -> None:
        self.task_id = task_id
        self.operation = operation
        self.raw = raw
        super().__init__(f"{operation} task {task_id}: {message}")


class TaskFailedError(TaskError):
    """Raised by `wait()` when the provider reports that the task failed."""


class TaskCancelledError(TaskError):
    """Raised by `wait()` when the task was cancelled."""


class TaskTimeoutError(TaskError, TimeoutError):
    """Raised by `wait()` when its deadline passes before the task ends.

    The task itself goes on at the provider; wait again or resume it later by id.
    """


def request_id_of(response: httpx.Response) -> str | None:
    """The server's request id, from the first header that carries one."""
    # One pass over the raw headers (asking for each name in turn scanned them all four
    # times, and decoding every header to text cost as much again).
    found = {}
    for name, value in response.headers.raw:
        lowered = name.lower()
        if lowered in _REQUEST_ID_HEADERS and value:
            found[lowered] = value
    if not found:
        return None
    first = next(name for name in _REQUEST_ID_HEADERS if name in found)
    return found[first].decode(response.headers.encoding)


def _decode_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:_BODY_PREVIEW] if response.text else None


def _guess_code(body: Any) -> str | int | None:
    """The error code of the common envelopes (`{error: {err_code}}`, `{code}`), if any."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    holders = [error, body] if isinstance(error, dict) else [body]
    for holder in holders:
        for key in ("err_code", "code"):
            value = holder.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
                return value
    return None


def _guess_message(body: Any) -> str | None:
    """Find a human message in the common error envelopes, else None."""
    if isinstance(body, str):
        return _html_summary(body) or body.strip()[:_BODY_PREVIEW] or None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        for key in ("message", "msg", "detail"):
            if isinstance(error.get(key), str):
                return str(error[key])
    for key in ("message", "msg", "detail", "error"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _html_summary(text: str) -> str | None:
    """For an HTML error page (a proxy's, say): its title, not its markup."""
    head = text.lstrip()[:200].lower()
    if not head.startswith(("<!doctype html", "<html", "<head", "<body")):
        return None
    words = []
    for tag in ("title", "h1"):
        match = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", text, re.IGNORECASE | re.DOTALL)
        found = " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())[:200] if match else ""
        if found:
            words.append(found)
    # "502" and "502 Bad Gateway" say one thing: keep the fuller one.
    words = [w for w in dict.fromkeys(words) if not any(w != o and w in o for o in words)]
    return "the server answered with an HTML page" + (f" ({'; '.join(words)})" if words else "")
