"""Tests of the Acme plugin, written as its author would: py302.testing fixtures only.

The cassettes under cassettes/test_acme/ were built by `py302 cassette examples acme`
from the examples in specs/acme.yaml (Acme is made up, so nothing can be recorded);
their `provenance` says so. py302.testing checks every one against the spec after
each test.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from py302 import (
    AsyncClient,
    Client,
    NotFoundError,
    PluginHost,
    Result,
    Task,
    TaskFailedError,
    TaskStatus,
)
from py302.binding import Async, Sync
from py302.sandbox import Fault, Sandbox
from py302.testing import REPLAY_KEY, SimulatedClock, assert_contract, record_cassette

from py302_acme.generated.acme import AcmeOperations, AcmeRender

CASSETTES = Path(__file__).parent / "cassettes" / "test_acme"


def _acme(client: Client) -> AcmeOperations[Sync]:
    return AcmeOperations(client)


def _acme_async(client: AsyncClient) -> AcmeOperations[Async]:
    return AcmeOperations(client)


# -- discovery ---------------------------------------------------------------------------


def test_discovered_through_its_entry_point_only() -> None:
    host = PluginHost(builtins=False)
    provider = host.provider("acme")
    assert provider.plugin == "acme"
    assert provider.bindings == "py302_acme.generated.acme"
    assert host.versions["acme"] == "0.1.0"
    assert host.failures == []
    assert "acme" not in PluginHost(entry_points=False).providers


# -- the sandbox, on a simulated clock -------------------------------------------------


def test_render_runs_through_its_pattern_sync(
    py302_sandbox_client: Client, py302_clock: SimulatedClock, tmp_path: Path
) -> None:
    task = _acme(py302_sandbox_client).render(prompt="a red fox", width=512, height=512)
    seen: list[TaskStatus] = [task.status]
    progress: list[float | None] = []

    def follow(handle: Task[AcmeRender]) -> None:
        seen.append(handle.status)
        progress.append(handle.progress)

    result = task.wait(timeout=600, on_progress=follow)
    assert isinstance(result.data, AcmeRender)
    assert result.data.state == "done"
    assert seen[0] is TaskStatus.QUEUED
    assert TaskStatus.RUNNING in seen
    assert seen[-1] is TaskStatus.SUCCEEDED
    assert 0.4 in progress  # Acme's `percent: 40`, read by the plugin's own pattern
    assert py302_clock() >= 10  # the task "took" its 10 s without the test waiting
    [asset] = result.assets
    assert asset.mime_type == "image/png"
    [saved] = result.save(tmp_path)
    assert saved.read_bytes().startswith(b"\x89PNG")


def test_render_runs_through_its_pattern_async(
    py302_sandbox_async_client: AsyncClient, py302_clock: SimulatedClock
) -> None:
    async def main() -> Result[AcmeRender]:
        async with py302_sandbox_async_client as client:
            task = await _acme_async(client).render(prompt="a red fox")
            return await task.wait(timeout=600)

    result = asyncio.run(main())
    assert result.data.state == "done"
    assert [asset.mime_type for asset in result.assets] == ["image/png"]
    assert py302_clock() >= 10


def test_a_broken_render_fails_with_acmes_message(
    py302_sandbox: Sandbox, py302_sandbox_client: Client
) -> None:
    py302_sandbox.faults.add(Fault(kind="task_fails", route="acme.render"))
    task = _acme(py302_sandbox_client).render(prompt="a red fox")
    with pytest.raises(TaskFailedError) as failed:
        task.wait(timeout=600)
    assert failed.value.task_id == task.id
    assert task.status is TaskStatus.FAILED


def test_acmes_fault_envelope_becomes_a_status_error(
    py302_sandbox: Sandbox, py302_sandbox_client: Client
) -> None:
    py302_sandbox.faults.add(Fault(kind="status", route="acme.get_render", status=404))
    with pytest.raises(NotFoundError) as missing:
        _acme(py302_sandbox_client).get_render(ref="rnd_missing")
    assert missing.value.status == 404
    assert missing.value.code is not None


def test_bad_input_is_refused_before_sending(
    py302_sandbox: Sandbox, py302_sandbox_client: Client
) -> None:
    before = len(py302_sandbox.state.requests)
    with pytest.raises(ValueError, match="width"):
        _acme(py302_sandbox_client).render(prompt="a red fox", width=10)
    assert len(py302_sandbox.state.requests) == before


# -- cassettes ---------------------------------------------------------------------------


def _arguments(name: str) -> dict[str, Any]:
    data = yaml.safe_load((CASSETTES / name).read_text(encoding="utf-8"))
    arguments: dict[str, Any] = data["provenance"]["call"]["arguments"]
    return arguments


@pytest.mark.vcr
def test_render_replays_sync(py302_client: Client) -> None:
    task = _acme(py302_client).render(**_arguments("test_render_replays_sync.yaml"))
    result = task.wait()
    assert result.data.state == "done"
    assert [a.url for a in result.assets] == [
        "https://files.acme.example/renders/rnd_5c1e0a8f2b7d/0.png"
    ]


@pytest.mark.vcr
def test_render_replays_async(py302_async_client: AsyncClient) -> None:
    async def main() -> Result[AcmeRender]:
        arguments = _arguments("test_render_replays_async.yaml")
        async with py302_async_client as client:
            task = await _acme_async(client).render(**arguments)
            return await task.wait()

    result = asyncio.run(main())
    assert result.data.state == "done"
    assert len(result.assets) == 1


@pytest.mark.vcr
def test_get_render_replays_with_assets(py302_client: Client) -> None:
    result = _acme(py302_client).get_render(
        **_arguments("test_get_render_replays_with_assets.yaml")
    )
    assert result.data.state == "done"
    assert result.assets[0].mime_type == "image/png"


def test_the_contract_assertion_catches_a_broken_answer(tmp_path: Path) -> None:
    text = (CASSETTES / "test_get_render_replays_with_assets.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace('"percent": 100', '"percent": "all"'), encoding="utf-8")
    assert_contract(CASSETTES / "test_get_render_replays_with_assets.yaml")
    with pytest.raises(AssertionError, match="percent"):
        assert_contract(broken)


def test_recordings_are_scrubbed(
    py302_sandbox: Sandbox, py302_clock: SimulatedClock, tmp_path: Path
) -> None:
    key = "acme-secret-key-0123456789"
    cassette = tmp_path / "recorded.yaml"
    with (
        Client(api_key=key, base_url=py302_sandbox.base_url, sleep=py302_clock.advance) as client,
        record_cassette(cassette, secrets=[key]),
    ):
        _acme(client).render(prompt="a red fox").wait(timeout=600)
    text = cassette.read_text(encoding="utf-8")
    assert key not in text
    assert "authorization" not in text.lower()
    assert yaml.safe_load(text)["provenance"]["recorded"] is True
    assert REPLAY_KEY not in text
