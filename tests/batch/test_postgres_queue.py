"""Workers sharing a job through a real PostgreSQL server: one is SIGKILLed mid-run,
the others take its items over, and every item is submitted once.

The server is Debian's `postgresql` package, started by the `postgres_url` fixture
(`.ci/run` installs the package).
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest

from py302.batch import QueueError, open_queue
from py302.batch._queue import SCHEMA_VERSION
from tests.batch.conftest import kill, manifest_rows, submits, worker, write_job

ITEMS = 600


def test_three_workers_one_killed_each_item_once(
    tmp_path: Path, sandbox_url: str, postgres_url: str
) -> None:
    job = write_job(tmp_path / "shared.jsonl", "shared", ITEMS)
    settings = ("--queue", postgres_url, "--concurrency", "40", "--lease", "2")
    # Three machines' worth of workers: each its own output folder, one queue.
    outs = [tmp_path / f"machine-{n}" for n in range(3)]
    workers = [worker(sandbox_url, job, out, *settings) for out in outs]
    time.sleep(random.uniform(1.0, 3.0))
    kill(workers[0])
    for survivor in workers[1:]:
        _, err = survivor.communicate(timeout=300)
    rows = manifest_rows(outs[1])
    assert len(rows) == ITEMS, err.decode()
    assert manifest_rows(outs[2]) == rows  # every worker writes the whole job's manifest
    assert sorted(row["line"] for row in rows) == list(range(1, ITEMS + 1))
    counted = submits(sandbox_url, "shared ")
    assert max(counted.values()) == 1
    statuses = {row["status"] for row in rows}
    assert statuses <= {"succeeded", "uncertain"}
    succeeded = [row for row in rows if row["status"] == "succeeded"]
    assert all(counted[f"shared {row['line'] - 1}"] == 1 for row in succeeded)
    assert ITEMS - len(succeeded) <= 40  # at most what the dead worker had in flight
    # Each item's files are in the folder of the worker that collected it.
    for row in succeeded:
        assert any((out / row["files"][0]).is_file() for out in outs)


def test_the_schema_is_versioned(postgres_url: str) -> None:
    async def check() -> None:
        queue = open_queue(postgres_url, ".")
        try:
            await queue.jobs()  # creates the tables
            await queue._run("UPDATE py302_batch_schema SET version = ?", (SCHEMA_VERSION + 1,))
            newer = open_queue(postgres_url, ".")
            with pytest.raises(QueueError, match="newer than this py302"):
                await newer.jobs()
            await newer.close()
        finally:
            await queue._run("UPDATE py302_batch_schema SET version = ?", (SCHEMA_VERSION,))
            await queue.close()

    asyncio.run(check())


def test_a_password_never_shows(postgres_url: str) -> None:
    url = postgres_url.replace("py302@", "py302:s3cret-pass@")
    queue = open_queue(url, ".")
    assert "s3cret-pass" not in queue.where
    assert queue.where.startswith("postgresql://py302@127.0.0.1")
