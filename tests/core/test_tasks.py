"""Tasks: waiting, deadlines, unknown states, resuming, refusing what cannot be polled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from py302 import (
    Client,
    ConfigurationError,
    PluginHost,
    Provider,
    TaskFailedError,
    TaskSnapshot,
    TaskStatus,
    TaskTimeoutError,
    UnsupportedOperationError,
    hookimpl,
)
from py302._steps import Send, Sleep
from py302._task_flows import wait_flow
from py302._task_state import TaskState
from py302._tasks import TaskPattern
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


def _fixed_state(client: Client) -> TaskState:
    """A flux task whose pattern always answers RUNNING, polled every 2 s."""
    registry = client._ctx.registry_of("flux")
    spec = registry.get("generate")
    assert spec.task is not None
    return TaskState(
        id="t",
        spec=spec,
        registry=registry,
        pattern=Fixed(),
        result_model=object,
    )


def test_wait_flow_alternates_sleep_and_poll_until_finished() -> None:
    """The flow yields its I/O as data: sleep, send the poll, sleep, send ... done."""
    with Client(api_key="k", base_url="http://api.test") as client:
        state = _fixed_state(client)
        steps = wait_flow(client._ctx, state, timeout=10)
        assert next(steps) == Sleep(2.0)
        send = steps.send(None)
        assert isinstance(send, Send)
        assert send.request.url.path == POLL
        assert send.request.url.params["id"] == "t"
        assert steps.send(httpx.Response(200, json={"status": "x"})) == Sleep(2.0)
        state.pattern = Done()
        steps.send(None)
        with pytest.raises(TaskFailedError):  # Done maps every answer to FAILED
            steps.send(httpx.Response(200, json={"status": "x"}))


def test_wait_flow_reaches_the_deadline_with_zero_delay_sleep() -> None:
    """A frozen clock (instant sleeps) still ends: slept time counts towards the deadline."""
    with Client(api_key="k", base_url="http://api.test") as client:
        client._ctx.clock = lambda: 0.0
        steps = wait_flow(client._ctx, _fixed_state(client), timeout=5)
        polls = 0

        def drive() -> None:
            nonlocal polls
            outcome: object = None
            while True:
                step = steps.send(outcome)
                polls += isinstance(step, Send)
                outcome = httpx.Response(200, json={}) if isinstance(step, Send) else None

        with pytest.raises(TaskTimeoutError) as caught:
            drive()
    assert polls == 3  # sleeps of 2, 2, then the remaining 1 s
    assert caught.value.task_id == "t"


class Done(TaskPattern):
    name = "done"

    def snapshot(self, payload: object, response: httpx.Response | None) -> TaskSnapshot:
        return TaskSnapshot(status=TaskStatus.FAILED, message="over")


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

    class FluxWithoutPatterns:
        @hookimpl
        def py302_register_providers(self, register: Callable[[Provider], None]) -> None:
            register(Provider(name="flux", bindings="py302.generated.flux"))

    plugins = [("bare", FluxWithoutPatterns())]
    host = PluginHost(entry_points=False, disabled=["flux"], plugins=plugins)
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
