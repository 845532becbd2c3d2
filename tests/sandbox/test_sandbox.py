"""The sandbox answers every operation, runs task lifecycles, and injects faults."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from py302 import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    Client,
    InternalServerError,
    RequestValidationError,
    ResponseShapeError,
    Stream,
    TaskFailedError,
    TaskStatus,
    TaskTimeoutError,
)
from py302.contracts import PNG_2X2, with_sample_files
from py302.sandbox import Fault, Sandbox, parse_fault
from tests.sandbox.conftest import TASK_SECONDS, ManualClock
from tests.support import project_registries

EXAMPLES = Path(__file__).resolve().parent.parent / "cassettes" / "test_examples"
OPERATIONS = sorted((r.provider, op) for r in project_registries() for op in r.operations)


def arguments_for(provider: str, op_id: str) -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / provider / f"{op_id}.yaml").read_text(encoding="utf-8"))
    arguments: dict[str, Any] = data["provenance"]["call"]["arguments"]
    return with_sample_files(arguments)


def poll_target(provider: str, op_id: str) -> str | None:
    """For a poll operation: the submit operation whose task it polls."""
    registry = next(r for r in project_registries() if r.provider == provider)
    return next(
        (s.operation_id for s in registry.operations.values() if s.task and s.task.poll == op_id),
        None,
    )


@pytest.mark.parametrize(("provider", "op_id"), OPERATIONS, ids=[f"{p}.{o}" for p, o in OPERATIONS])
def test_every_operation_answers(provider: str, op_id: str, client: Client, tmp_path: Path) -> None:
    namespace = client.provider(provider)
    submit = poll_target(provider, op_id)
    if submit is not None:  # a poll: give it a real task of the sandbox to report on
        task = getattr(namespace, submit)(**arguments_for(provider, submit))
        result = getattr(namespace, op_id)(**{_id_argument(provider, submit, op_id): task.id})
    else:
        outcome = getattr(namespace, op_id)(**arguments_for(provider, op_id))
        if isinstance(outcome, Stream):  # an operation that always streams
            with outcome:
                result = outcome.result()
        else:
            result = outcome.wait() if hasattr(outcome, "wait") else outcome
    assert result.operation == f"{provider}.{op_id}"
    for path in result.save(tmp_path / op_id):
        assert path.stat().st_size > 0


def _id_argument(provider: str, submit: str, op_id: str) -> str:
    """The keyword of the poll that takes the task id: the one the task names (a body
    field, for a poll that is a POST of `{task_id}`), else its required parameter."""
    registry = next(r for r in project_registries() if r.provider == provider)
    spec = registry.get(op_id)
    named = registry.get(submit).task.id_param  # type: ignore[union-attr]
    return next(
        a.name
        for a in spec.arguments
        if (a.wire == named) or (named is None and a.required and a.location in {"path", "query"})
    )


def test_task_goes_through_its_lifecycle_and_saves_a_real_image(
    client: Client, clock: ManualClock, tmp_path: Path
) -> None:
    seen: list[tuple[TaskStatus, float | None]] = []
    task = client.flux.generate(model="flux-pro-1.1", prompt="a red fox in the snow")
    assert task.status is TaskStatus.QUEUED
    result = task.wait(on_progress=lambda t: seen.append((t.status, t.progress)))
    statuses = [status for status, _ in seen]
    assert statuses[-1] is TaskStatus.SUCCEEDED
    assert set(statuses[:-1]) == {TaskStatus.RUNNING}
    progress = [p for s, p in seen if s is TaskStatus.RUNNING and p is not None]
    assert progress == sorted(progress)
    assert 0 < progress[0] < 1
    assert sum(clock.slept) >= TASK_SECONDS
    (saved,) = result.save(tmp_path)
    assert saved.read_bytes()[:3] == b"\xff\xd8\xff", "a real JPEG, as the URL's extension says"


def test_the_sandbox_rejects_what_the_spec_forbids(sandbox: Sandbox) -> None:
    response = httpx.post(
        f"{sandbox.base_url}/302/submit/flux-dev",
        json={"image_size": {"width": "wide"}},
        headers={"Authorization": "Bearer sandbox"},
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "prompt: is required" in message
    assert "image_size.width" in message
    assert (
        httpx.post(f"{sandbox.base_url}/302/submit/flux-dev", json={"prompt": "x"}).status_code
        == 401
    )


def test_failing_task(client: Client, sandbox: Sandbox) -> None:
    sandbox.faults.add(Fault(kind="task_fails", route="kling.images_generations"))
    with pytest.raises(TaskFailedError) as caught:
        client.kling.images_generations(model_name="kling-v2", prompt="a cat").wait()
    assert caught.value.task_id.startswith("sbx-")


def test_task_that_never_finishes_meets_the_deadline(
    client: Client, sandbox: Sandbox, clock: ManualClock
) -> None:
    sandbox.faults.add(Fault(kind="task_never_finishes", route="gongji.*"))
    task = client.gongji.create_flux_dev_task(prompt="a fox")
    with pytest.raises(TaskTimeoutError):
        task.wait(timeout=120)
    assert 120 <= sum(clock.slept) <= 121
    assert task.status is TaskStatus.RUNNING


def test_rate_limit_with_retry_after_is_waited_out(
    client: Client, sandbox: Sandbox, clock: ManualClock
) -> None:
    sandbox.faults.add(Fault(kind="status", status=429, retry_after=3, times=2, route="flux.dev"))
    result = client.flux.dev(prompt="patience")
    assert result.assets
    assert clock.slept == [3.0, 3.0]
    assert sandbox.state.requests.count("POST /302/submit/flux-dev") == 3


def test_server_error_on_a_submit_is_not_resent(client: Client, sandbox: Sandbox) -> None:
    sandbox.faults.add(Fault(kind="status", status=502, route="flux.dev"))
    with pytest.raises(InternalServerError):
        client.flux.dev(prompt="once only")
    assert sandbox.state.requests.count("POST /302/submit/flux-dev") == 1


@pytest.mark.parametrize("kind", ["reset", "truncate"])
def test_broken_connections_are_connection_errors(
    kind: str, client: Client, sandbox: Sandbox
) -> None:
    sandbox.faults.add(Fault(kind=kind, route="flux.dev"))  # type: ignore[arg-type]
    with pytest.raises(APIConnectionError):
        client.flux.dev(prompt="cut short")
    assert sandbox.state.requests.count("POST /302/submit/flux-dev") == 1


def test_poll_faults_are_retried_because_polls_are_safe(client: Client, sandbox: Sandbox) -> None:
    sandbox.faults.add(Fault(kind="reset", route="flux.get_result", times=1))
    sandbox.faults.add(Fault(kind="status", status=503, route="flux.get_result", times=1))
    result = client.flux.generate(model="flux-dev", prompt="persistent").wait()
    assert result.assets


def test_malformed_and_html_answers(client: Client, sandbox: Sandbox) -> None:
    sandbox.faults.add(Fault(kind="malformed", route="flux.dev", times=1))
    with pytest.raises(ResponseShapeError):
        client.flux.dev(prompt="x")
    sandbox.faults.add(Fault(kind="html", status=502, route="flux.dev", times=1))
    with pytest.raises(InternalServerError, match="Bad Gateway"):
        client.flux.dev(prompt="x")


def test_latency_beyond_the_timeout(sandbox: Sandbox) -> None:
    sandbox.faults.add(Fault(kind="latency", seconds=1.0, route="flux.dev"))
    client = Client(api_key="k", base_url=sandbox.base_url, timeout=0.2, max_retries=0)
    with client, pytest.raises(APITimeoutError):
        client.flux.dev(prompt="slow")


def test_validation_happens_before_the_sandbox_sees_anything(
    client: Client, sandbox: Sandbox
) -> None:
    with pytest.raises(RequestValidationError):
        client.flux.dev(prompt=3)  # type: ignore[arg-type]
    assert sandbox.state.requests == []


def test_async_client_against_the_sandbox(async_client: AsyncClient) -> None:
    async def main() -> str | None:
        async with async_client:
            task = await async_client.stability.upscale_creative(image=PNG_2X2, prompt="sharper")
            result = await task.wait()
            return result.asset.mime_type

    assert asyncio.run(main()) == "image/png"


def test_fault_strings_for_the_command_line() -> None:
    fault = parse_fault("flux.generate:status,status=429,retry_after=1.5,times=2")
    assert (fault.route, fault.kind, fault.status, fault.retry_after, fault.times) == (
        "flux.generate",
        "status",
        429,
        1.5,
        2,
    )
    with pytest.raises(ValueError, match="unknown kind"):
        parse_fault("flux.dev:explode")


def test_served_connections_send_without_nagle_delays(monkeypatch: pytest.MonkeyPatch) -> None:
    """asyncio turns Nagle off only on sockets whose protocol says TCP; a listener made
    with protocol 0 left every keep-alive answer waiting 40 ms for a delayed ACK."""
    import socket

    import uvicorn

    handed: list[socket.socket] = []

    def capture(self: Any, sockets: list[socket.socket] | None = None) -> None:
        handed.extend(sockets or [])

    monkeypatch.setattr(uvicorn.Server, "run", capture)
    Sandbox().serve_forever()
    (listener,) = handed
    try:
        assert listener.proto == socket.IPPROTO_TCP
    finally:
        listener.close()


def test_a_local_file_for_kontext_is_sent_as_base64(
    client: Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    """`input_image` takes base64 or a URL; a path given for it is read and encoded."""
    picture = tmp_path / "cat.png"
    picture.write_bytes(PNG_2X2)
    task = client.flux.generate(
        model="flux-kontext-pro", prompt="make it a painting", input_image=picture
    )
    assert task.wait().assets
    sent = sandbox.state.bodies[0]
    assert base64.b64decode(sent["input_image"]) == PNG_2X2
    with pytest.raises(RequestValidationError, match="input_image: no file at"):
        client.flux.generate(
            model="flux-kontext-pro", prompt="x", input_image=str(tmp_path / "gone.png")
        )
