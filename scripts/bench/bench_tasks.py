"""Tasks: polls per task against the minimum, and many tasks at once, each size in a
fresh process so its peak memory is its own."""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
from typing import Any

from bench_common import BENCH_KEY, PY


def bench_polling(task_seconds: float) -> dict[str, Any]:
    """Polls each task pattern makes for a task of `task_seconds`, on a clock that moves
    only when the client sleeps, without and with server hints (`Retry-After`)."""
    from py302 import Client, PluginHost
    from py302.sandbox import Sandbox

    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            self.now += seconds

    calls: dict[str, tuple[str, str, dict[str, Any]]] = {
        "flux.bfl": ("flux", "generate", {"model": "flux-dev", "prompt": "x"}),
        "kling.images": ("kling", "images_generations", {"model_name": "kling-v2", "prompt": "x"}),
        "stability.async": ("stability", "upscale_creative", {"image": b"x", "prompt": "x"}),
        "gongji.task": ("gongji", "create_flux_dev_task", {"prompt": "x"}),
        "midjourney.imagine": ("midjourney", "imagine", {"prompt": "x"}),
        "wavespeed.declared": ("wavespeed", "bytedance_seedream_v3", {"prompt": "x"}),
    }
    out: dict[str, Any] = {"task_seconds": task_seconds, "minimum_polls": 1}
    for hints in (False, True):
        clock = Clock()
        with Sandbox(task_seconds=task_seconds, clock=clock, hints=hints) as sandbox:
            client = Client(
                api_key=BENCH_KEY,
                base_url=sandbox.base_url,
                plugins=PluginHost(entry_points=False),
                sleep=clock.sleep,
            )
            with client:
                for pattern, (provider, op, kwargs) in calls.items():
                    sandbox.state.requests.clear()
                    started = clock.now
                    getattr(client.provider(provider), op)(**kwargs).wait()
                    polls = len(sandbox.state.requests) - 1
                    out[f"{pattern}{'+hints' if hints else ''}"] = {
                        "polls": polls,
                        "seconds_to_result": clock.now - started,
                    }
    return out


def bench_concurrency(url: str, sizes: list[int], task_seconds: float) -> dict[str, Any]:
    """`n` tasks submitted at once through one AsyncClient and waited for, each size in
    a process of its own."""
    out: dict[str, Any] = {"task_seconds": task_seconds}
    for n in sizes:
        done = subprocess.run(
            [PY, __file__, url, str(n)], capture_output=True, text=True, check=True
        )
        found = json.loads(done.stdout)
        found["over_one_task"] = found["wall_s"] / task_seconds
        out[str(n)] = found
    return out


def _concurrency_child(url: str, n: int) -> None:
    """Run `n` tasks at once; print the wall time and this process's peak memory."""
    from py302 import AsyncClient, PluginHost

    async def run() -> None:
        async with AsyncClient(
            api_key=BENCH_KEY, base_url=url, plugins=PluginHost(entry_points=False)
        ) as client:

            async def one(i: int) -> None:
                task = await client.flux.generate(model="flux-dev", prompt=f"{i}")
                await task.wait(timeout=300)

            await asyncio.gather(*(one(i) for i in range(n)))

    before = _peak_mib()
    started = time.perf_counter()
    asyncio.run(run())
    wall = time.perf_counter() - started
    print(json.dumps({"wall_s": wall, "peak_rss_mib": _peak_mib(), "rss_before_mib": before}))


def _peak_mib() -> float:
    """This process's peak resident memory. Linux's VmHWM, which starts afresh with the
    program; `ru_maxrss` would carry over the peak of the parent that forked it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    _concurrency_child(sys.argv[1], int(sys.argv[2]))
