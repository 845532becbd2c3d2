"""`Task` and `AsyncTask`: handles on a submitted task, one per client kind.

Both read the same `TaskState` and run the same flows (`py302._task_flows`); each
method only hands a flow to its client's driver.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._constants import DEFAULT_TASK_TIMEOUT
from ._task_flows import cancel_flow, poll_flow, wait_flow
from ._tasks import TaskSnapshot, TaskStatus

if TYPE_CHECKING:
    from ._context import Context
    from ._drivers import AsyncDriver, SyncDriver
    from ._results import Result
    from ._task_state import TaskState

__all__ = ["AsyncTask", "Task"]

M = TypeVar("M")


class _TaskView:
    _state: TaskState

    @property
    def id(self) -> str:
        """The provider's task id: keep it to look the task up later."""
        return self._state.id

    @property
    def operation(self) -> str:
        """The qualified name of the operation that submitted the task."""
        return self._state.spec.qualified_name

    @property
    def status(self) -> TaskStatus:
        """The status seen at the last refresh."""
        return self._state.snapshot.status

    @property
    def progress(self) -> float | None:
        """Progress from 0.0 to 1.0 at the last refresh, when the provider reports it."""
        return self._state.snapshot.progress

    @property
    def snapshot(self) -> TaskSnapshot:
        """The full state seen at the last refresh."""
        return self._state.snapshot

    @property
    def raw(self) -> Any:
        """The provider's last answer about this task, as received."""
        return self._state.raw

    @property
    def submit_path(self) -> Mapping[str, Any]:
        """The submit URL's path values (a mode, a model): pass them to `resume_task`
        with the id to follow this task from another process."""
        return dict(self._state.path)

    @property
    def journal_entry(self) -> int | None:
        """The task's row in the client's journal, if it keeps one."""
        return self._state.journal_entry

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

    def __init__(self, state: TaskState, ctx: Context, driver: SyncDriver) -> None:
        self._state, self._ctx, self._driver = state, ctx, driver

    def refresh(self) -> TaskSnapshot:
        """Ask the provider once for the task's state."""
        return self._driver.run(poll_flow(self._ctx, self._state))

    def wait(
        self,
        timeout: float | None = DEFAULT_TASK_TIMEOUT,
        on_progress: Callable[[Task[M]], None] | None = None,
    ) -> Result[M]:
        """Poll until the task ends; its `Result`, or `TaskFailedError` & co.

        `timeout` is a deadline in seconds for this wait (None means the default);
        `on_progress` is called with this handle after every poll.
        """
        on_poll = (lambda: on_progress(self)) if on_progress else None
        flow = wait_flow(self._ctx, self._state, timeout=timeout, on_poll=on_poll)
        return self._driver.run(flow)

    def cancel(self) -> None:
        """Ask the provider to cancel the task; `UnsupportedOperationError` if it cannot."""
        self._driver.run(cancel_flow(self._ctx, self._state))


class AsyncTask(_TaskView, Generic[M]):
    """A submitted task, from the `AsyncClient`: `Task` with awaitable methods."""

    def __init__(self, state: TaskState, ctx: Context, driver: AsyncDriver) -> None:
        self._state, self._ctx, self._driver = state, ctx, driver

    async def refresh(self) -> TaskSnapshot:
        """Ask the provider once for the task's state."""
        return await self._driver.run(poll_flow(self._ctx, self._state))

    async def wait(
        self,
        timeout: float | None = DEFAULT_TASK_TIMEOUT,
        on_progress: Callable[[AsyncTask[M]], None] | None = None,
    ) -> Result[M]:
        """Poll until the task ends; see `Task.wait`."""
        on_poll = (lambda: on_progress(self)) if on_progress else None
        flow = wait_flow(self._ctx, self._state, timeout=timeout, on_poll=on_poll)
        return await self._driver.run(flow)

    async def cancel(self) -> None:
        """Ask the provider to cancel the task; `UnsupportedOperationError` if it cannot."""
        await self._driver.run(cancel_flow(self._ctx, self._state))
