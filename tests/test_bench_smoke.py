"""The benchmark runner still runs (tiny sizes); its numbers live in scripts/bench."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmarks_run_once_with_tiny_sizes(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench" / "run.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    # A measured figure, whatever its size: with tiny repeats the import time minus the
    # interpreter's start-up may come out at or below zero, which is noise, not a failure.
    assert isinstance(results["import"]["py302_client_s"], float)
    assert isinstance(results["import"]["py302_first_call_s"], float)
    for mode in ("sync", "async"):
        for kind in ("json", "binary", "multipart"):
            assert results["calls"][f"{mode}_{kind}_py302_ms"] > 0
    # openai and anthropic are in the dev extra: the comparisons are measured, not skipped.
    for fmt, theirs in (("openai_format", "openai"), ("claude_format", "anthropic")):
        chat = results["chat"][fmt]
        assert 0 < chat["stream_first_chunk_py302_ms"] <= chat["stream_total_py302_ms"]
        assert chat[f"whole_py302_over_{theirs}"] > 0
        long_stream = results["stream_throughput"][fmt]
        assert long_stream["py302_items"] == results["stream_throughput"]["chunks"]
        assert long_stream[f"py302_speed_over_{theirs}"] > 0
    assert results["download"]["bytes"] == 1024 * 1024
    assert results["polling"]["flux.bfl+hints"]["polls"] == 1
    assert results["concurrency"]["5"]["peak_rss_mib"] > 0
    assert results["codegen"]["py302_noop_s"] < results["codegen"]["py302_full_s"]
    # Both queues are measured (CI installs PostgreSQL), beside the bare loop.
    batch = results["batch"]["10"]
    for figure in ("bare_items_per_s", "sqlite_items_per_s", "postgres_items_per_s"):
        assert batch[figure] > 0
    # Every target is reported and measured (no comparison tool is missing where CI
    # runs), but for the 1,000-task ones, which tiny sizes do not run.
    unmeasured = {row["figure"] for row in results["targets"] if row["met"] is None}
    assert unmeasured == {"1,000 concurrent 2 s tasks (s)", "1,000 concurrent tasks peak RSS (MiB)"}
    assert "import py302 + Client / import httpx" in done.stdout
