"""A sandbox on a real loopback socket, with a clock the client's sleeps move forward."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from py302 import AsyncClient, Client, PluginHost
from py302.sandbox import Sandbox

TASK_SECONDS = 6.0


class ManualClock:
    """Time that passes only when someone sleeps: tasks finish without real waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[Sandbox]:
    with Sandbox(task_seconds=TASK_SECONDS, clock=clock) as running:
        yield running


@pytest.fixture
def client(sandbox: Sandbox, clock: ManualClock, host: PluginHost) -> Iterator[Client]:
    with Client(
        api_key="sandbox", base_url=sandbox.base_url, plugins=host, sleep=clock.sleep, timeout=5
    ) as made:
        yield made


@pytest.fixture
def async_client(sandbox: Sandbox, clock: ManualClock, host: PluginHost) -> AsyncClient:
    return AsyncClient(
        api_key="sandbox",
        base_url=sandbox.base_url,
        plugins=host,
        sleep=clock.async_sleep,
        timeout=5,
    )
