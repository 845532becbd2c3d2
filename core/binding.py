"""The runtime surface that generated bindings are written against.

Generated modules (ours under `py302.generated`, and those a third-party plugin
compiles with `py302 codegen --out`) contain only declarations: attrs models, and one
`Namespace` subclass per provider whose methods build a `Call`, a pure description of
one request. The `operation` and `task` decorators turn those builder methods into
calls on the client the namespace is bound to, so one generated method serves the
synchronous and the asynchronous client alike. The decorator says the operation's kind,
which the generator reads from the spec:

    client.acme.draw(prompt="...")              -> Result[DrawResponse]      (operation)
    await async_client.acme.draw(prompt="...")  -> Result[DrawResponse]
    client.acme.start_job(prompt="...")         -> Task[JobResult]           (task)
    client.acme.caption(image=...)              -> Result[Caption]           (streamable)
    client.acme.caption.stream(image=...)       -> Stream[CaptionDelta, Caption]
    client.acme.events(...)                     -> Stream[Event, ...]        (streaming)

Every decorated method hands its `Call` to one client method, `_invoke(namespace,
call, kind)`, with `kind` one of `CALL`, `TASK` or `STREAM`.
"""

from __future__ import annotations

import enum
import inspect
import os
from collections.abc import Callable, Coroutine, Mapping
from typing import (
    IO,
    TYPE_CHECKING,
    Any,
    ClassVar,
    Concatenate,
    Generic,
    ParamSpec,
    TypeVar,
    overload,
)

import attrs

if TYPE_CHECKING:
    from ._results import Result
    from ._streams import AsyncStream, Stream
    from ._task_handles import AsyncTask, Task

__all__ = [
    "CALL",
    "STREAM",
    "TASK",
    "Async",
    "Call",
    "FileInput",
    "ModeT",
    "Namespace",
    "OpenEnum",
    "OpenStrEnum",
    "StreamCall",
    "Streamable",
    "Sync",
    "TaskCall",
    "drop_none",
    "operation",
    "streamable",
    "streaming",
    "task",
]

P = ParamSpec("P")
M = TypeVar("M")
R = TypeVar("R")
E = TypeVar("E")
S = TypeVar("S")

#: The kinds of call a client carries out (see `_invoke`).
CALL = "call"
TASK = "task"
STREAM = "stream"


#: What a multipart file field accepts: a path, the bytes, or an open binary file.
FileInput = str | os.PathLike[str] | bytes | IO[bytes]


class Sync:
    """Marks a namespace bound to the synchronous `Client`."""


class Async:
    """Marks a namespace bound to the `AsyncClient`."""


ModeT = TypeVar("ModeT", Sync, Async)


class OpenEnum(enum.Enum):
    """An enum that accepts values it does not list.

    Providers add states and options without notice. Reading an unknown value gives a
    pseudo-member (`is_known` is False) that keeps the value, instead of an error.
    Requests are still checked against the listed values by the schema, before sending.
    """

    @classmethod
    def _missing_(cls, value: object) -> OpenEnum:
        pseudo = object.__new__(cls)
        pseudo._name_ = f"UNKNOWN({value!r})"
        pseudo._value_ = value
        return pseudo

    @property
    def is_known(self) -> bool:
        """Whether the value is one the spec lists."""
        return self._name_ in type(self).__members__


class OpenStrEnum(str, OpenEnum):
    """An `OpenEnum` of strings: members also compare equal to their plain values."""

    @classmethod
    def _missing_(cls, value: object) -> OpenStrEnum:
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a valid {cls.__name__} (not a string)")
        pseudo = str.__new__(cls, value)
        pseudo._name_ = f"UNKNOWN({value!r})"
        pseudo._value_ = value
        return pseudo

    def __str__(self) -> str:
        return str(self.value)


@attrs.frozen(kw_only=True)
class Call(Generic[M]):
    """One request, described as data: what a generated builder returns.

    `operation` is the operation id within the namespace's provider; `path`, `query`
    and `body` hold the caller's values by wire name (None values already dropped);
    `body` is a mapping of fields, or one value for an operation whose body is not an
    object (a file, a JSON array); `content_type` picks one of the request media types
    the operation declares (None: the first).
    `model` is the class the 2xx body is read into; `headers` and `cookies` are sent
    as given (declared ones checked first); `options` are the caller's choices among
    the operation's `x-py302-options` (not sent; plugins read them, with the spec's
    defaults filled in). Nothing here does I/O.
    """

    operation: str
    model: Any
    path: Mapping[str, Any] = attrs.field(factory=dict)
    query: Mapping[str, Any] = attrs.field(factory=dict)
    body: Any = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    options: Mapping[str, Any] = attrs.field(factory=dict)
    cookies: Mapping[str, Any] = attrs.field(factory=dict)
    content_type: str | None = None


def drop_none(
    values: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
    *,
    required: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a builder sends: the `required` values as they are (None is a required but
    nullable field's null), then the optional `values` that were given (None means
    left out), with `extra` merged over them."""
    merged = dict(required or {})
    merged.update((key, value) for key, value in values.items() if value is not None)
    if extra:
        merged.update(extra)
    return merged


class Namespace(Generic[ModeT]):
    """Base of a provider's generated operations, bound to one client.

    Subclasses set `provider` (the name used in `client.<provider>`) and `bindings`
    (the module holding the operation registry, normally the subclass's own module).
    """

    provider: ClassVar[str]
    bindings: ClassVar[str]

    def __init__(self, client: Any) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} operations of {self.provider!r}>"


class _Decorated(Generic[P, M]):
    """What every kind of decorated builder shares: the builder, and running it alone."""

    def __init__(self, builder: Callable[Concatenate[Any, P], Call[M]]) -> None:
        self._builder = builder
        self.__doc__ = builder.__doc__
        self.__name__ = builder.__name__
        self.__wrapped__ = builder
        self._signatures: dict[tuple[str, bool], inspect.Signature] = {}

    def build(self, namespace: Namespace[Any], /, *args: Any, **kwargs: Any) -> Call[M]:
        """Run the builder alone: the `Call` the operation would send (no I/O)."""
        return self._builder(namespace, *args, **kwargs)

    def _bind(self, namespace: Namespace[Any], kind: str) -> Callable[..., Any]:
        builder = self._builder
        client = namespace._client

        def bound(*args: Any, **kwargs: Any) -> Any:
            call = builder(namespace, *args, **kwargs)
            if isinstance(call, StreamCall):
                call = call.asking_stream(kind == STREAM)
            return client._invoke(type(namespace), call, kind)

        bound.__name__ = builder.__name__
        bound.__qualname__ = builder.__qualname__
        bound.__module__ = builder.__module__
        bound.__doc__ = builder.__doc__
        # What `help()` and IDEs show: the caller's arguments, and what the call
        # returns (a Result, a Task...), not the builder's `self` and `Call`.
        bound.__signature__ = self._signature(kind, inspect.iscoroutinefunction(client._invoke))  # type: ignore[attr-defined]
        return bound

    def _signature(self, kind: str, is_async: bool) -> inspect.Signature:
        key = (kind, is_async)
        if key not in self._signatures:
            builder = inspect.signature(self._builder)
            returned = _returned(str(builder.return_annotation), kind, is_async)
            self._signatures[key] = builder.replace(
                parameters=list(builder.parameters.values())[1:], return_annotation=returned
            )
        return self._signatures[key]


def _returned(built: str, kind: str, is_async: bool) -> str:
    """What a bound call returns, from its builder's `Call[...]` annotation."""
    inner = built.partition("[")[2].rpartition("]")[0]
    parts = [part.strip() for part in _top_level_split(inner)] or ["Any"]
    if built.startswith("TaskCall"):
        shown = f"{'AsyncTask' if is_async else 'Task'}[{parts[-1]}]"
    elif kind == STREAM:
        event = parts[1] if len(parts) > 1 else "Any"
        shown = f"{'AsyncStream' if is_async else 'Stream'}[{event}, {parts[0]}]"
    else:
        shown = f"Result[{parts[0]}]"
    return f"Awaitable[{shown}]" if is_async else shown


def _top_level_split(text: str) -> list[str]:
    """`text` split at commas outside brackets."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current] if current.strip() else parts


class operation(_Decorated[P, M]):
    """Decorator for a builder whose operation answers at once with a result."""

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> operation[P, M]: ...
    @overload
    def __get__(self, obj: Namespace[Sync], owner: type[Any]) -> Callable[P, Result[M]]: ...
    @overload
    def __get__(
        self, obj: Namespace[Async], owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, Result[M]]]: ...
    def __get__(self, obj: Namespace[Any] | None, owner: type[Any]) -> Any:
        return self if obj is None else self._bind(obj, CALL)


@attrs.frozen(kw_only=True)
class TaskCall(Call[M], Generic[M, R]):
    """The submit request of a task: a `Call` that also names the finished task's model.

    `model` reads the submit answer; `result_model` reads the poll answer that reports
    success, which is what the task's `Result` carries.
    """

    result_model: Any = None


class task(_Decorated[P, M], Generic[P, M, R]):
    """Decorator for a builder whose operation submits a task to poll.

    Calling it sends the submit request and returns a `Task` handle (an `AsyncTask`
    from the async client) as soon as the provider has accepted the task.
    """

    def __init__(self, builder: Callable[Concatenate[Any, P], TaskCall[M, R]]) -> None:
        super().__init__(builder)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> task[P, M, R]: ...
    @overload
    def __get__(self, obj: Namespace[Sync], owner: type[Any]) -> Callable[P, Task[R]]: ...
    @overload
    def __get__(
        self, obj: Namespace[Async], owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, AsyncTask[R]]]: ...
    def __get__(self, obj: Namespace[Any] | None, owner: type[Any]) -> Any:
        return self if obj is None else self._bind(obj, TASK)


@attrs.frozen(kw_only=True)
class StreamCall(Call[M], Generic[M, E]):
    """A call whose answer can come as a stream of events.

    `model` reads the whole (non-streaming) body, and the `Result` a stream adds up
    to; `event_model` reads each event. `flag` is the body field that asks for the
    stream (set by the stream form, cleared by the plain call); None for an
    operation that always streams.
    """

    event_model: Any = None
    flag: str | None = None

    def asking_stream(self, stream: bool) -> StreamCall[M, E]:
        """This call with the body's stream flag set (`stream`) or left out."""
        if self.flag is None:
            return self
        body = {key: value for key, value in (self.body or {}).items() if key != self.flag}
        return attrs.evolve(self, body={**body, self.flag: True} if stream else body)


class streaming(_Decorated[P, M], Generic[P, M, E]):
    """Decorator for a builder whose operation always answers with an event stream.

    Calling it opens the stream and returns a `Stream` (an `AsyncStream` from the async
    client) once the server has answered with its headers.
    """

    def __init__(self, builder: Callable[Concatenate[Any, P], StreamCall[M, E]]) -> None:
        super().__init__(builder)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> streaming[P, M, E]: ...
    @overload
    def __get__(self, obj: Namespace[Sync], owner: type[Any]) -> Callable[P, Stream[E, M]]: ...
    @overload
    def __get__(
        self, obj: Namespace[Async], owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, AsyncStream[E, M]]]: ...
    def __get__(self, obj: Namespace[Any] | None, owner: type[Any]) -> Any:
        return self if obj is None else self._bind(obj, STREAM)


class Streamable(Generic[P, R, S]):
    """An operation that answers whole or streamed, bound to a client: calling it gives
    the whole answer (`R`), `.stream(...)` the events (`S`); for the `AsyncClient` both
    are awaitable."""

    def __init__(self, call: Callable[P, R], stream: Callable[P, S]) -> None:
        self._call = call
        self.stream = stream
        """The same request with the stream flag set: a `Stream` of events."""
        self.__doc__ = getattr(call, "__doc__", None)
        self.__name__ = getattr(call, "__name__", type(self).__name__)
        self.__signature__ = inspect.signature(call)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """The whole answer as one `Result`."""
        return self._call(*args, **kwargs)


class streamable(_Decorated[P, M], Generic[P, M, E]):
    """Decorator for a builder whose operation answers whole, or as a stream on request.

    `client.ns.op(...)` sends the request with the spec's stream flag off and returns
    the `Result`; `client.ns.op.stream(...)` sends it with the flag on and returns a
    `Stream` whose events add up to the same `Result`.
    """

    def __init__(self, builder: Callable[Concatenate[Any, P], StreamCall[M, E]]) -> None:
        super().__init__(builder)

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> streamable[P, M, E]: ...
    @overload
    def __get__(
        self, obj: Namespace[Sync], owner: type[Any]
    ) -> Streamable[P, Result[M], Stream[E, M]]: ...
    @overload
    def __get__(
        self, obj: Namespace[Async], owner: type[Any]
    ) -> Streamable[P, Coroutine[Any, Any, Result[M]], Coroutine[Any, Any, AsyncStream[E, M]]]: ...
    def __get__(self, obj: Namespace[Any] | None, owner: type[Any]) -> Any:
        if obj is None:
            return self
        return Streamable(self._bind(obj, CALL), self._bind(obj, STREAM))
