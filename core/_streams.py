"""Event streams: the stream flow, and the `Stream` / `AsyncStream` handles.

An operation whose spec declares a `text/event-stream` answer (`x-py302-stream`) is
opened by `stream_flow`, which decodes Server-Sent Events (`py302._sse`), reads each
event's data into the generated event model, and folds it into the final `Result`
with the accumulator the spec names. The rules users of other SDKs asked for:

* retried only before the first event, and then only as the retry policy allows;
  a stream cut after that raises `StreamInterruptedError`, never resends;
* the server's silence between two chunks is bounded by the client's
  `idle_timeout`, the whole stream by `stream_timeout`; both raise `APITimeoutError`
  while iterating;
* an `event: error`, or an error object in place of an event, raises `APIStreamError`;
* the handle is a context manager, and its connection is released on exhaustion,
  `break`, an error or garbage collection.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import attrs
import httpx

from ._calls import (
    Prepared,
    build_result,
    connection_error,
    interpret,
    reported_error,
    retry_step,
)
from ._convert import structure
from ._declared import ResultDeclaration, StreamDeclaration
from ._errors import (
    APIStreamError,
    APITimeoutError,
    ConfigurationError,
    ResponseShapeError,
    StreamInterruptedError,
)
from ._registry import OperationSpec, media_type
from ._sse import ServerSentEvent, SSEDecoder
from ._steps import Close, Drain, Emit, Flow, Open, Read
from .payloads import assign, collect, dig, text_at

if TYPE_CHECKING:
    from types import TracebackType

    from ._context import Context
    from ._drivers import AsyncDriver, SyncDriver
    from ._results import Result

__all__ = ["Accumulator", "AsyncStream", "Stream", "stream_flow"]

E = TypeVar("E")
M = TypeVar("M")


class Accumulator(Protocol):
    """Folds a stream's events into the body the same call would answer whole.

    A provider registers a factory under the name an operation's `x-py302-stream`
    gives as `accumulator`; a new instance is made for every stream.
    """

    def add(self, event: Any) -> None:
        """Take one event's decoded data (a JSON value)."""
        ...

    def body(self) -> Any:
        """The whole body the events add up to so far."""
        ...


class _EventList:
    """The accumulator of a stream whose spec names none: the list of its events."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def add(self, event: Any) -> None:
        self.events.append(event)

    def body(self) -> Any:
        return self.events


class _FinalEvent:
    """The accumulator a spec declares (`x-py302-stream.whole`): the whole answer is
    assembled, field by field, from the last event that `from` selects (a stream that
    ends with one complete event, such as a finished image)."""

    def __init__(self, whole: Mapping[str, Any]) -> None:
        self.select = str(whole["from"])
        self.fields: Mapping[str, str] = whole["fields"]
        self.final: Any = None

    def add(self, event: Any) -> None:
        if collect([event], self.select):
            self.final = event

    def body(self) -> Any:
        body: dict[str, Any] = {}
        if self.final is None:
            return body
        for target, source in self.fields.items():
            value = dig(self.final, source)
            if value is not None:
                assign(body, target, value)
        return body


@attrs.frozen
class Opened:
    """What a stream flow emits first: the answer's headers have come, the body follows."""

    response: httpx.Response


@attrs.frozen
class Finished:
    """What a stream flow emits last: the `Result` its events add up to."""

    result: Any


class Event:
    """One decoded event: its data as received, and its model, built the first time it
    is asked for (`text_stream` reads the text from the data and builds none: a typed
    event cost a quarter of a long stream's time)."""

    def __init__(self, raw: Any, model_type: Any, operation: str) -> None:
        self.raw = raw
        self._type = model_type
        self._operation = operation

    @functools.cached_property
    def model(self) -> Any:
        """The event as its model (`ResponseShapeError` if it does not fit)."""
        return structure(self.raw, self._type, operation=self._operation)


def stream_flow(ctx: Context, prepared: Prepared, event_model: Any) -> Flow[Result[Any]]:
    """Open the stream (retrying per policy), then emit each event; returns the `Result`."""
    spec = prepared.spec
    declared = spec.stream_declaration
    accumulator = _accumulator(ctx, spec, declared)  # refuse an unknown one before sending
    attempt = 0
    while True:
        outcome = yield Open(prepared.request, ctx.idle_timeout)
        if isinstance(outcome, httpx.Response) and outcome.status_code >= 400:
            outcome = yield Read(outcome, whole=True)
        wait = retry_step(ctx, spec, attempt, outcome)
        if wait is None:
            break
        yield wait
        attempt += 1
    if isinstance(outcome, Exception):
        raise connection_error(spec, outcome) from outcome
    response: httpx.Response = outcome
    if media_type(response.headers.get("content-type", "")) != "text/event-stream":
        return (yield from _answered_whole(ctx, prepared, response))
    yield Emit(Opened(response))
    errors = spec.result_declaration
    decoder = SSEDecoder()
    started = ctx.clock()
    seen = 0
    while True:
        chunk = yield Read(response)
        if isinstance(chunk, Exception):
            raise _broken(spec.qualified_name, chunk, seen, ctx.idle_timeout) from chunk
        events = decoder.feed(chunk) if chunk else decoder.close()
        for event in events:
            if declared.done is not None and event.data == declared.done:
                yield Drain(response)  # the connection can then serve the next request
                return (yield from _finish_events(ctx, prepared, accumulator, response))
            data = _data(spec.qualified_name, event, response, errors)
            accumulator.add(data)
            seen += 1
            yield Emit(Event(data, event_model, spec.qualified_name))
        if not chunk:
            if declared.done is not None and declared.done_required:
                raise StreamInterruptedError(
                    f"the stream ended after {seen} event(s) without its end marker "
                    f"{declared.done!r}; the answer is incomplete",
                    operation=spec.qualified_name,
                )
            return (yield from _finish_events(ctx, prepared, accumulator, response))
        if ctx.clock() - started > ctx.stream_timeout:
            raise APITimeoutError(
                f"the stream ran past stream_timeout={ctx.stream_timeout:g} s",
                operation=spec.qualified_name,
            )


def _answered_whole(
    ctx: Context, prepared: Prepared, response: httpx.Response
) -> Flow[Result[Any]]:
    """The `Result` of a stream request the server answered with a whole body."""
    whole = yield Read(response, whole=True)
    if isinstance(whole, Exception):
        raise connection_error(prepared.spec, whole) from whole
    payload = interpret(ctx, prepared.spec, whole)
    return (yield from _finish(ctx, prepared, payload, prepared.model, whole))


def _accumulator(ctx: Context, spec: OperationSpec, declared: StreamDeclaration) -> Accumulator:
    if declared.whole is not None:
        return _FinalEvent(declared.whole)
    if declared.accumulator is None:
        return _EventList()
    factory = ctx.provider(spec.provider).accumulators.get(declared.accumulator)
    if factory is None:
        raise ConfigurationError(
            f"{spec.qualified_name}: no plugin supplies stream accumulator "
            f"{declared.accumulator!r} (is the {spec.provider} plugin disabled or failing? "
            "see `py302 plugins`)"
        )
    accumulator: Accumulator = factory()
    return accumulator


def _data(
    operation: str,
    event: ServerSentEvent,
    response: httpx.Response,
    errors: ResultDeclaration | None,
) -> Any:
    """An event's data as JSON. An `event: error` raises, and so does data that the
    operation's declared error envelope (`x-py302-result.error`) reads as an error."""
    try:
        data = json.loads(event.data)
    except ValueError:
        if event.event == "error":
            raise APIStreamError.from_event(event.data, response, operation=operation) from None
        raise ResponseShapeError(operation, ["event data is not JSON"], event.data) from None
    if event.event == "error":
        raise APIStreamError.from_event(data, response, operation=operation)
    reported = errors.reported_error(data) if errors is not None else None
    if reported is not None:
        raise APIStreamError.from_event(
            data, response, operation=operation, message=reported.message, code=reported.code
        )
    return data


def _broken(operation: str, error: Exception, seen: int, idle: float) -> Exception:
    if isinstance(error, httpx.ReadTimeout):
        return APITimeoutError(f"no data for {idle:g} s (idle_timeout)", operation=operation)
    return StreamInterruptedError(
        f"the stream broke after {seen} event(s) ({type(error).__name__}: {error}); "
        "not resent, since the server has started answering",
        operation=operation,
    )


def _finish_events(
    ctx: Context, prepared: Prepared, accumulator: Accumulator, response: httpx.Response
) -> Flow[Result[Any]]:
    model = prepared.model if not isinstance(accumulator, _EventList) else Any
    body = accumulator.body()
    if not isinstance(accumulator, _EventList):
        error = reported_error(ctx, prepared.spec, response, body)
        if error is not None:
            raise error
    return (yield from _finish(ctx, prepared, body, model, response))


def _finish(
    ctx: Context, prepared: Prepared, body: Any, model: Any, response: httpx.Response
) -> Flow[Result[Any]]:
    result = build_result(ctx, prepared.spec, body, model, response=response)
    yield Emit(Finished(result))
    return result


class _StreamBase(Generic[E, M]):
    """What both handles share: the flow's state and the text of the events."""

    def __init__(self, ctx: Context, prepared: Prepared, event_model: Any) -> None:
        self._declared = prepared.spec.stream_declaration
        self._flow: Flow[Result[M]] = stream_flow(ctx, prepared, event_model)
        self._response: httpx.Response | None = None
        self._result: Result[M] | None = None
        self.operation = prepared.spec.qualified_name

    def _note(self, value: Any) -> None:
        """Keep what the flow emitted about the stream itself (its response, its end)."""
        if isinstance(value, Opened):
            self._response = value.response
        elif isinstance(value, Finished):
            self._result = value.result

    def _finished(self) -> Result[M]:
        """The `Result`, once the events have been read to their end."""
        if self._result is None:
            raise StreamInterruptedError(
                "the stream was closed before its end", operation=self.operation
            )
        return self._result

    def _text(self, event: Event) -> str | None:
        return text_at(event.raw, self._declared.text_delta) or None

    @property
    def response(self) -> httpx.Response | None:
        """The HTTP response the events come in (status, headers)."""
        return self._response

    def __repr__(self) -> str:
        state = "finished" if self._result is not None else "open"
        return f"<{type(self).__name__} {self.operation} {state}>"


class Stream(_StreamBase[E, M]):
    """The events of one streamed call, from the synchronous client.

    Iterate it for the typed events; `text_stream` gives only the text deltas;
    `result()` reads what is left and returns the `Result` the events add up to.
    Use it in a `with` block, or iterate it to the end, to release the connection
    at once; leaving a `for` loop early releases it too.
    """

    def __init__(
        self, ctx: Context, prepared: Prepared, event_model: Any, driver: SyncDriver
    ) -> None:
        super().__init__(ctx, prepared, event_model)
        self._driver = driver
        self._pending = self._run_flow()
        next(self._pending, None)  # up to the headers; raises what opening raised

    def _run_flow(self) -> Generator[Any, None, None]:
        try:
            for value in self._driver.events(self._flow):
                self._note(value)
                yield value
        finally:
            self.close()  # also when the stream is garbage-collected unfinished

    def _events(self) -> Generator[Event, None, None]:
        try:
            for value in self._pending:
                if isinstance(value, Event):
                    yield value
        finally:
            self._pending.close()  # a loop left early releases the connection now

    def __iter__(self) -> Iterator[E]:
        for event in self._events():
            yield event.model

    @property
    def text_stream(self) -> Iterator[str]:
        """The text deltas of the events, as they come."""
        for event in self._events():
            text = self._text(event)
            if text is not None:
                yield text

    def result(self) -> Result[M]:
        """Read the remaining events; the `Result` they add up to."""
        if self._result is None:
            for _ in self._events():
                pass
        return self._finished()

    def close(self) -> None:
        """Release the connection (idempotent)."""
        if self._response is not None:
            self._driver.perform(Close(self._response))

    def __enter__(self) -> Stream[E, M]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncStream(_StreamBase[E, M]):
    """The events of one streamed call, from the `AsyncClient`: `Stream` with `async for`.

    `await stream.result()`, `async with stream`, `stream.text_stream` (async) and
    `await stream.aclose()` mirror the synchronous handle.
    """

    def __init__(
        self, ctx: Context, prepared: Prepared, event_model: Any, driver: AsyncDriver
    ) -> None:
        super().__init__(ctx, prepared, event_model)
        self._driver = driver
        self._pending = self._run_flow()

    async def _open(self) -> AsyncStream[E, M]:
        """Send the request and wait for the headers (raises what opening raised)."""
        await anext(self._pending, None)
        return self

    async def _run_flow(self) -> AsyncGenerator[Any, None]:
        try:
            async for value in self._driver.events(self._flow):
                self._note(value)
                yield value
        finally:
            await self.aclose()  # also when the stream is garbage-collected unfinished

    async def _events(self) -> AsyncGenerator[Event, None]:
        try:
            async for value in self._pending:
                if isinstance(value, Event):
                    yield value
        finally:
            await self._pending.aclose()  # a loop left early releases the connection now

    async def __aiter__(self) -> AsyncIterator[E]:
        async for event in self._events():
            yield event.model

    @property
    async def text_stream(self) -> AsyncIterator[str]:
        """The text deltas of the events, as they come."""
        async for event in self._events():
            text = self._text(event)
            if text is not None:
                yield text

    async def result(self) -> Result[M]:
        """Read the remaining events; the `Result` they add up to."""
        if self._result is None:
            async for _ in self._events():
                pass
        return self._finished()

    async def aclose(self) -> None:
        """Release the connection (idempotent)."""
        if self._response is not None:
            await self._driver.perform(Close(self._response))

    async def __aenter__(self) -> AsyncStream[E, M]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
