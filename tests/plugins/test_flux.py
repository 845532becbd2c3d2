"""Flux end to end: the public client against cassettes of the documented examples.

Every test runs once with `Client` and once with `AsyncClient`; the conftest checks
afterwards that each cassette was fully played and that every interaction in it
agrees with specs/flux.yaml.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from py302 import (
    APIStatusError,
    AsyncClient,
    Client,
    PluginHost,
    Result,
    TaskFailedError,
    TaskStatus,
)
from py302.generated.flux import BflResultResponse, SubmitImagesResponse
from tests.support import TEST_KEY, no_sleep, no_sleep_async

MODES = ["sync", "async"]


def run(mode: str, host: PluginHost, scenario: Callable[[Any], Any]) -> Any:
    """Run `scenario(client)` with a sync client, or await it with an async one."""
    if mode == "sync":
        with Client(api_key=TEST_KEY, plugins=host, sleep=no_sleep) as client:
            return scenario(client)

    async def main() -> Any:
        async with AsyncClient(api_key=TEST_KEY, plugins=host, sleep=no_sleep_async) as client:
            value = scenario(client)
            return await value if asyncio.iscoroutine(value) else value

    return asyncio.run(main())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.vcr
@pytest.mark.default_cassette("dev_images_envelope.yaml")
def test_sync_family_images_envelope_downloads(mode: str, host: PluginHost, tmp_path: Path) -> None:
    async def scenario_async(
        client: AsyncClient,
    ) -> tuple[Result[SubmitImagesResponse], list[Path]]:
        result = await client.flux.dev(
            prompt="a lighthouse on a cliff at dawn",
            image_size={"width": 1024, "height": 1024},
            num_inference_steps=28,
            guidance_scale=3.5,
        )
        return result, await result.asave(tmp_path)

    def scenario_sync(client: Client) -> tuple[Result[SubmitImagesResponse], list[Path]]:
        result = client.flux.dev(
            prompt="a lighthouse on a cliff at dawn",
            image_size={"width": 1024, "height": 1024},
            num_inference_steps=28,
            guidance_scale=3.5,
        )
        return result, result.save(tmp_path)

    result, saved = run(mode, host, scenario_sync if mode == "sync" else scenario_async)

    assert isinstance(result.data, SubmitImagesResponse)
    assert result.operation == "flux.dev"
    assert [asset.url for asset in result.assets] == [
        "https://file.302.ai/gpt/imgs/20250312/0a1b2c3d4e5f.png"
    ]
    assert result.asset.mime_type == "image/png"
    assert result.data.seed == 2097151
    assert saved == [tmp_path / "0a1b2c3d4e5f.png"]
    assert saved[0].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not list(tmp_path.glob(".*.part")), "no temporary file is left behind"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.vcr
@pytest.mark.default_cassette("schnell_output_envelope.yaml")
def test_sync_family_generic_envelope_gives_same_result_shape(mode: str, host: PluginHost) -> None:
    result = run(
        mode,
        host,
        lambda client: client.flux.schnell(
            prompt="a paper boat on a puddle",
            image_size={"width": 1024, "height": 1024},
            num_inference_steps=4,
        ),
    )

    assert isinstance(result, Result)
    assert [asset.url for asset in result.assets] == [
        "https://file.302.ai/gpt/imgs/20250312/9f8e7d6c5b4a.png"
    ]
    assert result.data.status == "succeeded"
    assert result.raw["id"] == "2039487711"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.vcr
@pytest.mark.default_cassette("generate_poll_ready.yaml")
def test_submit_then_poll_until_ready(mode: str, host: PluginHost) -> None:
    seen: list[tuple[TaskStatus, float | None]] = []
    body: dict[str, Any] = {
        "prompt": "ein fantastisches bild",
        "width": 1024,
        "height": 768,
        "steps": 40,
        "prompt_upsampling": False,
        "seed": 42,
        "guidance": 2.5,
        "safety_tolerance": 2,
        "interval": 2,
        "output_format": "jpeg",
    }

    def record(task: Any) -> None:
        seen.append((task.status, task.progress))

    def scenario_sync(client: Client) -> tuple[str, Result[BflResultResponse]]:
        task = client.flux.generate(model="flux-pro-1.1", **body)
        assert task.status is TaskStatus.QUEUED
        return task.id, task.wait(timeout=60, on_progress=record)

    async def scenario_async(client: AsyncClient) -> tuple[str, Result[BflResultResponse]]:
        task = await client.flux.generate(model="flux-pro-1.1", **body)
        assert task.status is TaskStatus.QUEUED
        return task.id, await task.wait(timeout=60, on_progress=record)

    task_id, result = run(mode, host, scenario_sync if mode == "sync" else scenario_async)

    assert task_id == "5015d102-09e0-44e9-8ede-ab8c74b16ed6"
    assert seen == [(TaskStatus.RUNNING, 0.4), (TaskStatus.SUCCEEDED, 1.0)]
    assert isinstance(result.data, BflResultResponse)
    assert result.task_id == task_id
    assert result.asset.url is not None
    assert result.asset.url.startswith("https://delivery-us1.bfl.ai/results/")
    assert result.data.result is not None
    assert result.data.result.seed == 42
    assert result.usage is not None
    assert result.usage.cost == 6.0, "the cost reported on the submit ticket is kept"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.vcr
@pytest.mark.default_cassette("generate_moderated.yaml")
def test_moderated_task_is_a_failure_with_its_reason(mode: str, host: PluginHost) -> None:
    def scenario_sync(client: Client) -> Any:
        return client.flux.generate(model="flux-pro-1.1", prompt="ein fantastisches bild").wait()

    async def scenario_async(client: AsyncClient) -> Any:
        task = await client.flux.generate(model="flux-pro-1.1", prompt="ein fantastisches bild")
        return await task.wait()

    with pytest.raises(TaskFailedError) as caught:
        run(mode, host, scenario_sync if mode == "sync" else scenario_async)

    assert caught.value.task_id == "5015d102-09e0-44e9-8ede-ab8c74b16ed6"
    assert "Content Moderated" in str(caught.value)
    assert "Derivative Works Filter" in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.vcr
@pytest.mark.default_cassette("lora_error_envelope.yaml")
def test_http_200_error_envelope_raises(mode: str, host: PluginHost) -> None:
    with pytest.raises(APIStatusError) as caught:
        run(
            mode,
            host,
            lambda client: client.flux.lora(
                prompt="a watercolour fox",
                image_size={"width": 768, "height": 1024},
                num_inference_steps=28,
                guidance_scale=3.5,
                loras=[{"path": "https://example.com/loras/watercolour.safetensors", "scale": 1}],
            ),
        )

    assert caught.value.status == 200
    assert caught.value.provider == "flux"
    assert caught.value.message == "LoRA weights could not be downloaded"
