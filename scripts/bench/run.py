"""py302 benchmarks: every figure a median of repeated runs, every comparison a ratio
measured in the same run, so the numbers hold on a noisy machine.

    python scripts/bench/run.py                # full sizes, table + scripts/bench/results.json
    python scripts/bench/run.py --quick        # tiny sizes (what the smoke test runs)

Sections: import time and a first call; per-call overhead against raw httpx (a small
JSON call, a binary answer, a multipart upload; sync and async); chat whole and
streamed against httpx and the official openai and anthropic clients, and a long
stream's throughput; polls per task; concurrent tasks with peak memory; batch jobs
through the SQLite and PostgreSQL queues beside a bare loop; saving a large file;
code generation beside datamodel-code-generator and openapi-python-client.
The end is a table of each target, the figure and whether it was met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_batch import bench_batch
from bench_calls import bench_calls, bench_import
from bench_chat import bench_chat, bench_stream_throughput
from bench_common import sandbox_process
from bench_files import bench_codegen, bench_download
from bench_tasks import bench_concurrency, bench_polling

#: (figure, where it is in the results, the test it must pass, the target in words)
Target = tuple[str, tuple[str, ...], Callable[[float], bool], str]
TARGETS: list[Target] = [
    (
        "import py302 + Client / import httpx",
        ("import", "py302_client_over_httpx"),
        lambda v: v <= 1.5,
        "<= 1.5",
    ),
    *[
        (
            f"{mode} {kind} call overhead vs httpx",
            ("calls", f"{mode}_{kind}_overhead"),
            lambda v: v <= 0.10,
            "<= +10 %",
        )
        for mode in ("sync", "async")
        for kind in ("json", "binary", "multipart")
    ],
    *[
        (
            f"{fmt} stream first chunk / httpx",
            ("chat", f"{fmt}_format", "stream_first_chunk_py302_over_httpx"),
            lambda v: v <= 1.10,
            "<= 1.10",
        )
        for fmt in ("openai", "claude")
    ],
    (
        "long stream speed / openai client",
        ("stream_throughput", "openai_format", "py302_speed_over_openai"),
        lambda v: v >= 1.0,
        ">= 1.0",
    ),
    (
        "long stream speed / anthropic client",
        ("stream_throughput", "claude_format", "py302_speed_over_anthropic"),
        lambda v: v >= 1.0,
        ">= 1.0",
    ),
    (
        "1,000 concurrent 2 s tasks (s)",
        ("concurrency", "1000", "wall_s"),
        lambda v: v <= 4.4,
        "<= 4.4",
    ),
    (
        "1,000 concurrent tasks peak RSS (MiB)",
        ("concurrency", "1000", "peak_rss_mib"),
        lambda v: v < 300,
        "< 300",
    ),
    (
        "polls per task with Retry-After (flux)",
        ("polling", "flux.bfl+hints", "polls"),
        lambda v: v == 1,
        "== 1",
    ),
    ("codegen, all fragments (s)", ("codegen", "py302_full_s"), lambda v: v < 30, "< 30"),
    (
        "codegen / openapi-python-client",
        ("codegen", "py302_over_openapi_python_client"),
        lambda v: v < 1.0,
        "< 1.0",
    ),
    ("codegen no-op (s)", ("codegen", "py302_noop_s"), lambda v: v < 1.0, "< 1.0"),
]


def target_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its figure from `results` and whether it was met (None when
    the figure was not measured: a comparison tool missing)."""
    rows = []
    for name, path, test, wanted in TARGETS:
        value: Any = results
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        met = test(value) if isinstance(value, int | float) else None
        rows.append({"figure": name, "value": value, "target": wanted, "met": met})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The target rows as aligned text."""
    lines = [f"{'figure':44} {'value':>10}  {'target':10} met"]
    for row in rows:
        value = row["value"]
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        met = {True: "yes", False: "NO", None: "not measured"}[row["met"]]
        lines.append(f"{row['figure']:44} {shown:>10}  {row['target']:10} {met}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()
    quick = args.quick
    results: dict[str, Any] = {
        "quick": quick,
        "python": sys.version.split()[0],
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
    }
    image_px = "64" if quick else "1300"
    with sandbox_process("--task-seconds", "2", "--image-px", image_px) as url:
        results["import"] = bench_import(3 if quick else 15, url)
        results["calls"] = bench_calls(url, 5 if quick else 300)
        results["chat"] = bench_chat(url, 3 if quick else 100)
        results["download"] = bench_download(url, 1 if quick else 100)
    chunks = 200 if quick else 10_000
    with sandbox_process("--reply-words", str(chunks)) as url:
        results["stream_throughput"] = bench_stream_throughput(url, 2 if quick else 7, chunks)
    workers = ("--workers", "1" if quick else "2")
    with sandbox_process("--task-seconds", "2", "--image-px", "64", *workers) as url:
        results["concurrency"] = bench_concurrency(url, [5] if quick else [100, 1000], 2.0)
    with sandbox_process("--task-seconds", "0.2", "--image-px", "64", *workers) as url:
        sizes = (40, (10,)) if quick else (10_000, (50, 200))
        results["batch"] = bench_batch(url, *sizes)
    results["polling"] = bench_polling(7.3)
    results["codegen"] = bench_codegen()
    results["targets"] = target_rows(results)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1))
    print()
    print(table(results["targets"]))


if __name__ == "__main__":
    main()
