"""Run by `test_long_lived_client.py` in a process of its own: one AsyncClient makes
CALLS calls and STREAMS streams against the sandbox at URL, and prints its resident
memory after a warm-up and after each tenth of the work (KiB, from /proc)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from py302 import AsyncClient, PluginHost

MESSAGES: Any = [{"role": "user", "content": "a short answer"}]


def resident_kib() -> int:
    """This process's resident memory now (not its peak)."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1])


async def main(url: str, calls: int, streams: int, warm_up: int) -> None:
    async with AsyncClient(
        api_key="sk-long-lived-0123456789abcdef",
        base_url=url,
        plugins=PluginHost(entry_points=False),
    ) as client:
        gate = asyncio.Semaphore(64)

        async def call(n: int) -> None:
            async with gate:
                result = await client.flux.dev(prompt=f"lighthouse {n}")
                assert result.assets

        async def stream() -> None:
            async with gate:
                opened = await client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
                async with opened:
                    text = "".join([piece async for piece in opened.text_stream])
                assert text

        async def batch(n_calls: int, n_streams: int) -> None:
            await asyncio.gather(
                *(call(n) for n in range(n_calls)), *(stream() for _ in range(n_streams))
            )

        await batch(warm_up, warm_up // 10)
        samples = [resident_kib()]
        for _ in range(10):
            await batch(calls // 10, streams // 10)
            samples.append(resident_kib())
        print(json.dumps(samples))


if __name__ == "__main__":
    url, calls, streams, warm_up = sys.argv[1], *map(int, sys.argv[2:5])
    asyncio.run(main(url, calls, streams, warm_up))
