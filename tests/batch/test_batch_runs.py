"""Batch runs on one machine (SQLite): complete, resumable, never a second submit.

Submits are counted by the sandbox's own record of the tasks it created, so a test
cannot be fooled by what the client believes it sent.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from tests.batch.conftest import kill, manifest_rows, submits, worker, write_job

ITEMS = 1000


def test_a_job_completes_with_one_command_and_resending_it_sends_nothing(
    tmp_path: Path, sandbox_url: str
) -> None:
    job = write_job(tmp_path / "whole.jsonl", "whole", ITEMS)
    out = tmp_path / "out"
    first = worker(sandbox_url, job, out, "--concurrency", "100")
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err.decode()
    rows = manifest_rows(out)
    assert len(rows) == ITEMS
    assert {row["status"] for row in rows} == {"succeeded"}
    assert sorted(row["line"] for row in rows) == list(range(1, ITEMS + 1))
    saved = [out / name for row in rows for name in row["files"]]
    assert len(saved) == ITEMS
    assert all(path.stat().st_size > 0 for path in saved)
    counted = submits(sandbox_url, "whole ")
    assert len(counted) == ITEMS
    assert set(counted.values()) == {1}

    again = worker(sandbox_url, job, out)
    again.communicate(timeout=120)
    assert again.returncode == 0
    assert submits(sandbox_url, "whole ") == counted  # nothing sent the second time
    assert len(manifest_rows(out)) == ITEMS


def test_two_workers_and_a_sigkill_submit_each_item_once(tmp_path: Path, sandbox_url: str) -> None:
    job = write_job(tmp_path / "killed.jsonl", "killed", ITEMS)
    out = tmp_path / "out"
    settings = ("--concurrency", "50", "--lease", "2")
    victim = worker(sandbox_url, job, out, *settings)
    survivor = worker(sandbox_url, job, out, *settings)
    time.sleep(random.uniform(1.0, 4.0))
    kill(victim)
    survivor.communicate(timeout=300)
    # The user's next move after a crash: the same command again, until it is done.
    resumed = worker(sandbox_url, job, out, *settings)
    _, err = resumed.communicate(timeout=300)

    rows = manifest_rows(out)
    assert len(rows) == ITEMS, err.decode()
    assert sorted(row["line"] for row in rows) == list(range(1, ITEMS + 1))
    counted = submits(sandbox_url, "killed ")
    assert max(counted.values()) == 1  # no item was ever submitted twice
    by_status: dict[str, list[int]] = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row["line"])
    # Each succeeded item was submitted exactly once; an item whose submit was on the
    # wire when its worker died is reported uncertain (never resent), and there can be
    # no more of those than the dead worker had in flight.
    assert set(by_status) <= {"succeeded", "uncertain"}
    for line in by_status["succeeded"]:
        assert counted[f"killed {line - 1}"] == 1
    assert len(by_status.get("uncertain", [])) <= 50
    assert len(counted) >= len(by_status["succeeded"])
