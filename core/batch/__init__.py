"""Batch runs: thousands of generations from a job file, each submitted exactly once.

    from py302 import batch

    summary = batch.run("jobs.jsonl", out="shots")          # SQLite in shots/
    summary = batch.run("jobs.jsonl", out="shots", queue="postgresql://host/db")

or `py302 batch run jobs.jsonl --out shots`. Every line of the job file is checked
before anything is sent (`JobFileError` names each bad line and field). Each item is
written down before its submit leaves and its task id as soon as it is known, so a run
that is stopped (Ctrl-C, a crash, SIGKILL) and started again collects what was
submitted and never submits it again. Run the same command on more machines with a
PostgreSQL `queue` and they share the work; a worker that dies has its items taken
over. Each item's files land in `out` as they finish, with `manifest.jsonl` (one line
per item: status, task id, files, error, timings, usage).

The job file's format: `py302.batch._jobs`. The queue and the states of an item:
`py302.batch._queue`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from py302._client import AsyncClient, Client

from ._files import BatchOutputError
from ._jobs import JobFileError, JobItem, load_job, load_template
from ._queue import FINAL_STATES, ItemRow, Queue, QueueError, SQLiteQueue
from ._runner import BatchProgress, BatchRunner, BatchSummary

__all__ = [
    "FINAL_STATES",
    "QUEUE_FILE",
    "BatchOutputError",
    "BatchProgress",
    "BatchRunner",
    "BatchSummary",
    "ItemRow",
    "JobFileError",
    "JobItem",
    "Queue",
    "QueueError",
    "SQLiteQueue",
    "arun",
    "load_items",
    "open_queue",
    "run",
]

#: The SQLite queue's file inside `out`, when no `queue` is given.
QUEUE_FILE = ".py302-batch.sqlite3"


def open_queue(queue: str | None, out: str | os.PathLike[str]) -> Queue:
    """The queue a job runs from: PostgreSQL for a `postgresql://` URL, else SQLite
    (the file `queue`, or `QUEUE_FILE` in `out`)."""
    if queue and queue.startswith(("postgresql://", "postgres://")):
        from ._postgres import PostgresQueue

        return PostgresQueue(queue)
    return SQLiteQueue(Path(queue) if queue else Path(out) / QUEUE_FILE)


def load_items(
    job_file: str | os.PathLike[str],
    *,
    job: str,
    client: Client,
    variables: str | os.PathLike[str] | None = None,
) -> list[JobItem]:
    """The checked items of a job: a JSON Lines file, or (with `variables`) a template
    (one JSON object) filled from each row of a CSV or JSON Lines file."""
    path = Path(job_file)
    if variables is None:
        return load_job(path, job=job, client=client)
    import json

    try:
        template = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JobFileError(str(path), [(0, "(file)", "does not exist")]) from None
    except (OSError, ValueError) as exc:
        raise JobFileError(str(path), [(0, "(file)", f"is not one JSON object ({exc})")]) from None
    if not isinstance(template, Mapping):
        raise JobFileError(str(path), [(0, "(file)", "a template is one JSON object")])
    return load_template(template, Path(variables), job=job, client=client, base=path.parent)


async def arun(
    job_file: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    job: str | None = None,
    variables: str | os.PathLike[str] | None = None,
    queue: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    concurrency: int = 16,
    rate: float | None = None,
    max_failures: int | None = None,
    retry_failed: bool = False,
    lease: float = 30.0,
    task_timeout: float = 1800.0,
    on_progress: Callable[[BatchProgress], None] | None = None,
) -> BatchSummary:
    """Check the job, then work on it until every item has ended; see `run`."""
    name = job or Path(job_file).stem
    with Client(api_key=api_key, base_url=base_url, journal=False) as checker:
        items = load_items(job_file, job=name, client=checker, variables=variables)
    store = open_queue(queue, out)
    try:
        async with AsyncClient(api_key=api_key, base_url=base_url, journal=False) as client:
            runner = BatchRunner(
                client=client,
                queue=store,
                job=name,
                items=items,
                out=Path(out),
                concurrency=concurrency,
                rate=rate,
                max_failures=max_failures,
                retry_failed=retry_failed,
                lease=lease,
                task_timeout=task_timeout,
                on_progress=on_progress,
            )
            return await runner.run()
    finally:
        await store.close()


def run(job_file: str | os.PathLike[str], **settings: Any) -> BatchSummary:
    """Run a job to its end: `job_file` (JSON Lines, or a template with `variables`),
    results into `out`; `queue` a PostgreSQL URL to share the job between machines.
    `concurrency` items in flight, `rate` submits per second at most, `max_failures`
    to stop submitting after that many failed, `retry_failed` to send failed items
    again. The same call after a crash resumes the job. Settings: `arun`."""
    return asyncio.run(arun(job_file, **settings))
