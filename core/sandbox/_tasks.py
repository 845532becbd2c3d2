"""The sandbox's tasks: when each was submitted, how it will end."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["SandboxTask", "TaskStore"]


@attrs.define(kw_only=True)
class SandboxTask:
    """A submitted task and its scripted outcome."""

    id: str
    operation: str
    submitted_at: float
    seconds: float
    outcome: str  # "succeeded", "failed" or "never"
    prompt: str
    not_found_until: float = 0.0
    request: Any = None  # the submit's body: what the finished answer is shaped by

    def progress(self, now: float) -> float:
        """Fraction of its run so far (0.0 to 1.0)."""
        if self.seconds <= 0:
            return 1.0
        return max(0.0, min(1.0, (now - self.submitted_at) / self.seconds))

    def state(self, now: float) -> str:
        """`running`, `succeeded` or `failed` at time `now`."""
        if self.outcome == "never" or now < self.submitted_at + self.seconds - 1e-9:
            return "running"
        return self.outcome


class TaskStore:
    """Tasks by id; shared between the server thread and the test that drives it."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._tasks: dict[str, SandboxTask] = {}
        self._lock = threading.Lock()

    def create(
        self,
        *,
        operation: str,
        seconds: float,
        outcome: str,
        prompt: str,
        hidden_for: float = 0.0,
        request: Any = None,
    ) -> SandboxTask:
        """Start a task now; `hidden_for` seconds of 404s before polls find it."""
        now = self.clock()
        task = SandboxTask(
            id=f"sbx-{uuid.uuid4().hex[:16]}",
            operation=operation,
            submitted_at=now,
            seconds=seconds,
            outcome=outcome,
            prompt=prompt,
            not_found_until=now + hidden_for,
            request=request,
        )
        with self._lock:
            self._tasks[task.id] = task
        return task

    def get(self, task_id: str) -> SandboxTask | None:
        """The task with `task_id`, or None."""
        with self._lock:
            return self._tasks.get(task_id)

    def all(self) -> list[SandboxTask]:
        """Every task, oldest first."""
        with self._lock:
            return sorted(self._tasks.values(), key=lambda task: task.submitted_at)
