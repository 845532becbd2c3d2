"""Many tasks at once through one AsyncClient, and one Client shared by threads."""

from __future__ import annotations

import asyncio
import resource
import threading
import time
from collections.abc import Iterator

import pytest

from py302 import AsyncClient, Client, PluginHost
from py302._constants import DEFAULT_MAX_CONNECTIONS
from tests.support import start_sandbox_process

TASKS = 1000


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    server, url = start_sandbox_process("--task-seconds", "1")
    yield url
    server.terminate()
    server.wait(timeout=10)


def test_a_thousand_concurrent_tasks_through_one_async_client(sandbox_url: str) -> None:
    pools: list[int] = []

    async def one(client: AsyncClient, index: int) -> int:
        task = await client.flux.generate(model="flux-dev", prompt=f"task {index}")
        result = await task.wait(timeout=120)
        pools.append(client._http._transport.connection_count())  # type: ignore[attr-defined]
        return len(result.assets)

    async def main() -> list[int]:
        async with AsyncClient(
            api_key="k", base_url=sandbox_url, plugins=PluginHost(entry_points=False)
        ) as client:
            return await asyncio.gather(*(one(client, i) for i in range(TASKS)))

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    assets = asyncio.run(main())
    elapsed = time.monotonic() - started
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024

    assert assets == [1] * TASKS
    assert max(pools) <= DEFAULT_MAX_CONNECTIONS, "connections stay bounded"
    assert grown_mib < 300, f"peak memory grew by {grown_mib:.0f} MiB"
    assert elapsed < 90


def test_one_client_shared_by_threads(sandbox_url: str) -> None:
    errors: list[BaseException] = []
    results: list[int] = []
    lock = threading.Lock()

    def work(client: Client, worker: int) -> None:
        try:
            for call in range(3):
                result = client.flux.dev(prompt=f"thread {worker} call {call}")
                task = client.gongji.create_flux_dev_task(prompt="fox")
                finished = task.wait(timeout=60)
                with lock:
                    results.append(len(result.assets) + len(finished.assets))
        except BaseException as exc:
            errors.append(exc)

    with Client(
        api_key="k", base_url=sandbox_url, plugins=PluginHost(entry_points=False)
    ) as client:
        threads = [threading.Thread(target=work, args=(client, n)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert errors == []
    assert results == [2] * 24
