"""What is known about one submitted task, and the pure decisions about it.

`TaskState` is shared by the sync and async handles and changed only by the task
flows (`py302._task_flows`). The methods here read an answer into a snapshot,
decide what a refused poll means, and turn a finished state into a `Result` or the
error it stands for; none does I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import attrs
import httpx

from ._constants import MAX_POLL_INTERVAL, MIN_POLL_HINT, NOT_FOUND_GRACE_POLLS
from ._errors import (
    APIStatusError,
    NotFoundError,
    ResponseShapeError,
    TaskCancelledError,
    TaskFailedError,
)
from ._registry import OperationSpec, ProviderRegistry
from ._results import Result, Usage
from ._tasks import TaskPattern, TaskSnapshot, TaskStatus

__all__ = ["TaskState"]

logger = logging.getLogger("py302")


@attrs.define(eq=False, kw_only=True)
class TaskState:
    """Identity, last answer and outcome of one task."""

    id: str
    spec: OperationSpec
    registry: ProviderRegistry
    pattern: TaskPattern
    result_model: Any
    snapshot: TaskSnapshot = attrs.field(factory=lambda: TaskSnapshot(status=TaskStatus.QUEUED))
    raw: Any = None
    response: httpx.Response | None = None
    result: Result[Any] | None = None
    submit_usage: Usage | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict)
    path: Mapping[str, Any] = attrs.field(factory=dict)
    """The submit URL's path values: the poll and cancel reuse those they name."""
    journal_entry: int | None = None
    not_found_polls: int = 0

    @property
    def poll_spec(self) -> OperationSpec:
        """The operation that reports this task's state."""
        assert self.spec.task is not None
        return self.registry.get(self.spec.task.poll)

    def read(self, payload: Any, response: httpx.Response | None) -> TaskSnapshot:
        """Take a submit or poll answer as the task's latest state."""
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
        if self.snapshot.status.finished and not snapshot.status.finished:
            # States only move forward: a lagging replica's "pending" does not undo an end.
            logger.debug(
                "%s task %s: a poll said %s after it had %s; kept as %s",
                self.spec.qualified_name,
                self.id,
                snapshot.status.value,
                self.snapshot.status.value,
                self.snapshot.status.value,
            )
            return self.snapshot
        self.snapshot = snapshot
        self.raw = payload
        self.response = response
        return snapshot

    def refused(self, error: APIStatusError) -> TaskSnapshot:
        """A poll got an error answer: decide whether the task is over.

        404 right after submit can mean "not visible yet": polling goes on for
        `NOT_FOUND_GRACE_POLLS` answers. A 404 after that, or another 4xx that is not
        about the key or the rate, means the provider will not report this task again:
        it failed. Anything else (5xx that outlived the retries, 401, 429) is raised as
        it is; the task may be fine, and can be waited for again.
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
        self.raw = error.body
        return self.snapshot

    def failure(self) -> TaskFailedError | TaskCancelledError:
        """The error a failed or cancelled task stands for."""
        reason = self.snapshot.message or self.snapshot.provider_status or "failed"
        kind = (
            TaskCancelledError if self.snapshot.status is TaskStatus.CANCELLED else TaskFailedError
        )
        return kind(reason, task_id=self.id, operation=self.spec.qualified_name, raw=self.raw)


def _retry_after(response: httpx.Response) -> float | None:
    """A poll answer's `Retry-After` (seconds), kept within the poll interval bounds."""
    from ._retry import parse_retry_after

    try:
        asked = parse_retry_after(response.headers)
    except (TypeError, ValueError):
        return None
    # Floor: a server that keeps answering "Retry-After: 0" must not make us spin.
    return None if asked is None else min(max(asked, MIN_POLL_HINT), MAX_POLL_INTERVAL)
