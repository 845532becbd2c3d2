"""Batch runs at their edges: a task that outlives the run, lines removed from the job
file, a stop after failures; through the Python API against an in-process sandbox."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from py302 import batch
from py302.batch import BatchOutputError, JobItem, SQLiteQueue
from py302.sandbox import Fault, Sandbox


def _job(path: Path, prompts: list[str]) -> Path:
    path.write_text(
        "".join(
            json.dumps({"operation": "flux.kontext_pro", "arguments": {"prompt": p}}) + "\n"
            for p in prompts
        )
    )
    return path


def test_a_task_that_outlives_the_run_is_collected_by_the_next(tmp_path: Path) -> None:
    job = _job(tmp_path / "slow.jsonl", ["slow one"])
    out = tmp_path / "out"
    with Sandbox(task_seconds=0.2) as sandbox:
        sandbox.faults.add(Fault(kind="task_never_finishes", route="flux.*", times=1))
        settings = {"out": out, "base_url": sandbox.base_url, "api_key": "sandbox-local-key"}
        first = batch.run(job, task_timeout=0.5, **settings)
        assert first.counts == {"running": 1}  # given back, not waited on forever
        assert not first.complete
        second = batch.run(job, task_timeout=0.5, **settings)
        # The same task polled again, still running (that is the fault): still the one
        # submit, and the run ends rather than waiting on it or sending it again.
        assert second.counts == {"running": 1}
        assert [t.prompt for t in sandbox.tasks.all()] == ["slow one"]


def test_a_task_that_finishes_later_is_saved_without_a_second_submit(tmp_path: Path) -> None:
    job = _job(tmp_path / "later.jsonl", ["later"])
    out = tmp_path / "out"
    with Sandbox(task_seconds=1.5) as sandbox:
        settings = {"out": out, "base_url": sandbox.base_url, "api_key": "sandbox-local-key"}
        first = batch.run(job, task_timeout=0.3, **settings)
        assert first.counts == {"running": 1}
        second = batch.run(job, **settings)
        assert second.counts == {"succeeded": 1}
        assert len(sandbox.tasks.all()) == 1
    (row,) = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert row["status"] == "succeeded"
    assert (out / row["files"][0]).is_file()


def test_lines_removed_from_the_file_are_withdrawn_until_they_come_back(tmp_path: Path) -> None:
    def item(key: str) -> JobItem:
        return JobItem(key=key, line=1, operation="flux.kontext_pro", arguments={"prompt": key})

    async def states(items: list[JobItem]) -> dict[str, str]:
        queue = SQLiteQueue(tmp_path / "queue.sqlite3")
        try:
            await queue.add("j", items)
            return {row.key: row.state for row in await queue.rows("j")}
        finally:
            await queue.close()

    assert asyncio.run(states([item("a"), item("b")])) == {"a": "pending", "b": "pending"}
    assert asyncio.run(states([item("a")])) == {"a": "pending", "b": "withdrawn"}
    assert asyncio.run(states([item("a"), item("b")])) == {"a": "pending", "b": "pending"}


def test_it_stops_submitting_after_the_failures_it_was_given(tmp_path: Path) -> None:
    job = _job(tmp_path / "failing.jsonl", [f"fail {i}" for i in range(30)])
    with Sandbox(task_seconds=0.1) as sandbox:
        sandbox.faults.add(Fault(kind="status", route="flux.*", status=400))
        summary = batch.run(
            job,
            out=tmp_path / "out",
            base_url=sandbox.base_url,
            api_key="sandbox-local-key",
            concurrency=1,
            max_failures=3,
        )
    assert summary.stopped_early
    assert summary.counts == {"failed": 3, "pending": 27}


def test_an_output_folder_that_cannot_be_made_is_named_before_any_submit(
    tmp_path: Path,
) -> None:
    job = _job(tmp_path / "nowhere.jsonl", ["nowhere"])
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    with Sandbox(task_seconds=0.1) as sandbox:
        with pytest.raises(BatchOutputError, match="taken"):
            batch.run(
                job,
                out=blocker / "out",
                queue=str(tmp_path / "queue.sqlite3"),
                base_url=sandbox.base_url,
                api_key="sandbox-local-key",
            )
        assert sandbox.tasks.all() == []
