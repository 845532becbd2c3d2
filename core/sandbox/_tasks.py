"""The sandbox's tasks: when each was submitted, how it will end.

`TaskStore` keeps them in memory, for one process; `SharedTaskStore` in an SQLite file
that several worker processes open at once, so that any of them answers a poll for a
task another one created (`py302 sandbox serve --workers N`). Times come from the
monotonic clock, which every process on a machine shares.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

__all__ = ["SandboxTask", "SharedTaskStore", "TaskStore"]


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
        self._keep(task)
        return task

    def _keep(self, task: SandboxTask) -> None:
        with self._lock:
            self._tasks[task.id] = task

    def get(self, task_id: str) -> SandboxTask | None:
        """The task with `task_id`, or None."""
        with self._lock:
            return self._tasks.get(task_id)

    def all(self) -> list[SandboxTask]:
        """Every task, oldest first."""
        with self._lock:
            return sorted(self._tasks.values(), key=lambda task: task.submitted_at)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    operation TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    seconds REAL NOT NULL,
    outcome TEXT NOT NULL,
    prompt TEXT NOT NULL,
    not_found_until REAL NOT NULL,
    request TEXT NOT NULL
)
"""
_COLUMNS = "id, operation, submitted_at, seconds, outcome, prompt, not_found_until, request"


class SharedTaskStore(TaskStore):
    """Tasks in an SQLite file shared by the worker processes of one sandbox.

    Write-ahead logging lets the workers read while one writes; nothing is synced to
    disk (a sandbox's tasks need not outlive a power cut).
    """

    def __init__(self, path: Path, clock: Callable[[], float]) -> None:
        super().__init__(clock)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        with self._db:
            self._db.execute(_SCHEMA)

    def _keep(self, task: SandboxTask) -> None:
        row = (
            task.id,
            task.operation,
            task.submitted_at,
            task.seconds,
            task.outcome,
            task.prompt,
            task.not_found_until,
            json.dumps(task.request, default=repr),
        )
        with self._lock, self._db:
            self._db.execute(f"INSERT INTO tasks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)

    def get(self, task_id: str) -> SandboxTask | None:
        """The task with `task_id`, whichever worker created it, or None."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE id = ?", (task_id,)
            ).fetchone()
        return None if row is None else _task(row)

    def all(self) -> list[SandboxTask]:
        """Every task of every worker, oldest first."""
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM tasks ORDER BY submitted_at")
            return [_task(row) for row in rows.fetchall()]


def _task(row: tuple[Any, ...]) -> SandboxTask:
    task_id, operation, submitted_at, seconds, outcome, prompt, not_found_until, request = row
    return SandboxTask(
        id=task_id,
        operation=operation,
        submitted_at=submitted_at,
        seconds=seconds,
        outcome=outcome,
        prompt=prompt,
        not_found_until=not_found_until,
        request=json.loads(request),
    )
