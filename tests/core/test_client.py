"""The client's contract, driven through `httpx.MockTransport` (no network, no sleep)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from py302 import (
    AuthenticationError,
    Client,
    ConfigurationError,
    InternalServerError,
    RateLimitError,
    RequestValidationError,
    ResponseShapeError,
)
from py302.generated.flux import SubmitImagesResponse
from tests.core.mock_api import MockAPI, images
from tests.support import TEST_KEY

DEV = "/302/submit/flux-dev"


def test_bad_field_fails_before_sending_and_names_the_field() -> None:
    api = MockAPI().on("POST", DEV, images())
    with api.client() as client, pytest.raises(RequestValidationError) as caught:
        client.flux.dev(prompt="ok", image_size={"width": "wide", "height": 512})

    assert api.requests == []
    assert caught.value.problems == (("image_size.width", "must be of type integer, got 'wide'"),)
    assert "image_size.width" in str(caught.value)
    assert "nothing was sent" in str(caught.value)


def test_missing_required_field_is_named() -> None:
    api = MockAPI().on("POST", DEV, images())
    with api.client() as client, pytest.raises(RequestValidationError) as caught:
        client.flux.dev(prompt="ok", image_size={"width": 512})
    assert ("image_size.height", "is required") in caught.value.problems
    assert api.requests == []


def test_valid_call_sends_json_with_bearer_and_returns_typed_result() -> None:
    api = MockAPI().on("POST", DEV, images())
    with api.client() as client:
        result = client.flux.dev(
            prompt="ok", image_size={"width": 512, "height": 512}, extra_body={"seed": 7}
        )

    (request,) = api.requests
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert (
        request.read()
        == b'{"prompt": "ok", "image_size": {"width": 512, "height": 512}, "seed": 7}'
    )
    assert isinstance(result.data, SubmitImagesResponse)
    assert result.asset.url == "https://file.302.ai/a.png"


def test_key_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    api = MockAPI().on("POST", DEV, lambda r: seen.append(r.headers["authorization"]) or images())  # type: ignore[func-returns-value]
    monkeypatch.setenv("302AI_API_KEY", "from-302ai-var")
    with api.client(api_key=None) as client:
        client.flux.dev(prompt="x")
    monkeypatch.setenv("AI302_API_KEY", "from-ai302-var")
    with api.client(api_key=None) as client:
        client.flux.dev(prompt="x")
    with api.client(api_key="from-argument") as client:
        client.flux.dev(prompt="x")
    assert seen == ["Bearer from-302ai-var", "Bearer from-ai302-var", "Bearer from-argument"]


def test_no_key_is_a_clear_error_before_sending() -> None:
    api = MockAPI().on("POST", DEV, images())
    with (
        api.client(api_key=None) as client,
        pytest.raises(ConfigurationError, match="AI302_API_KEY"),
    ):
        client.flux.dev(prompt="x")
    assert api.requests == []


def test_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI302_BASE_URL", "http://127.0.0.1:8302/")
    api = MockAPI().on("POST", DEV, images())
    with api.client() as client:
        assert client.base_url == "http://127.0.0.1:8302"
        client.flux.dev(prompt="x")
    assert str(api.requests[0].url) == "http://127.0.0.1:8302/302/submit/flux-dev"


def test_key_stays_out_of_reprs_and_errors() -> None:
    secret = "sk-live-canary-7f3a9"
    api = MockAPI().on(
        "POST", DEV, httpx.Response(401, json={"error": {"message": "bad key", "err_code": -10001}})
    )
    with api.client(api_key=secret) as client:
        assert secret not in repr(client)
        assert secret not in repr(client._ctx)
        with pytest.raises(AuthenticationError) as caught:
            client.flux.dev(prompt="x")
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value)
    assert caught.value.code == -10001
    assert caught.value.message == "bad key"


def test_status_error_carries_request_id_and_body() -> None:
    api = MockAPI().on(
        "POST",
        DEV,
        httpx.Response(500, headers={"x-request-id": "req-123"}, json={"message": "upstream died"}),
    )
    with api.client(max_retries=3) as client, pytest.raises(InternalServerError) as caught:
        client.flux.dev(prompt="x")
    assert caught.value.request_id == "req-123"
    assert caught.value.body == {"message": "upstream died"}
    assert caught.value.operation == "flux.dev"
    assert len(api.requests) == 1, "a POST that may have run is never sent twice"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("CF-Ray", "ray-1"), ("X-Request-Id", "req-1")], "req-1"),  # preferred, not first
        ([("cf-ray", "ray-1"), ("X-302-Request-Id", "302-1")], "302-1"),
        ([("x-request-id", ""), ("cf-ray", "ray-1")], "ray-1"),  # an empty one is no id
        ([("server", "uvicorn")], None),
    ],
)
def test_a_result_carries_the_preferred_request_id(
    headers: list[tuple[str, str]], expected: str | None
) -> None:
    answer = images()
    api = MockAPI().on("POST", DEV, httpx.Response(200, headers=headers, content=answer.content))
    with api.client() as client:
        assert client.flux.dev(prompt="x").request_id == expected


def test_rate_limited_submit_is_retried_after_the_servers_delay() -> None:
    limited = httpx.Response(429, headers={"retry-after": "2"}, json={"message": "slow down"})
    api = MockAPI().on("POST", DEV, limited, images())
    with api.client() as client:
        result = client.flux.dev(prompt="x")
    assert len(api.requests) == 2
    assert api.sleeps == [2.0]
    assert result.assets


def test_rate_limit_gives_up_after_max_retries() -> None:
    api = MockAPI().on("POST", DEV, httpx.Response(429, json={"message": "slow down"}))
    with api.client(max_retries=2) as client, pytest.raises(RateLimitError):
        client.flux.dev(prompt="x")
    assert len(api.requests) == 3


def test_connect_errors_are_retried_even_for_posts() -> None:
    refused = httpx.ConnectError("connection refused")
    api = MockAPI().on("POST", DEV, refused, images())
    with api.client() as client:
        client.flux.dev(prompt="x")
    assert len(api.requests) == 2


def test_poll_reads_are_retried_on_5xx() -> None:
    api = MockAPI().on(
        "GET",
        "/flux/v1/get_result",
        httpx.Response(503, json={"message": "busy"}),
        httpx.Response(
            200, json={"id": "t1", "status": "Ready", "result": {"sample": "https://x/y.png"}}
        ),
    )
    with api.client() as client:
        result = client.flux.get_result(id="t1")
    assert len(api.requests) == 2
    assert result.asset.url == "https://x/y.png"


def test_malformed_success_body_is_a_shape_error() -> None:
    api = MockAPI().on("POST", DEV, httpx.Response(200, json={"images": "not-a-list", "seed": "x"}))
    with api.client() as client, pytest.raises(ResponseShapeError) as caught:
        client.flux.dev(prompt="x")
    assert "flux.dev" in str(caught.value)
    assert caught.value.body == {"images": "not-a-list", "seed": "x"}


def test_unknown_fields_are_kept_on_raw() -> None:
    body = {"images": [{"url": "https://file.302.ai/a.png", "brand_new": 1}], "also_new": {"x": 1}}
    api = MockAPI().on("POST", DEV, httpx.Response(200, json=body))
    with api.client() as client:
        result = client.flux.dev(prompt="x")
    assert result.raw == body
    assert result.data.images is not None
    assert result.data.images[0].url == "https://file.302.ai/a.png"


def test_timeout_none_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="hang"):
        Client(api_key="k", timeout=None)  # type: ignore[arg-type]


def test_injected_http_client_is_left_open() -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda r: images()))
    with Client(api_key="k", http_client=http):
        pass
    assert not http.is_closed
    http.close()


def test_async_client_behaves_the_same() -> None:
    api = MockAPI().on("POST", DEV, httpx.Response(429, json={}), images())

    async def main() -> None:
        async with api.async_client() as client:
            result = await client.flux.dev(prompt="x")
            assert result.asset.url == "https://file.302.ai/a.png"
            with pytest.raises(RequestValidationError):
                await client.flux.dev(prompt=1)  # type: ignore[arg-type]

    asyncio.run(main())
    assert len(api.requests) == 2
