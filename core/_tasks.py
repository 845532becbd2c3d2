"""Submit-then-poll tasks: the status set, the pattern plugins implement, the handles.

The waiting logic is one generator (`wait_steps`) that decides when to poll and when
to give up; `Task.wait` and `AsyncTask.wait` only carry out its steps, so the sync and
async handles cannot drift apart.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs
import httpx

from ._constants import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TASK_TIMEOUT,
    MAX_POLL_INTERVAL,
    MIN_POLL_HINT,
    NOT_FOUND_GRACE_POLLS,
)
from ._errors import (
    APIStatusError,
    NotFoundError,
    ResponseShapeError,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
    UnsupportedOperationError,
)
from ._registry import OperationSpec, TaskSpec
from .payloads import dig

if TYPE_CHECKING:
    from ._results import Normalized, Result

__all__ = [
    "AsyncTask",
    "PollParams",
    "Sleep",
    "Task",
    "TaskPattern",
    "TaskSnapshot",
    "TaskStatus",
    "wait_steps",
]

logger = logging.getLogger("py302")
M = TypeVar("M")


class TaskStatus(str, enum.Enum):
    """The closed set of states every provider's task status is mapped into."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """Whether the task can change no more."""
        return self in {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED}


@attrs.frozen(kw_only=True)
class TaskSnapshot:
    """A task's state at one moment, as a plugin mapped it from the provider's answer.

    `provider_status` keeps the provider's own word; `message` its explanation (the
    failure reason, or a note that the status was not recognised); `progress` runs
    from 0.0 to 1.0 when the provider reports it.
    """

    status: TaskStatus
    progress: float | None = None
    message: str | None = None
    provider_status: str | None = None
    poll_after: float | None = None
    """Seconds the server asked us to wait before the next poll (`Retry-After`)."""


@attrs.frozen(kw_only=True)
class PollParams:
    """The path, query and body values of a poll (or cancel) request."""

    path: Mapping[str, Any] = attrs.field(factory=dict)
    query: Mapping[str, Any] = attrs.field(factory=dict)
    body: Mapping[str, Any] | None = None


class TaskPattern:
    """How one family of submit-then-poll endpoints reports on its tasks.

    A plugin returns an instance from `py302_task_pattern(name, operation)`. Subclasses must
    implement `snapshot`; the other methods have defaults driven by the operation's
    `x-py302-task` block, so correcting where the id sits is a spec edit, not code:

    * `id_path` (default `id`): dotted path of the task id in the submit answer;
    * `id_param`: the poll operation's parameter that receives the id (default: its
      only required path or query parameter).
    """

    #: The name operations use in `x-py302-task.pattern`.
    name: str = ""

    def task_id(self, submitted: Any, task: TaskSpec) -> str:
        """The task id in the submit answer `submitted`."""
        value = dig(submitted, task.id_path)
        if value is None or value == "":
            raise LookupError(f"no task id at {task.id_path!r} in the submit answer")
        return str(value)

    def poll_params(self, task_id: str, poll: OperationSpec, task: TaskSpec) -> PollParams:
        """The values of the poll request for `task_id`."""
        param = _id_parameter(poll, task.id_param)
        if param.location == "path":
            return PollParams(path={param.name: task_id})
        return PollParams(query={param.name: task_id})

    def cancel_params(self, task_id: str, cancel: OperationSpec, task: TaskSpec) -> PollParams:
        """The values of the cancel request for `task_id`."""
        return self.poll_params(task_id, cancel, task)

    def snapshot(self, payload: Any, response: httpx.Response | None) -> TaskSnapshot:
        """Map a submit or poll answer to a `TaskSnapshot` (never raise on unknown states).

        `payload` is the decoded body (JSON value, or bytes for a binary answer);
        `response` the HTTP response it came in (None for a task resumed by id before
        its first poll), for providers that report state in the status code or headers.
        """
        raise NotImplementedError

    def normalize(self, payload: Any, response: httpx.Response | None) -> Normalized | None:
        """Assets, text and usage of the answer that reported success, if the pattern
        knows where they are; None leaves it to the `py302_normalize_result` hook."""
        return None

    def poll_delay(self, attempt: int, snapshot: TaskSnapshot) -> float:
        """Seconds to wait before poll number `attempt + 1` (0 = the first poll)."""
        return min(MAX_POLL_INTERVAL, DEFAULT_POLL_INTERVAL * 1.5 ** max(0, attempt - 2))


def _retry_after(response: httpx.Response) -> float | None:
    """A poll answer's `Retry-After` (seconds), kept within the poll interval bounds."""
    from ._retry import parse_retry_after

    try:
        asked = parse_retry_after(response.headers)
    except (TypeError, ValueError):
        return None
    # Floor: a server that keeps answering "Retry-After: 0" must not make us spin.
    return None if asked is None else min(max(asked, MIN_POLL_HINT), MAX_POLL_INTERVAL)


def _id_parameter(spec: OperationSpec, name: str | None) -> Any:
    params = [p for p in spec.parameters if p.location in {"path", "query"}]
    if name is not None:
        for param in params:
            if param.name == name:
                return param
        raise LookupError(f"{spec.qualified_name} has no parameter {name!r}")
    required = [p for p in params if p.required]
    if len(required) != 1:
        raise LookupError(
            f"{spec.qualified_name}: say which parameter takes the task id (x-py302-task.id_param)"
        )
    return required[0]


@attrs.frozen
class Sleep:
    """A step of `wait_steps`: wait this many seconds."""

    seconds: float


@attrs.frozen
class Poll:
    """A step of `wait_steps`: poll once and send back the new snapshot."""


def wait_steps(
    pattern: TaskPattern,
    first: TaskSnapshot,
    *,
    timeout: float,
    task_id: str,
    operation: str,
    clock: Callable[[], float] = time.monotonic,
) -> Generator[Sleep | Poll, TaskSnapshot | None, TaskSnapshot]:
    """Decide the polls of one wait; returns the finished snapshot or raises on timeout.

    Time counts as the larger of the clock's elapsed time and the total sleep asked
    for, so an injected zero-delay sleep still reaches the deadline, never spins.
    """
    started = clock()
    slept = 0.0
    snapshot = first
    attempt = 0
    while not snapshot.status.finished:
        remaining = timeout - max(clock() - started, slept)
        if remaining <= 0:
            raise TaskTimeoutError(
                f"not finished after {timeout:g} s (last status: "
                f"{snapshot.provider_status or snapshot.status.value}); it may still finish, "
                "wait again or resume it by id",
                task_id=task_id,
                operation=operation,
            )
        asked = snapshot.poll_after
        delay = asked if asked is not None else pattern.poll_delay(attempt, snapshot)
        delay = min(max(0.0, delay), remaining)
        yield Sleep(delay)
        slept += delay
        received = yield Poll()
        assert received is not None
        snapshot = received
        attempt += 1
    return snapshot


@attrs.define(eq=False)
class _TaskCore:
    """What the sync and async handles share: identity, last state, finishing."""

    id: str
    spec: OperationSpec
    poll_spec: OperationSpec
    pattern: TaskPattern
    result_model: Any
    snapshot: TaskSnapshot
    raw: Any
    finish: Callable[[OperationSpec, Any, Any, str, httpx.Response | None], Any]
    response: httpx.Response | None = None
    result: Any = None
    options: Mapping[str, Any] = attrs.field(factory=dict)
    journal_entry: int | None = None
    listeners: list[Callable[[_TaskCore, str], None]] = attrs.field(factory=list)
    not_found_polls: int = 0

    def poll_refused(self, error: APIStatusError) -> TaskSnapshot:
        """A poll got an error answer: decide whether the task is over.

        404 right after submit can mean "not visible yet": polling goes on for
        `NOT_FOUND_GRACE_POLLS` answers. A 404 after that, or another 4xx that is not
        about the key or the rate, means the provider will not report this task again:
        it failed. Anything else (5xx that outlived the retries, 401, 429) is raised
        as it is; the task may be fine, and can be waited for again.
        """
        if isinstance(error, NotFoundError):
            self.not_found_polls += 1
            if self.not_found_polls <= NOT_FOUND_GRACE_POLLS:
                logger.debug(
                    "%s task %s: poll answered 404, polling on", self.spec.qualified_name, self.id
                )
                return self.snapshot
        elif not (400 <= error.status < 500) or error.status in {401, 403, 408, 429}:
            raise error
        self.snapshot = TaskSnapshot(
            status=TaskStatus.FAILED,
            message=f"the provider no longer reports it (HTTP {error.status}: {error.message})",
            provider_status=str(error.status),
        )
        self.notify(TaskStatus.FAILED.value)
        raise TaskFailedError(
            self.snapshot.message or "",
            task_id=self.id,
            operation=self.spec.qualified_name,
            raw=error.body,
        ) from error

    def notify(self, state: str) -> None:
        """Tell the listeners (the journal) what just happened."""
        for listener in self.listeners:
            listener(self, state)

    def update(self, payload: Any, response: httpx.Response | None) -> TaskSnapshot:
        self.not_found_polls = 0
        try:
            snapshot = self.pattern.snapshot(payload, response)
        except (KeyError, TypeError, ValueError) as exc:
            raise ResponseShapeError(
                self.poll_spec.qualified_name, [f"task status unreadable: {exc}"], payload
            ) from exc
        hint = _retry_after(response) if response is not None else None
        if hint is not None and not snapshot.status.finished:
            snapshot = attrs.evolve(snapshot, poll_after=hint)
        if snapshot.message and snapshot.status is TaskStatus.RUNNING and snapshot.provider_status:
            logger.debug("%s task %s: %s", self.spec.qualified_name, self.id, snapshot.message)
        self.snapshot = snapshot
        self.raw = payload
        self.response = response
        if not snapshot.status.finished:
            self.notify(snapshot.status.value)
        return snapshot

    def outcome(self) -> Any:
        status = self.snapshot.status
        name = self.spec.qualified_name
        if status is TaskStatus.SUCCEEDED:
            if self.result is None:
                self.result = self.finish(
                    self.poll_spec, self.raw, self.result_model, self.id, self.response
                )
                self.notify(status.value)
            return self.result
        self.notify(status.value)
        reason = self.snapshot.message or self.snapshot.provider_status or status.value
        if status is TaskStatus.CANCELLED:
            raise TaskCancelledError(reason, task_id=self.id, operation=name, raw=self.raw)
        raise TaskFailedError(reason, task_id=self.id, operation=name, raw=self.raw)


class _TaskView:
    _core: _TaskCore

    @property
    def id(self) -> str:
        """The provider's task id: keep it to look the task up later."""
        return self._core.id

    @property
    def operation(self) -> str:
        """The qualified name of the operation that submitted the task."""
        return self._core.spec.qualified_name

    @property
    def status(self) -> TaskStatus:
        """The status seen at the last refresh."""
        return self._core.snapshot.status

    @property
    def progress(self) -> float | None:
        """Progress from 0.0 to 1.0 at the last refresh, when the provider reports it."""
        return self._core.snapshot.progress

    @property
    def snapshot(self) -> TaskSnapshot:
        """The full state seen at the last refresh."""
        return self._core.snapshot

    @property
    def raw(self) -> Any:
        """The provider's last answer about this task, as received."""
        return self._core.raw

    @property
    def journal_entry(self) -> int | None:
        """The task's row in the client's journal, if it keeps one."""
        return self._core.journal_entry

    def __repr__(self) -> str:
        progress = f", progress={self.progress:.0%}" if self.progress is not None else ""
        return (
            f"<{type(self).__name__} {self.operation} id={self.id!r} {self.status.value}{progress}>"
        )


class Task(_TaskView, Generic[M]):
    """A submitted task, from the synchronous client.

    `wait()` polls until the task ends and returns its `Result` (or raises a
    `TaskError`); `refresh()` polls once; `cancel()` asks the provider to stop it.
    """

    def __init__(
        self,
        core: _TaskCore,
        *,
        poll: Callable[[], tuple[Any, httpx.Response]],
        cancel: Callable[[], Any] | None,
        sleep: Callable[[float], None],
    ) -> None:
        self._core = core
        self._poll = poll
        self._cancel = cancel
        self._sleep = sleep

    def refresh(self) -> TaskSnapshot:
        """Ask the provider once for the task's state."""
        return self._core.update(*self._poll())

    def wait(
        self,
        timeout: float | None = DEFAULT_TASK_TIMEOUT,
        on_progress: Callable[[Task[M]], None] | None = None,
    ) -> Result[M]:
        """Poll until the task ends; its `Result`, or `TaskFailedError` & co.

        `timeout` is a deadline in seconds for this wait (None means the default);
        `on_progress` is called with this handle after every poll.
        """
        steps = wait_steps(
            self._core.pattern,
            self._core.snapshot,
            timeout=DEFAULT_TASK_TIMEOUT if timeout is None else timeout,
            task_id=self.id,
            operation=self.operation,
        )
        try:
            step = next(steps)
            while True:
                if isinstance(step, Sleep):
                    self._sleep(step.seconds)
                    step = steps.send(None)
                else:
                    try:
                        snapshot = self.refresh()
                    except APIStatusError as refused:
                        snapshot = self._core.poll_refused(refused)
                    if on_progress is not None:
                        on_progress(self)
                    step = steps.send(snapshot)
        except StopIteration:
            pass
        except TaskTimeoutError:
            self._core.notify("timed_out")
            raise
        result: Result[M] = self._core.outcome()
        return result

    def cancel(self) -> None:
        """Ask the provider to cancel the task; `UnsupportedOperationError` if it cannot."""
        if self._cancel is None:
            raise UnsupportedOperationError(f"{self.operation}: the provider offers no cancel")
        self._cancel()
        self.refresh()


class AsyncTask(_TaskView, Generic[M]):
    """A submitted task, from the `AsyncClient`: `Task` with awaitable methods."""

    def __init__(
        self,
        core: _TaskCore,
        *,
        poll: Callable[[], Awaitable[tuple[Any, httpx.Response]]],
        cancel: Callable[[], Awaitable[Any]] | None,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self._core = core
        self._poll = poll
        self._cancel = cancel
        self._sleep = sleep

    async def refresh(self) -> TaskSnapshot:
        """Ask the provider once for the task's state."""
        return self._core.update(*(await self._poll()))

    async def wait(
        self,
        timeout: float | None = DEFAULT_TASK_TIMEOUT,
        on_progress: Callable[[AsyncTask[M]], None] | None = None,
    ) -> Result[M]:
        """Poll until the task ends; see `Task.wait`."""
        steps = wait_steps(
            self._core.pattern,
            self._core.snapshot,
            timeout=DEFAULT_TASK_TIMEOUT if timeout is None else timeout,
            task_id=self.id,
            operation=self.operation,
        )
        try:
            step = next(steps)
            while True:
                if isinstance(step, Sleep):
                    await self._sleep(step.seconds)
                    step = steps.send(None)
                else:
                    try:
                        snapshot = await self.refresh()
                    except APIStatusError as refused:
                        snapshot = self._core.poll_refused(refused)
                    if on_progress is not None:
                        on_progress(self)
                    step = steps.send(snapshot)
        except StopIteration:
            pass
        except TaskTimeoutError:
            self._core.notify("timed_out")
            raise
        result: Result[M] = self._core.outcome()
        return result

    async def cancel(self) -> None:
        """Ask the provider to cancel the task; `UnsupportedOperationError` if it cannot."""
        if self._cancel is None:
            raise UnsupportedOperationError(f"{self.operation}: the provider offers no cancel")
        await self._cancel()
        await self.refresh()
