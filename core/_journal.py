"""The task journal: every submitted task, written down before its id is handed back.

A generation costs money, so a submitted task must never be lost: not when the
caller forgets the handle, not when the process is killed while it waits. The
journal is a SQLite file (by default in the user's data directory, or
`PY302_JOURNAL`); a row is written *before* the submit request is sent, completed
with the task id as soon as the answer arrives, and updated as the task runs and
its files are saved. `py302 tasks resume` collects every unfinished task from it.
It never holds the API key.

Synchronous calls are journaled too (without a task id): a row before the request,
the result's URLs once it answers, so a result whose files could not be saved can
still be collected.

States: `submitting` (sent, no answer yet: a task may exist), `not_submitted` (the
request provably did not create a task), `queued`/`running`, `succeeded`, `failed`,
`cancelled`, `timed_out` (our wait ended; the task goes on), `lost` (the answer
arrived but carried no task id). A row in a final state (`succeeded`, `failed`,
`cancelled`) never moves back. Every SQLite or file error becomes a `JournalError`
naming the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ._errors import ConfigurationError, JournalError

if TYPE_CHECKING:
    import sqlite3

__all__ = ["JOURNAL_ENV_VAR", "UNFINISHED", "Journal", "JournalEntry", "default_journal_path"]

JOURNAL_ENV_VAR = "PY302_JOURNAL"
UNFINISHED = ("submitting", "queued", "running", "timed_out")
FINAL = ("succeeded", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    entry INTEGER PRIMARY KEY AUTOINCREMENT,
    operation TEXT NOT NULL,
    task_id TEXT,
    base_url TEXT NOT NULL,
    state TEXT NOT NULL,
    provider_status TEXT,
    progress REAL,
    message TEXT,
    submitted_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    result_urls TEXT NOT NULL DEFAULT '[]',
    saved_paths TEXT NOT NULL DEFAULT '[]',
    out_dir TEXT,
    collected_at REAL,
    claimed_by TEXT,
    claimed_until REAL,
    submit_path TEXT
);
CREATE INDEX IF NOT EXISTS tasks_by_task_id ON tasks (task_id);
"""
# Columns added after the first release, with their declarations, for older files.
_ADDED_COLUMNS = {
    "collected_at": "REAL",
    "claimed_by": "TEXT",
    "claimed_until": "REAL",
    "submit_path": "TEXT",  # JSON: the submit URL's path values, which the poll URL reuses
}


def default_journal_path() -> Path:
    """`PY302_JOURNAL`, else `tasks.sqlite3` in the user's data directory for py302.

    Finding the user's data directory takes platformdirs, which comes with the `cli`
    extra; without it, and without `PY302_JOURNAL`, this raises `ConfigurationError`.
    """
    configured = os.environ.get(JOURNAL_ENV_VAR)
    if configured:
        return Path(configured)
    try:
        import platformdirs
    except ImportError as exc:
        raise ConfigurationError(
            "the default task journal location needs platformdirs: pass a path"
            ' (Client(journal="tasks.sqlite")), set PY302_JOURNAL, or'
            " pip install 'py302[cli]'"
        ) from exc
    return platformdirs.user_data_path("py302") / "tasks.sqlite3"


@attrs.frozen(kw_only=True)
class JournalEntry:
    """One row of the journal."""

    entry: int
    operation: str
    task_id: str | None
    base_url: str
    state: str
    provider_status: str | None
    progress: float | None
    message: str | None
    submitted_at: float
    updated_at: float
    result_urls: tuple[str, ...]
    saved_paths: tuple[str, ...]
    out_dir: str | None
    collected_at: float | None = None
    submit_path: Mapping[str, Any] = attrs.field(factory=dict)
    """The submit URL's path values (a mode, a model): a resumed task polls with them."""

    @property
    def unfinished(self) -> bool:
        """Whether there is a result still to collect: the task may still be running, or
        it (or a synchronous call) finished but its files meant for `out_dir` were never
        saved. A result saved with no files at all counts as collected."""
        if self.state in UNFINISHED:
            return self.task_id is not None
        collected = self.collected_at is not None or bool(self.saved_paths)
        if self.state != "succeeded" or self.out_dir is None or collected:
            return False
        return self.task_id is not None or bool(self.result_urls)

    def as_json(self) -> dict[str, Any]:
        """The row as plain data."""
        return attrs.asdict(self)


class Journal:
    """A task journal in the SQLite file at `path` (created on first use)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_journal_path()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        import sqlite3

        try:
            if self.path.is_dir():
                raise JournalError(str(self.path), "it is a folder, not a file")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(_SCHEMA)
                _add_missing_columns(connection)
                connection.row_factory = sqlite3.Row
                yield connection
            finally:
                connection.close()
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(str(self.path), _reason(exc)) from exc

    def _write(self, sql: str, values: Sequence[Any]) -> int:
        with self._connect() as connection:
            cursor = connection.execute(sql, values)
            return int(cursor.lastrowid or 0)

    def _change(self, sql: str, values: Sequence[Any]) -> int:
        """Run an UPDATE; how many rows it changed."""
        with self._connect() as connection:
            return int(connection.execute(sql, values).rowcount)

    # -- writing --------------------------------------------------------------------------

    def begin(self, operation: str, base_url: str, *, out_dir: str | None = None) -> int:
        """Record a submit about to be sent; returns the row's number."""
        now = time.time()
        return self._write(
            "INSERT INTO tasks (operation, base_url, state, submitted_at, updated_at, out_dir)"
            " VALUES (?, ?, 'submitting', ?, ?, ?)",
            (operation, base_url, now, now, out_dir),
        )

    def submitted(
        self,
        entry: int,
        task_id: str,
        state: str,
        provider_status: str | None,
        submit_path: Mapping[str, Any] | None = None,
    ) -> None:
        """The provider accepted the task: its id is now known (and the path values its
        poll URL needs, when the submit URL had any)."""
        self._write(
            "UPDATE tasks SET task_id = ?, state = ?, provider_status = ?, updated_at = ?,"
            " submit_path = COALESCE(?, submit_path) WHERE entry = ?",
            (
                task_id or None,  # "" is a task that answered finished, with no id to poll
                state,
                provider_status,
                time.time(),
                json.dumps(dict(submit_path)) if submit_path else None,
                entry,
            ),
        )

    def refused(self, entry: int, state: str, message: str) -> None:
        """The submit did not produce a usable task (`not_submitted` or `lost`)."""
        self._write(
            "UPDATE tasks SET state = ?, message = ?, updated_at = ? WHERE entry = ?",
            (state, message[:2000], time.time(), entry),
        )

    def update(
        self,
        entry: int,
        *,
        state: str,
        provider_status: str | None = None,
        progress: float | None = None,
        message: str | None = None,
        result_urls: Sequence[str] | None = None,
    ) -> None:
        """A new state seen by a poll (or the end of a wait); a row in a final state
        keeps it (a late poll cannot turn a finished task back into a running one)."""
        fields = "state = ?, provider_status = ?, progress = ?, message = ?, updated_at = ?"
        values: list[Any] = [state, provider_status, progress, message, time.time()]
        if result_urls is not None:
            fields += ", result_urls = ?"
            values.append(json.dumps(list(result_urls)))
        final = ", ".join("?" * len(FINAL))
        self._write(
            f"UPDATE tasks SET {fields} WHERE entry = ? AND (state NOT IN ({final}) OR state = ?)",
            (*values, entry, *FINAL, state),
        )

    def answered(self, entry: int, result_urls: Sequence[str]) -> None:
        """A synchronous call answered: it succeeded, with these file URLs."""
        self._write(
            "UPDATE tasks SET state = 'succeeded', result_urls = ?, updated_at = ? WHERE entry = ?",
            (json.dumps(list(result_urls)), time.time(), entry),
        )

    def set_out_dir(self, entry: int, out_dir: str | os.PathLike[str]) -> None:
        """Where the task's files should be saved (used by `py302 tasks resume`)."""
        self._write("UPDATE tasks SET out_dir = ? WHERE entry = ?", (str(out_dir), entry))

    def saved(self, entry: int, paths: Sequence[str | os.PathLike[str]]) -> None:
        """The result was collected: its files were written to `paths` (maybe none)."""
        now = time.time()
        self._write(
            "UPDATE tasks SET saved_paths = ?, collected_at = ?, updated_at = ? WHERE entry = ?",
            (json.dumps([str(path) for path in paths]), now, now, entry),
        )

    def claim(self, entry: int, owner: str, seconds: float) -> bool:
        """Take row `entry` for `seconds`, so that two processes collecting results do
        not both download it; False if another owner holds it."""
        now = time.time()
        return (
            self._change(
                "UPDATE tasks SET claimed_by = ?, claimed_until = ? WHERE entry = ? AND"
                " (claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?)",
                (owner, now + seconds, entry, owner, now),
            )
            == 1
        )

    def release(self, entry: int, owner: str) -> None:
        """Give back a row taken with `claim`."""
        self._write(
            "UPDATE tasks SET claimed_by = NULL, claimed_until = NULL"
            " WHERE entry = ? AND claimed_by = ?",
            (entry, owner),
        )

    # -- reading --------------------------------------------------------------------------

    def entries(self, *, limit: int | None = None, unfinished: bool = False) -> list[JournalEntry]:
        """Rows, newest first; only unfinished ones if asked."""
        sql = "SELECT * FROM tasks ORDER BY entry DESC"
        with self._connect() as connection:
            rows = [_entry(row) for row in connection.execute(sql).fetchall()]
        if unfinished:
            rows = [row for row in rows if row.unfinished]
        return rows[:limit] if limit is not None else rows

    def find(self, key: str) -> JournalEntry | None:
        """The row for a task id (or a row number given as text)."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT * FROM tasks WHERE task_id = ? ORDER BY entry DESC LIMIT 1", (key,)
            ).fetchone()
            if row is None and key.isdigit():
                row = connection.execute(
                    "SELECT * FROM tasks WHERE entry = ?", (int(key),)
                ).fetchone()
        return _entry(row) if row is not None else None


def _entry(row: sqlite3.Row) -> JournalEntry:
    return JournalEntry(
        entry=row["entry"],
        operation=row["operation"],
        task_id=row["task_id"],
        base_url=row["base_url"],
        state=row["state"],
        provider_status=row["provider_status"],
        progress=row["progress"],
        message=row["message"],
        submitted_at=row["submitted_at"],
        updated_at=row["updated_at"],
        result_urls=tuple(json.loads(row["result_urls"])),
        saved_paths=tuple(json.loads(row["saved_paths"])),
        out_dir=row["out_dir"],
        collected_at=row["collected_at"],
        submit_path=json.loads(row["submit_path"]) if row["submit_path"] else {},
    )


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    have = {row[1] for row in connection.execute("PRAGMA table_info(tasks)")}
    for name, kind in _ADDED_COLUMNS.items():
        if name not in have:
            try:
                connection.execute(f"ALTER TABLE tasks ADD COLUMN {name} {kind}")
            except sqlite3.OperationalError as exc:
                # Another process opening the same journal added it first.
                if "duplicate column" not in str(exc):
                    raise


def _reason(error: BaseException) -> str:
    """What went wrong, in words a user can act on."""
    text = str(error) or type(error).__name__
    if "not a database" in text or "malformed" in text:
        return f"it is not a readable SQLite journal ({text})"
    if "readonly" in text:
        return f"it cannot be written ({text})"
    return text
