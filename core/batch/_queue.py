"""Where a job's items live while it runs: the queue every worker takes items from.

One table holds every item of every job, one row each, keyed by (job, key). A row's
`state` is the item's whole story:

    pending     not sent; any worker may take it
    submitting  its submit was written down and is on its way (nothing more known)
    running     the provider accepted it: `task_id` is set, a poll collects it
    succeeded   its files were saved and written down            (final)
    failed      the provider refused it, or its task failed       (final)
    uncertain   its submit left and its worker died before the answer came back:
                a task may exist, so it is never sent again      (final)
    lost        answered, but with no task id to follow          (final)
    withdrawn   its line left the job file before it was sent    (final; it comes
                back as pending if the line comes back)

Exactly once: the only move from `pending` to `submitting` is one conditional
UPDATE by the worker holding the item's lease, written before the request is sent;
nothing ever moves an item back to `pending` except `--retry-failed` (failed items,
which provably have no task of theirs running). A worker holds its items by a lease
that its heartbeat renews; when a lease runs out, another worker takes a `running`
item over (and polls it: it is never resubmitted), and marks a `submitting` one
`uncertain`. Leases are timed by the database's clock, so workers on machines whose
clocks disagree still agree on them.

`SQLiteQueue` keeps the table in a file on one machine (any number of processes);
`PostgresQueue` (`py302.batch._postgres`) in a PostgreSQL database any number of
machines reach. Both speak the SQL below; each says how it runs it.
"""

from __future__ import annotations

import abc
import asyncio
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import attrs

from py302._errors import Py302Error

from ._jobs import JobItem

__all__ = [
    "FINAL_STATES",
    "SCHEMA_VERSION",
    "Claimed",
    "ItemRow",
    "Queue",
    "QueueError",
    "SQLiteQueue",
]

T = TypeVar("T")
SCHEMA_VERSION = 1
FINAL_STATES = ("succeeded", "failed", "uncertain", "lost", "withdrawn")
UNFINISHED_STATES = ("pending", "submitting", "running")

_COLUMNS = (
    "job, key, line, name, operation, arguments, state, task_id, submit_path, owner,"
    " lease_until, attempts, error, files, urls, usage, added_at, started_at,"
    " submitted_at, finished_at"
)
_TABLES = """
CREATE TABLE IF NOT EXISTS py302_batch_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS py302_batch_items (
    job TEXT NOT NULL,
    key TEXT NOT NULL,
    line INTEGER NOT NULL,
    name TEXT,
    operation TEXT NOT NULL,
    arguments TEXT NOT NULL,
    state TEXT NOT NULL,
    task_id TEXT,
    submit_path TEXT,
    owner TEXT,
    lease_until DOUBLE PRECISION,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    files TEXT,
    urls TEXT,
    usage TEXT,
    added_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    submitted_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    PRIMARY KEY (job, key)
);
CREATE INDEX IF NOT EXISTS py302_batch_items_by_state ON py302_batch_items (job, state);
"""


class QueueError(Py302Error):
    """The queue could not be opened or written: names it and says why."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        super().__init__(f"batch queue {where}: {reason}")


@attrs.frozen(kw_only=True)
class Claimed:
    """An item a worker now holds: to submit (`pending`) or to collect (`running`)."""

    key: str
    line: int
    name: str | None
    operation: str
    arguments: Mapping[str, Any]
    state: str
    task_id: str | None
    submit_path: Mapping[str, Any]


@attrs.frozen(kw_only=True)
class ItemRow:
    """An item as the queue has it, for the manifest and `py302 batch status`."""

    key: str
    line: int
    name: str | None
    operation: str
    state: str
    task_id: str | None
    attempts: int
    error: str | None
    files: tuple[str, ...]
    urls: tuple[str, ...]
    usage: Mapping[str, Any] | None
    added_at: float
    started_at: float | None
    submitted_at: float | None
    finished_at: float | None

    def as_json(self) -> dict[str, Any]:
        """The manifest line of this item."""
        seconds = (
            round(self.finished_at - self.started_at, 3)
            if self.finished_at is not None and self.started_at is not None
            else None
        )
        return {
            "line": self.line,
            "key": self.key,
            "name": self.name,
            "operation": self.operation,
            "status": self.state,
            "task_id": self.task_id,
            "files": list(self.files),
            "urls": list(self.urls),
            "error": self.error,
            "usage": dict(self.usage) if self.usage else None,
            "attempts": self.attempts,
            "timings": {
                "started_at": self.started_at,
                "submitted_at": self.submitted_at,
                "finished_at": self.finished_at,
                "seconds": seconds,
            },
        }


def encode_arguments(arguments: Mapping[str, Any]) -> str:
    """Arguments as stored: a file argument (a `Path`) as `{"file": absolute path}`."""
    return json.dumps(
        arguments, default=lambda value: {"file": str(Path(value).resolve())}, sort_keys=True
    )


def decode_arguments(text: str) -> dict[str, Any]:
    """Stored arguments, ready for the binding again."""
    decoded: dict[str, Any] = json.loads(text)
    return {
        key: Path(value["file"]) if isinstance(value, dict) and set(value) == {"file"} else value
        for key, value in decoded.items()
    }


class Queue(abc.ABC):
    """The operations a batch worker needs, in portable SQL; a subclass runs them.

    `?` marks a parameter and `NOW` the database's clock in seconds since the epoch;
    `_skip_locked` is what a claim adds to lock rows other workers are not taking.
    """

    _skip_locked = ""
    _now = "NOW"

    # -- how a subclass runs SQL -----------------------------------------------------------

    @abc.abstractmethod
    async def _run(
        self, sql: str, params: Sequence[Any] = (), *, durable: bool = True
    ) -> tuple[int, list[Any]]:
        """Run one statement in a transaction of its own: (rows changed, rows returned).

        `durable=False`: the commit need not wait for the disk, for a write whose loss
        in a crash of the database itself only sends the item back a step to be
        polled or collected again (never to be submitted again)."""

    @abc.abstractmethod
    async def _run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each of `rows`, in one transaction."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the connection."""

    @property
    @abc.abstractmethod
    def where(self) -> str:
        """The queue, as it is shown (never a password)."""

    # -- the operations --------------------------------------------------------------------

    async def add(self, job: str, items: Sequence[JobItem]) -> None:
        """Make the queue hold the job file's items: new ones pending, those already in
        it where they are (a withdrawn one pending again), and those not sent whose line
        is gone from the file withdrawn (a line deleted is a generation not wanted)."""
        await self._run_many(
            "INSERT INTO py302_batch_items (job, key, line, name, operation, arguments, state,"
            " added_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', NOW) ON CONFLICT (job, key) DO"
            " UPDATE SET line = excluded.line, name = excluded.name, state = CASE"
            " py302_batch_items.state WHEN 'withdrawn' THEN 'pending' ELSE"
            " py302_batch_items.state END",
            [
                (job, i.key, i.line, i.name, i.operation, encode_arguments(i.arguments))
                for i in items
            ],
        )
        wanted = {item.key for item in items}
        _, rows = await self._run(
            "SELECT key FROM py302_batch_items WHERE job = ? AND state = 'pending'", (job,)
        )
        gone = [(job, key) for (key,) in rows if key not in wanted]
        if gone:
            await self._run_many(
                "UPDATE py302_batch_items SET state = 'withdrawn', owner = NULL,"
                " finished_at = NOW WHERE job = ? AND key = ? AND state = 'pending'",
                gone,
            )

    async def retry_failed(self, job: str) -> int:
        """Send the failed items again: their tasks provably are not running."""
        changed, _ = await self._run(
            "UPDATE py302_batch_items SET state = 'pending', owner = NULL, lease_until = NULL,"
            " error = NULL WHERE job = ? AND state = 'failed'",
            (job,),
            durable=False,
        )
        return changed

    async def expire(self, job: str) -> int:
        """Mark `uncertain` each submit whose worker's lease ran out before its answer
        came back (see the module's docstring); how many."""
        changed, _ = await self._run(
            "UPDATE py302_batch_items SET state = 'uncertain', owner = NULL, finished_at = NOW,"
            " error = 'its worker stopped while the submit was on its way: a task may exist"
            " (check your 302.AI task history); it is not sent again'"
            " WHERE job = ? AND state = 'submitting' AND lease_until < NOW",
            (job,),
            durable=False,
        )
        return changed

    async def owners(self, job: str) -> list[str]:
        """The workers holding unfinished items of the job."""
        _, rows = await self._run(
            "SELECT DISTINCT owner FROM py302_batch_items WHERE job = ? AND owner IS NOT NULL"
            " AND state IN ('pending', 'submitting', 'running')",
            (job,),
            durable=False,
        )
        return [owner for (owner,) in rows]

    async def end_lease(self, job: str, owner: str) -> None:
        """End the leases of a worker known to be dead (its items are taken over now,
        not when its leases would have run out)."""
        await self._run(
            "UPDATE py302_batch_items SET lease_until = NOW - 1 WHERE job = ? AND owner = ?",
            (job, owner),
            durable=False,
        )

    async def claim(self, job: str, owner: str, limit: int, lease: float) -> list[Claimed]:
        """Take up to `limit` items nobody holds: running ones to collect first, then
        pending ones in line order."""
        _, rows = await self._run(
            "UPDATE py302_batch_items SET owner = ?, lease_until = NOW + ? WHERE job = ? AND"
            " key IN (SELECT key FROM py302_batch_items WHERE job = ? AND state IN"
            " ('pending', 'running') AND (owner IS NULL OR lease_until < NOW) ORDER BY"
            f" CASE state WHEN 'running' THEN 0 ELSE 1 END, line LIMIT ?{self._skip_locked})"
            " RETURNING key, line, name, operation, arguments, state, task_id, submit_path",
            (owner, lease, job, job, limit),
            durable=False,
        )
        claimed = [
            Claimed(
                key=key,
                line=line,
                name=name,
                operation=operation,
                arguments=decode_arguments(arguments),
                state=state,
                task_id=task_id,
                submit_path=json.loads(submit_path) if submit_path else {},
            )
            for key, line, name, operation, arguments, state, task_id, submit_path in rows
        ]
        return sorted(claimed, key=lambda item: (item.state != "running", item.line))

    async def submitting(self, job: str, key: str, owner: str, lease: float) -> bool:
        """Write down that the item's submit is about to leave; False when this worker
        no longer holds it pending (then it must not be sent)."""
        changed, _ = await self._run(
            "UPDATE py302_batch_items SET state = 'submitting', lease_until = NOW + ?,"
            " attempts = attempts + 1, started_at = NOW WHERE job = ? AND key = ? AND"
            " owner = ? AND state = 'pending'",
            (lease, job, key, owner),
        )
        return changed == 1

    async def submitted(
        self, job: str, key: str, owner: str, task_id: str, submit_path: Mapping[str, Any]
    ) -> None:
        """The provider accepted the item's task: its id (written even if the item was
        meanwhile marked uncertain: it is certain now)."""
        await self._run(
            "UPDATE py302_batch_items SET state = 'running', task_id = ?, submit_path = ?,"
            " submitted_at = NOW, owner = ?, error = NULL, finished_at = NULL WHERE job = ?"
            " AND key = ? AND state IN ('submitting', 'uncertain')",
            (task_id, json.dumps(dict(submit_path)), owner, job, key),
        )

    async def finish(
        self,
        job: str,
        key: str,
        state: str,
        *,
        error: str | None = None,
        files: Sequence[str] = (),
        urls: Sequence[str] = (),
        usage: Mapping[str, Any] | None = None,
    ) -> bool:
        """The item ended in `state`; False if it had already ended (another worker
        collected it first)."""
        changed, _ = await self._run(
            "UPDATE py302_batch_items SET state = ?, error = ?, files = ?, urls = ?,"
            " usage = ?, owner = NULL, lease_until = NULL, finished_at = NOW,"
            " started_at = COALESCE(started_at, NOW) WHERE job = ? AND key = ? AND state IN"
            " ('pending', 'submitting', 'running', 'uncertain')",
            (
                state,
                error[:2000] if error else None,
                json.dumps(list(files)),
                json.dumps(list(urls)),
                json.dumps(dict(usage)) if usage else None,
                job,
                key,
            ),
            durable=False,
        )
        return changed == 1

    async def release(self, job: str, key: str, owner: str) -> None:
        """Give an item back unfinished (a wait that ran out, an interrupted run): a
        later run, or another worker now, takes it up where it is."""
        await self._run(
            "UPDATE py302_batch_items SET owner = NULL, lease_until = NULL WHERE job = ? AND"
            " key = ? AND owner = ? AND state IN ('pending', 'running')",
            (job, key, owner),
            durable=False,
        )

    async def heartbeat(self, job: str, owner: str, lease: float) -> None:
        """Renew the lease of every unfinished item this worker holds."""
        await self._run(
            "UPDATE py302_batch_items SET lease_until = NOW + ? WHERE job = ? AND owner = ?"
            " AND state IN ('pending', 'submitting', 'running')",
            (lease, job, owner),
            durable=False,
        )

    async def counts(self, job: str) -> dict[str, int]:
        """How many items are in each state."""
        _, rows = await self._run(
            "SELECT state, COUNT(*) FROM py302_batch_items WHERE job = ? GROUP BY state",
            (job,),
            durable=False,
        )
        return {state: int(count) for state, count in rows}

    async def rows(self, job: str) -> list[ItemRow]:
        """Every item of the job, in line order."""
        _, rows = await self._run(
            "SELECT key, line, name, operation, state, task_id, attempts, error, files, urls,"
            " usage, added_at, started_at, submitted_at, finished_at FROM py302_batch_items"
            " WHERE job = ? ORDER BY line, key",
            (job,),
            durable=False,
        )
        return [_item_row(row) for row in rows]

    async def jobs(self) -> list[str]:
        """The names of the jobs in the queue."""
        _, rows = await self._run(
            "SELECT DISTINCT job FROM py302_batch_items ORDER BY job", durable=False
        )
        return [job for (job,) in rows]


def _item_row(row: Sequence[Any]) -> ItemRow:
    (key, line, name, operation, state, task_id, attempts, error, files, urls, usage) = row[:11]
    added_at, started_at, submitted_at, finished_at = row[11:]
    return ItemRow(
        key=key,
        line=line,
        name=name,
        operation=operation,
        state=state,
        task_id=task_id,
        attempts=attempts,
        error=error,
        files=tuple(json.loads(files)) if files else (),
        urls=tuple(json.loads(urls)) if urls else (),
        usage=json.loads(usage) if usage else None,
        added_at=added_at,
        started_at=started_at,
        submitted_at=submitted_at,
        finished_at=finished_at,
    )


def check_version(found: int | None, where: str) -> None:
    """Refuse a queue made by a newer py302 (its rows may mean something else)."""
    if found is not None and found > SCHEMA_VERSION:
        raise QueueError(
            where,
            f"its tables are version {found}, newer than this py302 knows ({SCHEMA_VERSION});"
            " upgrade py302",
        )


class SQLiteQueue(Queue):
    """The queue in an SQLite file, for the processes of one machine.

    Every statement runs on one thread of its own, so a wait for another process's
    write lock never stalls the event loop. Write-ahead logging with `synchronous =
    NORMAL`: a committed row survives the process being killed (the operating system
    has it); only a power cut can take the last few commits back.
    """

    _now = "((julianday('now') - 2440587.5) * 86400.0)"

    def __init__(self, path: str | Path) -> None:
        if sqlite3.sqlite_version_info < (3, 35):
            raise QueueError(
                str(path), f"needs SQLite 3.35 or later (this Python has {sqlite3.sqlite_version})"
            )
        self.path = Path(path)
        # One thread runs every statement, so it alone ever touches the connection.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="py302-batch-db")
        self._db: sqlite3.Connection | None = None

    @property
    def where(self) -> str:
        """The file."""
        return str(self.path)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            try:
                _in_transaction(connection, self._create_tables)
            except BaseException:
                connection.close()
                raise
            self._db = connection
        return self._db

    def _create_tables(self, connection: sqlite3.Connection) -> None:
        for statement in _TABLES.split(";"):
            if statement.strip():
                connection.execute(statement)
        version = connection.execute("SELECT MAX(version) FROM py302_batch_schema").fetchone()[0]
        check_version(version, self.where)
        if version is None:
            connection.execute(
                "INSERT INTO py302_batch_schema (version) VALUES (?)", (SCHEMA_VERSION,)
            )

    def _sql(self, sql: str) -> str:
        return sql.replace("NOW", self._now)

    async def _in_thread(self, work: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, work)
        except (sqlite3.Error, OSError) as exc:
            raise QueueError(self.where, str(exc) or type(exc).__name__) from exc

    async def _run(
        self, sql: str, params: Sequence[Any] = (), *, durable: bool = True
    ) -> tuple[int, list[Any]]:
        # Every commit here waits for the operating system, not the disk (see above).
        def statement(connection: sqlite3.Connection) -> tuple[int, list[Any]]:
            cursor = connection.execute(self._sql(sql), params)
            return cursor.rowcount, cursor.fetchall()

        result: tuple[int, list[Any]] = await self._in_thread(
            lambda: _in_transaction(self._connection(), statement)
        )
        return result

    async def _run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._in_thread(
            lambda: _in_transaction(
                self._connection(), lambda connection: connection.executemany(self._sql(sql), rows)
            )
        )

    async def close(self) -> None:
        """Close the file (waits for the statement in progress)."""

        def work() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await self._in_thread(work)
        self._thread.shutdown(wait=True)


def _in_transaction(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """`work(connection)` in one write transaction, taken at once (`BEGIN IMMEDIATE`:
    a claim reads and writes, and must not find its snapshot stale when it writes)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        done = work(connection)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return done
