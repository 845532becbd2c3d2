"""One request, from a `Call` to a `Result`: preparing, sending with retries, reading.

`prepare` validates a call and builds its request before anything is sent;
`request_flow` sends it with the retry policy of `py302._retry`; `interpret` turns an
answer into a payload or the error it stands for; `build_result` makes the `Result`.
`call_flow` is the whole of a plain call. All of it is I/O-free (see `py302._steps`).

Who judges an answer, in order (also stated in `py302.hookspecs`): the provider's
own `response_error`, then the operation's declared error envelope
(`x-py302-result.error`), then the cross-provider `py302_response_error` hooks (302's
gateway envelope), then the HTTP status. Task *state* (running, failed) in a 2xx
submit or poll answer is the task pattern's to read, not an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs
import httpx

from ._constants import MIN_REQUEST_BUDGET
from ._context import Context
from ._convert import structure, unstructure
from ._encoded_files import encode_file_fields
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    MalformedResponseError,
    RequestValidationError,
    ResponseTooLargeError,
    request_id_of,
)
from ._observers import announce, report_refusal, tell
from ._registry import OperationSpec, ProviderRegistry, media_type
from ._results import Asset, Normalized, Result
from ._retry import retry_delay, should_retry
from ._steps import Flow, Send, Sleep
from ._transport import (
    build_request,
    cookie_pairs,
    decode_payload,
    json_content,
    json_problem,
    simple_value,
)
from ._validation import validate_request
from .binding import Call

if TYPE_CHECKING:
    from ._tasks import PollParams, TaskPattern
    from ._uploads import PendingUpload

__all__ = [
    "Prepared",
    "build_result",
    "call_flow",
    "connection_error",
    "interpret",
    "normalize",
    "prepare",
    "prepare_poll",
    "request_flow",
    "retry_step",
]

logger = logging.getLogger("py302")
_NOTHING: Mapping[str, Any] = {}


@attrs.frozen(kw_only=True)
class Prepared:
    """A call that passed validation, ready to send (and resend)."""

    spec: OperationSpec
    registry: ProviderRegistry
    request: httpx.Request
    model: Any
    options: Mapping[str, Any] = attrs.field(factory=dict)
    path: Mapping[str, Any] = attrs.field(factory=dict)
    """The path values the URL was filled with (a task's poll reuses them)."""
    body: Any = attrs.field(default=None, repr=False)
    uploads: tuple[PendingUpload, ...] = ()
    """Files to upload before sending; `body` holds placeholders for their URLs."""
    rebuild: Callable[..., httpx.Request] | None = attrs.field(default=None, repr=False)

    def with_body(self, body: Any) -> Prepared:
        """This call with another body (the uploaded files' URLs in), nothing left to
        upload."""
        assert self.rebuild is not None
        return attrs.evolve(self, request=self.rebuild(body=body), body=body, uploads=())


def prepare(ctx: Context, registry: ProviderRegistry, call: Call[Any]) -> Prepared:
    """Validate `call` against its operation's schema and build the request.

    Headers are added after validation: the provider's (an `Accept` it needs), then
    authentication, then the caller's own, which win.
    """
    spec = registry.get(call.operation)
    if call.content_type is not None:
        try:
            spec = spec.for_media(call.content_type)
        except ValueError as exc:
            raise RequestValidationError(
                spec.qualified_name, [("content_type", str(exc))]
            ) from None
    path = {**spec.path_defaults, **{key: unstructure(value) for key, value in call.path.items()}}
    query = {key: unstructure(value) for key, value in call.query.items()}
    body = unstructure(dict(call.body) if isinstance(call.body, Mapping) else call.body)
    encoded = encode_file_fields(spec, body, uploads=ctx.upload_files)
    if encoded.problems:
        raise RequestValidationError(spec.qualified_name, encoded.problems)
    body = encoded.body
    wire = json_content(spec.request_content_type, body)
    options = {key: unstructure(value) for key, value in call.options.items()}
    cookies = {key: unstructure(value) for key, value in call.cookies.items()}
    validate_request(
        registry,
        spec,
        path=path,
        query=query,
        body=body,
        options=options,
        headers=call.headers,
        cookies=cookies,
        plain_json=wire is not None,
    )
    if spec.option_defaults:
        options = {**spec.option_defaults, **options}
    provider = ctx.provider(spec.provider)
    headers: dict[str, str] = {}
    if provider.request_headers is not None:
        headers.update(provider.request_headers(spec, attrs.evolve(call, options=options)) or {})
    headers.update(auth_headers(ctx, spec))
    if call.headers:
        declared = spec.header_parameters
        headers.update(
            {
                name: simple_value(value, declared.get(name.lower()))
                for name, value in call.headers.items()
            }
        )
    if cookies:
        declared_cookies = {
            name: param for (where, name), param in spec.parameter_at.items() if where == "cookie"
        }
        given = {name.lower(): name for name in headers}.get("cookie")
        own = cookie_pairs(cookies, declared_cookies)
        # A Cookie header the caller passed keeps its pairs; the declared ones join it.
        headers[given or "Cookie"] = f"{headers[given]}; {own}" if given else own
    build = partial(build_request, spec, base_url=ctx.base_url, path=path, query=query)
    return Prepared(
        spec=spec,
        registry=registry,
        request=build(body=body, headers=headers, content=wire),
        model=call.model,
        options=options,
        path=path,
        body=body,
        uploads=tuple(encoded.uploads),
        rebuild=partial(build, headers=headers),
    )


def auth_headers(ctx: Context, spec: OperationSpec) -> Mapping[str, str]:
    """The headers that carry the key for `spec`: its provider plugin's, else the ones
    its spec's `security` declares, else `Authorization: Bearer`."""
    if spec.auth == ():
        return {}  # the spec says this operation takes no key
    if ctx.api_key is None:
        raise ConfigurationError(
            "no API key: pass Client(api_key=...) or set AI302_API_KEY (get a key at https://302.ai)"
        )
    key = ctx.api_key.reveal()
    supplied = ctx.provider(spec.provider).auth_headers
    headers = supplied(key) if supplied is not None else None
    if headers is not None:
        return headers
    if spec.auth is not None:
        return {auth.header: f"{auth.prefix}{key}" for auth in spec.auth}
    return {"Authorization": f"Bearer {key}"}


def prepare_poll(
    ctx: Context,
    registry: ProviderRegistry,
    operation: str,
    params: PollParams,
    options: Mapping[str, Any],
    *,
    submit_path: Mapping[str, Any] = _NOTHING,
) -> Prepared:
    """The request that polls (or cancels) a task.

    The submit call's options carry over where the poll operation declares them (a
    choice of output format, say, applies to the answer that holds the output), and so
    do its path values where the poll has a path parameter of the same name (a mode or
    a model chosen in the submit URL names the poll URL too).
    """
    spec = registry.get(operation)
    declared = spec.options
    constants = spec.constants  # what a binding would send itself
    own = {param.name for param in spec.parameters if param.location == "path"}
    inherited = {name: value for name, value in submit_path.items() if name in own}
    call: Call[Any] = Call(
        operation=operation,
        model=Any,
        path={
            **inherited,
            **{n: v for (where, n), v in constants.items() if where == "path"},
            **params.path,
        },
        query={**{n: v for (where, n), v in constants.items() if where == "query"}, **params.query},
        body=params.body,
        options={name: value for name, value in options.items() if name in declared},
    )
    return prepare(ctx, registry, call)


def retry_step(
    ctx: Context, spec: OperationSpec, attempt: int, outcome: httpx.Response | Exception
) -> Sleep | None:
    """The wait before resending after `outcome`, or None when it is final."""
    if isinstance(outcome, Exception):
        if not should_retry(
            attempt=attempt, max_retries=ctx.max_retries, idempotent=spec.idempotent, error=outcome
        ):
            return None
        delay = retry_delay(attempt)
        what = type(outcome).__name__
    else:
        if outcome.status_code < 400 or not should_retry(
            attempt=attempt,
            max_retries=ctx.max_retries,
            idempotent=spec.idempotent,
            status=outcome.status_code,
        ):
            return None
        asked = retry_delay(attempt, outcome.headers)
        if asked is None:
            return None
        delay, what = asked, f"HTTP {outcome.status_code}"
    logger.info("%s: %s, retrying in %.2fs", spec.qualified_name, what, delay or 0.0)
    return Sleep(delay or 0.0)


def request_flow(
    ctx: Context, prepared: Prepared, *, budget: float | None = None
) -> Flow[httpx.Response]:
    """Send with retries (policy in `py302._retry`); returns the last response.

    `budget` (seconds), when given, bounds the sends and the waits between them
    together; each send still gets at least `MIN_REQUEST_BUDGET`.
    """
    started = ctx.clock()
    attempt = 0
    while True:
        left = None if budget is None else budget - (ctx.clock() - started)
        deadline = None if left is None else max(left, MIN_REQUEST_BUDGET)
        outcome = yield Send(prepared.request, deadline)
        wait = retry_step(ctx, prepared.spec, attempt, outcome)
        past_budget = budget is not None and ctx.clock() - started + _seconds(wait) >= budget
        if wait is None or past_budget:
            if isinstance(outcome, Exception):
                raise connection_error(prepared.spec, outcome) from outcome
            response: httpx.Response = outcome
            return response
        yield wait
        attempt += 1


def _seconds(wait: Sleep | None) -> float:
    return 0.0 if wait is None else wait.seconds


def reported_error(
    ctx: Context, spec: OperationSpec, response: httpx.Response, payload: Any
) -> Exception | None:
    """The error an answer's body reports, whatever its status: the provider's plugin
    judges first, then the declared envelope, then the cross-provider hooks. A stream's
    folded body is judged so too (a streamed `response.failed`, say)."""
    provider = ctx.provider(spec.provider)
    error: Exception | None = None
    if provider.response_error is not None:
        error = provider.response_error(spec, response, payload)
    if error is None:
        declared = spec.result_declaration
        if declared is not None:
            error = declared.error_in(
                payload, response, provider=spec.provider, operation=spec.qualified_name
            )
    if error is None:
        error = ctx.host.hook.py302_response_error(
            operation=spec, response=response, payload=payload
        )
    return error


def interpret(ctx: Context, spec: OperationSpec, response: httpx.Response) -> Any:
    """The payload of a successful answer; raises the error an answer stands for."""
    if 300 <= response.status_code < 400:
        raise _redirected(spec, response)
    payload = decode_payload(response)
    error = reported_error(ctx, spec, response, payload)
    if error is not None:
        raise error
    if response.status_code >= 400:
        raise APIStatusError.from_response(
            response, provider=spec.provider, operation=spec.qualified_name
        )
    if isinstance(payload, str) and (problem := json_problem(response)) is not None:
        raise MalformedResponseError(
            spec.qualified_name, [f"the body says it is JSON, but {problem}"], payload[:500]
        )
    return payload


def normalize(
    ctx: Context, spec: OperationSpec, payload: Any, response: httpx.Response | None
) -> Normalized:
    """Assets, text and usage: the provider's plugin's reading, else the declared one."""
    hook = ctx.provider(spec.provider).normalize
    found = hook(spec, payload, response) if hook is not None else None
    if found is not None:
        return found
    declared = spec.result_declaration
    if declared is not None:
        return declared.normalize(payload)
    if isinstance(payload, bytes) and payload:
        # A binary answer nobody describes is itself the file the call produced.
        kind = response.headers.get("content-type") if response is not None else None
        return Normalized(assets=(Asset(data=payload, mime_type=kind and media_type(kind)),))
    return Normalized()


def build_result(
    ctx: Context,
    spec: OperationSpec,
    payload: Any,
    model: Any,
    *,
    response: httpx.Response | None,
    task_id: str | None = None,
    pattern: TaskPattern | None = None,
) -> Result[Any]:
    """The `Result` of a finished call (a task's: its pattern's reading first)."""
    data = structure(payload, model, operation=spec.qualified_name)
    normalized = (pattern.normalize(payload, response) if pattern else None) or normalize(
        ctx, spec, payload, response
    )
    return Result(
        operation=spec.qualified_name,
        data=data,
        raw=payload,
        assets=tuple(attrs.evolve(asset, downloader=ctx.downloader) for asset in normalized.assets),
        text=normalized.text,
        usage=normalized.usage,
        reasoning=normalized.reasoning,
        tool_calls=normalized.tool_calls,
        task_id=task_id,
        request_id=request_id_of(response) if response is not None else None,
    )


def call_flow(ctx: Context, prepared: Prepared) -> Flow[Result[Any]]:
    """A plain call: send (with retries), read the answer, build the `Result`.

    Observers (the journal) hear of it as of a submit: before it leaves, and once it
    answered, so a paid result is written down before the caller gets it.
    """
    spec = prepared.spec
    tokens = announce(ctx.observers, spec.qualified_name) if ctx.observers else []
    try:
        response = yield from request_flow(ctx, prepared)
        payload = interpret(ctx, spec, response)
        result = build_result(ctx, spec, payload, prepared.model, response=response)
    except BaseException as exc:
        report_refusal(ctx.observers, tokens, spec.qualified_name, exc)
        raise
    for observer, token in zip(ctx.observers, tokens, strict=True):
        entry = tell("the answer", spec.qualified_name, partial(observer.answered, token, result))
        if isinstance(entry, int):
            result = attrs.evolve(result, journal_entry=entry)
    return result


def _redirected(spec: OperationSpec, response: httpx.Response) -> APIStatusError:
    """A redirect answering an API call: reported, never followed (the request may have
    been accepted, and following it would send the body and the key elsewhere)."""
    location = response.headers.get("location", "")
    target = urlsplit(location)._replace(query="", fragment="").geturl() or "nowhere"
    return APIStatusError(
        f"the API answered with a redirect to {target}; py302 does not follow redirects on "
        "API calls (check base_url)",
        status=response.status_code,
        provider=spec.provider,
        operation=spec.qualified_name,
        request_id=request_id_of(response),
        response=response,
    )


def connection_error(spec: OperationSpec, error: Exception) -> APIConnectionError:
    """The py302 error for a request that got no usable answer (transport, decoding,
    an answer past the size cap)."""
    if isinstance(error, ResponseTooLargeError):
        return ResponseTooLargeError(error.limit, operation=spec.qualified_name)
    if isinstance(error, httpx.TimeoutException):
        detail = str(error) or type(error).__name__
        return APITimeoutError(f"timed out ({detail})", operation=spec.qualified_name)
    detail = str(error) or type(error).__name__
    if isinstance(error, httpx.DecodingError):
        return APIConnectionError(
            f"the answer's body could not be decoded: {detail}", operation=spec.qualified_name
        )
    return APIConnectionError(f"connection failed: {detail}", operation=spec.qualified_name)
