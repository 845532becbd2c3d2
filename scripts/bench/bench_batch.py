"""Batch runs: items per second of a job through the SQLite and PostgreSQL queues, beside
a bare `AsyncClient` loop doing the same submits, waits and saves with no queue; the
difference per item is what the queue costs."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_common import ROOT


def bench_batch(url: str, items: int, concurrencies: tuple[int, ...]) -> dict[str, Any]:
    """`items` task submits at each concurrency: bare loop, SQLite, PostgreSQL."""
    out: dict[str, Any] = {"items": items}
    postgres = _postgres()
    try:
        for concurrency in concurrencies:
            found: dict[str, Any] = {}
            with tempfile.TemporaryDirectory() as folder:
                base = Path(folder)
                # Warm up: connections, the sandbox's workers, the bindings imported.
                asyncio.run(_bare_loop(url, concurrency, concurrency, base / "warm"))
                bare = asyncio.run(_bare_loop(url, items, concurrency, base / "bare"))
                found["bare_items_per_s"] = items / bare
                queues: dict[str, str | None] = {"sqlite": None}
                if postgres is not None:
                    queues["postgres"] = postgres[1]
                for name, queue in queues.items():
                    seconds = _batch(url, items, concurrency, base / name, queue)
                    found[f"{name}_items_per_s"] = items / seconds
                    found[f"{name}_overhead_ms_per_item"] = (seconds - bare) / items * 1000
            out[str(concurrency)] = found
    finally:
        if postgres is not None:
            postgres[0].__exit__(None, None, None)
    return out


def _job(folder: Path, items: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    job = folder / "bench.jsonl"
    stamp = time.time_ns()
    job.write_text(
        "".join(
            json.dumps(
                {"operation": "flux.kontext_pro", "arguments": {"prompt": f"bench {stamp} {i}"}}
            )
            + "\n"
            for i in range(items)
        )
    )
    return job


def _batch(url: str, items: int, concurrency: int, folder: Path, queue: str | None) -> float:
    from py302 import batch

    job = _job(folder, items)
    started = time.perf_counter()
    summary = batch.run(
        job,
        out=folder / "out",
        queue=queue,
        job=f"bench-{time.time_ns()}",
        api_key="sandbox-local-key",
        base_url=url,
        concurrency=concurrency,
    )
    seconds = time.perf_counter() - started
    if not summary.all_succeeded:
        raise RuntimeError(f"the benchmark job did not complete: {summary.counts}")
    return seconds


async def _bare_loop(url: str, items: int, concurrency: int, folder: Path) -> float:
    """What a user would write without the batch runner: a semaphore and a loop."""
    from py302 import AsyncClient

    folder.mkdir(parents=True)
    gate = asyncio.Semaphore(concurrency)
    started = time.perf_counter()
    async with AsyncClient(api_key="sandbox-local-key", base_url=url, journal=False) as client:

        async def one(index: int) -> None:
            async with gate:
                task = await client.flux.kontext_pro(prompt=f"bare {index}")
                result = await task.wait()
                await result.asave(folder / f"{index:06d}")

        await asyncio.gather(*(one(index) for index in range(items)))
    return time.perf_counter() - started


def _postgres() -> tuple[Any, str] | None:
    """A PostgreSQL server for the run (the tests' own), or None without one."""
    sys.path.insert(0, str(ROOT))
    from tests.batch.conftest import running_postgres

    server = running_postgres(fsync=True)
    try:
        url = server.__enter__()
    except RuntimeError:  # no PostgreSQL installed: the SQLite figures alone
        return None
    return server, url
