"""What the Kling, Stability and Gongji plugins promise, one behaviour per test.

Driven through `httpx.MockTransport`: the example cassettes (test_examples.py) cover
every operation's happy path; these cover the edges each provider is known for.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from py302 import APIStatusError, Result, TaskFailedError, TaskStatus
from py302.contracts import PNG_2X2
from py302.generated.stability import StabilityImage
from tests.core.mock_api import MockAPI

ERASE = "/sd/v2beta/stable-image/edit/erase"
RESULTS = "/sd/v2beta/results/job-1"
REPLACE = "/sd/v2beta/stable-image/edit/replace-background-and-relight"
KLING_SUBMIT = "/klingai/v1/images/generations"
KLING_FETCH = "/klingai/v1/images/generations/kling_cd1fad111e0c"
GONGJI_CREATE = "/gongji/flux-dev/create-task"
GONGJI_QUERY = "/gongji/flux-dev/check-task-status"


def png(headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "image/png", **(headers or {})}, content=PNG_2X2
    )


def png_json(finish_reason: str = "SUCCESS") -> httpx.Response:
    image = base64.b64encode(PNG_2X2).decode()
    return httpx.Response(200, json={"image": image, "finish_reason": finish_reason, "seed": 7})


# -- Stability ---------------------------------------------------------------------------


def accept_recorder(
    seen: list[str], reply: Callable[[], httpx.Response]
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["accept"])
        return reply()

    return handler


def test_stability_bytes_and_json_give_the_same_result() -> None:
    accepts: list[str] = []
    api = MockAPI().on(
        "POST", ERASE, accept_recorder(accepts, png), accept_recorder(accepts, png_json)
    )
    with api.client() as client:
        as_bytes = client.stability.erase(image=PNG_2X2, output="bytes")
        as_json = client.stability.erase(image=PNG_2X2, output="json")
    assert accepts == ["image/*", "application/json"]
    assert [(a.data, a.mime_type) for a in as_bytes.assets] == [(PNG_2X2, "image/png")]
    assert [(a.data, a.mime_type) for a in as_json.assets] == [(PNG_2X2, "image/png")]
    assert as_bytes.data == PNG_2X2
    assert isinstance(as_json.data, StabilityImage)
    assert as_json.data.seed == 7
    request = api.requests[0]
    assert request.headers["content-type"].startswith("multipart/form-data")
    assert b'name="image"' in request.read()


@pytest.mark.parametrize(
    "answer",
    [lambda: png_json("CONTENT_FILTERED"), lambda: png({"finish-reason": "CONTENT_FILTERED"})],
    ids=["json", "bytes"],
)
def test_stability_content_filter_is_an_error_not_an_empty_image(
    answer: Callable[[], httpx.Response],
) -> None:
    api = MockAPI().on("POST", ERASE, lambda request: answer())
    with api.client() as client, pytest.raises(APIStatusError) as caught:
        client.stability.erase(image=PNG_2X2)
    assert caught.value.code == "CONTENT_FILTERED"


def test_stability_async_job_runs_through_202_to_the_image() -> None:
    running = httpx.Response(202, json={"id": "job-1", "status": "in-progress"})
    accepts: list[str] = []
    api = (
        MockAPI()
        .on(
            "POST",
            REPLACE,
            accept_recorder(accepts, lambda: httpx.Response(200, json={"id": "job-1"})),
        )
        .on(
            "GET", RESULTS, accept_recorder(accepts, lambda: running), accept_recorder(accepts, png)
        )
    )
    with api.client() as client:
        task = client.stability.replace_background(
            subject_image=PNG_2X2, background_prompt="a beach"
        )
        assert task.status is TaskStatus.QUEUED
        result = task.wait()
    assert accepts == ["application/json", "image/*", "image/*"]
    assert result.asset.data == PNG_2X2
    assert api.sleeps == [10.0, 10.0], "Stability asks for polls at least 10 s apart"


def test_stability_async_job_filtered_is_a_task_failure() -> None:
    api = (
        MockAPI()
        .on("POST", REPLACE, httpx.Response(200, json={"id": "job-1"}))
        .on("GET", RESULTS, png_json("CONTENT_FILTERED"))
    )
    with api.client() as client:
        task = client.stability.replace_background(subject_image=PNG_2X2, output="json")
        with pytest.raises(TaskFailedError, match="content filter"):
            task.wait()


def test_stability_3d_asks_for_glb_and_keeps_its_type() -> None:
    glb = b"glTF\x02\x00\x00\x00" + b"\x00" * 16
    accepts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        accepts.append(request.headers["accept"])
        return httpx.Response(200, headers={"content-type": "model/gltf-binary"}, content=glb)

    api = MockAPI().on("POST", "/sd/v2beta/3d/stable-fast-3d", handler)
    with api.client() as client:
        result = client.stability.fast_3d(image=PNG_2X2)
    assert accepts == ["model/gltf-binary"]
    assert result.asset.mime_type == "model/gltf-binary"
    assert result.asset.data == glb


# -- Kling -------------------------------------------------------------------------------


def kling(status: str, **data: Any) -> httpx.Response:
    body = {
        "code": 0,
        "message": "SUCCEED",
        "data": {"task_id": "kling_cd1fad111e0c", "task_status": status, **data},
    }
    return httpx.Response(200, json=body)


def test_kling_200_with_error_code_raises_with_klings_message() -> None:
    refused = httpx.Response(
        200, json={"code": 1102, "message": "account balance is insufficient", "request_id": "r-9"}
    )
    api = MockAPI().on("POST", KLING_SUBMIT, refused)
    with api.client() as client, pytest.raises(APIStatusError) as caught:
        client.kling.images_generations(model_name="kling-v2", prompt="a cat")
    assert caught.value.status == 200
    assert caught.value.code == 1102
    assert caught.value.message == "account balance is insufficient"
    assert caught.value.request_id == "r-9"
    assert len(api.requests) == 1


def test_kling_task_polls_to_images() -> None:
    done = kling(
        "succeed",
        task_result={
            "images": [
                {"index": 0, "url": "https://file.302.ai/k0.png"},
                {"index": 1, "url": "https://file.302.ai/k1.png"},
            ]
        },
    )
    api = (
        MockAPI()
        .on("POST", KLING_SUBMIT, kling("submitted"))
        .on("GET", KLING_FETCH, kling("processing"), done)
    )

    async def main() -> Result[Any]:
        async with api.async_client() as client:
            task = await client.kling.images_generations(model_name="kling-v2", prompt="a cat", n=2)
            return await task.wait()

    result = asyncio.run(main())
    assert [asset.url for asset in result.assets] == [
        "https://file.302.ai/k0.png",
        "https://file.302.ai/k1.png",
    ]
    assert api.sleeps == [2.0, 2.0]


def test_kling_failed_task_carries_the_status_message() -> None:
    failed = kling("failed", task_status_msg="image failed the content check")
    api = MockAPI().on("POST", KLING_SUBMIT, kling("submitted")).on("GET", KLING_FETCH, failed)
    with (
        api.client() as client,
        pytest.raises(TaskFailedError, match="image failed the content check"),
    ):
        client.kling.images_generations(model_name="kling-v2", prompt="a cat").wait()


# -- Gongji ------------------------------------------------------------------------------


def gongji(status: str, **extra: Any) -> httpx.Response:
    return httpx.Response(
        200, json={"code": 0, "msg": extra.pop("msg", "ok"), "data": status, **extra}
    )


ACCEPTED = httpx.Response(200, json={"code": 0, "msg": "success", "data": {"taskId": "t-42"}})


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_gongji_task_polls_to_completion(mode: str) -> None:
    done = gongji("SUCCESS", output=["https://file.302.ai/g1.png"])
    api = (
        MockAPI()
        .on("POST", GONGJI_CREATE, ACCEPTED)
        .on("GET", GONGJI_QUERY, gongji("QUEUED"), gongji("RUNNING"), done)
    )
    if mode == "sync":
        with api.client() as client:
            result = client.gongji.create_flux_dev_task(prompt="a fox").wait()
    else:

        async def main() -> Result[Any]:
            async with api.async_client() as client:
                task = await client.gongji.create_flux_dev_task(prompt="a fox")
                return await task.wait()

        result = asyncio.run(main())
    assert result.asset.url == "https://file.302.ai/g1.png"
    assert [r.url.params["taskId"] for r in api.sent(GONGJI_QUERY)] == ["t-42"] * 3


def test_gongji_task_polls_to_failure() -> None:
    api = (
        MockAPI()
        .on("POST", GONGJI_CREATE, ACCEPTED)
        .on("GET", GONGJI_QUERY, gongji("RUNNING"), gongji("FAILED", msg="GPU node lost"))
    )
    with api.client() as client:
        task = client.gongji.create_flux_dev_task(prompt="a fox")
        with pytest.raises(TaskFailedError, match="GPU node lost") as caught:
            task.wait()
    assert caught.value.task_id == "t-42"
    assert task.status is TaskStatus.FAILED
