"""Tasks: waiting, deadlines, unknown states, resuming, refusing what cannot be polled."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from py302 import (
    ConfigurationError,
    PluginHost,
    TaskSnapshot,
    TaskStatus,
    TaskTimeoutError,
    UnsupportedOperationError,
)
from py302._tasks import Poll, Sleep, TaskPattern, wait_steps
from tests.core.mock_api import MockAPI

SUBMIT = "/flux/v1/flux-pro-1.1"
POLL = "/flux/v1/get_result"
TICKET = httpx.Response(
    200, json={"id": "t-1", "polling_url": "https://api.bfl.ai/v1/get_result?id=t-1"}
)


def pending(progress: float | None = None) -> httpx.Response:
    return httpx.Response(200, json={"id": "t-1", "status": "Pending", "progress": progress})


READY = httpx.Response(
    200, json={"id": "t-1", "status": "Ready", "result": {"sample": "https://x/t.jpg"}}
)


class Fixed(TaskPattern):
    name = "fixed"

    def snapshot(self, payload: object, response: httpx.Response | None) -> TaskSnapshot:
        return TaskSnapshot(status=TaskStatus.RUNNING)

    def poll_delay(self, attempt: int, snapshot: TaskSnapshot) -> float:
        return 2.0


def test_wait_steps_alternate_sleep_and_poll_until_finished() -> None:
    steps = wait_steps(
        Fixed(),
        TaskSnapshot(status=TaskStatus.QUEUED),
        timeout=10,
        task_id="t",
        operation="p.op",
        clock=lambda: 0.0,
    )
    assert next(steps) == Sleep(2.0)
    assert steps.send(None) == Poll()
    assert steps.send(TaskSnapshot(status=TaskStatus.RUNNING)) == Sleep(2.0)
    assert steps.send(None) == Poll()
    with pytest.raises(StopIteration) as done:
        steps.send(TaskSnapshot(status=TaskStatus.SUCCEEDED))
    assert done.value.value.status is TaskStatus.SUCCEEDED


def test_wait_steps_reach_the_deadline_with_zero_delay_sleep() -> None:
    """A frozen clock (instant sleeps) still ends: slept time counts towards the deadline."""
    steps = wait_steps(
        Fixed(),
        TaskSnapshot(status=TaskStatus.QUEUED),
        timeout=5,
        task_id="t",
        operation="p.op",
        clock=lambda: 0.0,
    )
    polls = 0

    def drive() -> None:
        nonlocal polls
        step = next(steps)
        while True:
            if isinstance(step, Poll):
                polls += 1
                step = steps.send(TaskSnapshot(status=TaskStatus.RUNNING))
            else:
                step = steps.send(None)

    with pytest.raises(TaskTimeoutError) as caught:
        drive()
    assert polls == 3  # sleeps of 2, 2, then the remaining 1 s
    assert caught.value.task_id == "t"


def test_unknown_status_polls_on_until_the_deadline_then_keeps_the_id() -> None:
    weird = httpx.Response(200, json={"id": "t-1", "status": "Warming Up"})
    api = MockAPI().on("POST", SUBMIT, TICKET).on("GET", POLL, weird)
    with api.client() as client:
        task = client.flux.generate(model="flux-pro-1.1", prompt="x")
        with pytest.raises(TaskTimeoutError) as caught:
            task.wait(timeout=30)
    assert caught.value.task_id == "t-1"
    assert task.snapshot.provider_status == "Warming Up"
    assert task.status is TaskStatus.RUNNING
    assert sum(api.sleeps) == pytest.approx(30)
    assert len(api.sent(SUBMIT)) == 1
    assert 10 <= len(api.sent(POLL)) <= 30


def test_progress_is_reported_and_result_returned() -> None:
    api = MockAPI().on("POST", SUBMIT, TICKET).on("GET", POLL, pending(), pending(40), READY)
    progress: list[float | None] = []
    with api.client() as client:
        task = client.flux.generate(model="flux-pro-1.1", prompt="x")
        result = task.wait(on_progress=lambda t: progress.append(t.progress))
    assert progress == [None, 0.4, 1.0]
    assert result.task_id == "t-1"
    assert result.asset.url == "https://x/t.jpg"
    assert api.sent(POLL)[0].url.params["id"] == "t-1"
    assert task.wait() is result, "waiting again on a finished task sends nothing"
    assert len(api.sent(POLL)) == 3


def test_resume_task_by_id() -> None:
    api = MockAPI().on("GET", POLL, READY)
    with api.client() as client:
        task = client.resume_task("flux.generate", "t-1")
        assert task.status is TaskStatus.SUCCEEDED
        assert task.wait().asset.url == "https://x/t.jpg"
    assert len(api.requests) == 1


def test_cancel_is_refused_when_the_provider_has_none() -> None:
    api = MockAPI().on("POST", SUBMIT, TICKET)
    with api.client() as client:
        task = client.flux.generate(model="flux-pro-1.1", prompt="x")
        with pytest.raises(UnsupportedOperationError):
            task.cancel()


def test_task_without_a_pattern_plugin_is_refused_before_submitting() -> None:
    api = MockAPI().on("POST", SUBMIT, TICKET)
    host = PluginHost(entry_points=False, disabled=["flux"])
    with api.client(host=host) as client, pytest.raises(ConfigurationError, match=r"flux\.bfl"):
        client.flux.generate(model="flux-pro-1.1", prompt="x")
    assert api.requests == []


def test_submit_answer_without_id_keeps_the_body_in_the_error() -> None:
    api = MockAPI().on("POST", SUBMIT, httpx.Response(200, json={"oops": True}))
    with api.client() as client, pytest.raises(Exception, match="no task id") as caught:
        client.flux.generate(model="flux-pro-1.1", prompt="x")
    assert getattr(caught.value, "body", None) == {"oops": True}


def test_async_task_waits_the_same_way() -> None:
    api = MockAPI().on("POST", SUBMIT, TICKET).on("GET", POLL, pending(), READY)

    async def main() -> str | None:
        async with api.async_client() as client:
            task = await client.flux.generate(model="flux-pro-1.1", prompt="x")
            result = await task.wait()
            return result.asset.url

    assert asyncio.run(main()) == "https://x/t.jpg"
    assert len(api.sent(POLL)) == 2


def test_server_poll_hints_are_followed_but_never_spin() -> None:
    hinted = [
        httpx.Response(200, headers={"Retry-After": "4"}, json={"id": "t-1", "status": "Pending"}),
        httpx.Response(200, headers={"Retry-After": "0"}, json={"id": "t-1", "status": "Pending"}),
        httpx.Response(200, headers={"Retry-After": "0"}, json={"id": "t-1", "status": "Pending"}),
    ]
    api = MockAPI().on("POST", SUBMIT, TICKET).on("GET", POLL, *hinted, READY)
    with api.client() as client:
        client.flux.generate(model="flux-pro-1.1", prompt="x").wait()
    assert api.sleeps[1:] == [4.0, 0.1, 0.1], "Retry-After drives the next poll; 0 is floored"
