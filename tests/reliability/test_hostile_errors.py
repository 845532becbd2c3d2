"""Every error that leaves py302 is a py302 error, and says what happened in words.

Hostile answers (a body that does not decode, an HTML error page) and misuse (a
closed client, an unknown operation, a base URL that is no URL) each end in a
`Py302Error` subclass that names the cause.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from py302 import (
    APIConnectionError,
    APIStatusError,
    AsyncClient,
    Client,
    ConfigurationError,
    MalformedResponseError,
    PluginHost,
    Py302Error,
    ResponseShapeError,
    TaskStatus,
)
from tests.reliability.hostile import hostile

KEY = "sk-canary-7f3a9c1e5b2d"


def client(url: str, **options: Any) -> Client:
    return Client(api_key=KEY, base_url=url, plugins=PluginHost(entry_points=False), **options)


def test_a_body_that_does_not_decode_is_a_py302_error() -> None:
    def answer(seen: Any) -> tuple[int, dict[str, str], bytes]:
        headers = {"content-type": "application/json", "content-encoding": "gzip"}
        return 200, headers, b"this is not gzip at all"

    with hostile(answer) as api, client(api.url) as c, pytest.raises(APIConnectionError) as err:
        c.flux.dev(prompt="x")
    assert isinstance(err.value, Py302Error)
    assert "DecodingError" in str(err.value) or "decod" in str(err.value).lower()


def test_a_download_that_does_not_decode_is_a_py302_error() -> None:
    images = b'{"images": [{"url": "%s/file.png"}]}'

    def answer(seen: Any) -> tuple[int, dict[str, str], bytes]:
        if seen.path == "/file.png":
            return 200, {"content-type": "image/png", "content-encoding": "gzip"}, b"garbage"
        return 200, {"content-type": "application/json"}, images % api_url[0].encode()

    api_url: list[str] = []
    with hostile(answer) as api, client(api.url) as c:
        api_url.append(api.url)
        result = c.flux.dev(prompt="x")
        with pytest.raises(Py302Error, match="download"):
            result.asset.read()


def test_an_html_error_page_is_summed_up_by_its_title() -> None:
    page = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>" + b"<p>x</p>" * 500

    def answer(seen: Any) -> tuple[int, dict[str, str], bytes]:
        return 502, {"content-type": "text/html"}, page

    with (
        hostile(answer) as api,
        client(api.url, max_retries=0) as c,
        pytest.raises(APIStatusError) as caught,
    ):
        c.flux.dev(prompt="x")
    assert caught.value.message == "the server answered with an HTML page (502 Bad Gateway)"
    assert "<p>" not in str(caught.value)


def test_a_closed_client_refuses_before_sending() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    c = Client(api_key=KEY, http_client=httpx.Client(transport=httpx.MockTransport(handler)))
    c._http.close()
    with pytest.raises(ConfigurationError, match="closed"):
        c.flux.dev(prompt="x")
    with pytest.raises(ConfigurationError, match="closed"):
        c.resume_task("flux.generate", "t-1")
    assert sent == []


def test_an_unknown_operation_to_resume_is_a_configuration_error() -> None:
    with Client(api_key=KEY) as c, pytest.raises(ConfigurationError, match="nope"):
        c.resume_task("flux.nope", "t-1")


def test_a_base_url_from_the_environment_that_is_no_url_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AI302_BASE_URL", "not a url")
    with pytest.raises(ConfigurationError, match="AI302_BASE_URL"):
        Client(api_key=KEY)
    with pytest.raises(ConfigurationError, match="base_url"):
        AsyncClient(api_key=KEY, base_url="ftp://x")


def test_a_task_status_prints_as_its_word() -> None:
    assert str(TaskStatus.RUNNING) == "running"
    assert f"{TaskStatus.SUCCEEDED}" == "succeeded"


def test_gzip_is_fine_when_it_is_gzip() -> None:
    body = gzip.compress(b'{"images": [{"url": "https://file.302.ai/a.png"}]}')

    def answer(seen: Any) -> tuple[int, dict[str, str], bytes]:
        return 200, {"content-type": "application/json", "content-encoding": "gzip"}, body

    with hostile(answer) as api, client(api.url) as c:
        assert c.flux.dev(prompt="x").asset.url == "https://file.302.ai/a.png"


def test_json_nested_deeper_than_python_reads_is_a_shape_error() -> None:
    depth = 100_000
    body = b"[" * depth + b"]" * depth

    def answer(seen: Any) -> tuple[int, dict[str, str], bytes]:
        return 200, {"content-type": "application/json"}, body

    with hostile(answer) as api, client(api.url) as c, pytest.raises(ResponseShapeError):
        c.flux.dev(prompt="x")


def test_a_server_file_name_longer_than_the_file_system_allows_is_shortened(
    tmp_path: Path,
) -> None:
    long_name = "a" * 300 + ".png"

    def answer(seen: Any) -> tuple[int, dict[str, str], bytes]:
        if seen.path.endswith(".png"):
            return 200, {"content-type": "image/png"}, b"\x89PNG\r\n\x1a\n"
        url = f"{address[0]}/{long_name}"
        return (
            200,
            {"content-type": "application/json"},
            json.dumps({"images": [{"url": url}]}).encode(),
        )

    address: list[str] = []
    with hostile(answer) as api, client(api.url) as c:
        address.append(api.url)
        (saved,) = c.flux.dev(prompt="x").save(tmp_path / "out")
    assert saved.suffix == ".png"
    assert len(saved.name) <= 120
    assert saved.read_bytes().startswith(b"\x89PNG")


def test_one_async_client_serves_several_event_loops(tmp_path: Path) -> None:
    """Pooled connections belong to the loop that opened them; a second asyncio.run()
    must not inherit them (it failed with a raw `Event loop is closed`)."""
    from py302.sandbox import Sandbox

    with Sandbox(task_seconds=0.0) as sandbox:  # keeps connections alive, unlike hostile()
        shared = AsyncClient(
            api_key=KEY, base_url=sandbox.base_url, plugins=PluginHost(entry_points=False)
        )

        async def submit() -> Any:
            await shared.flux.dev(prompt="first loop")
            return await shared.kling.images_generations(model_name="kling-v2", prompt="x")

        async def collect(task: Any) -> list[Path]:
            result = await task.wait(timeout=30)
            saved: list[Path] = await result.asave(tmp_path)
            await shared.aclose()
            return saved

        task = asyncio.run(submit())
        saved = asyncio.run(collect(task))
    assert saved
    assert all(path.stat().st_size > 0 for path in saved)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"images": [{"url": "\xff\xfe"}]}', "not valid UTF-8 (byte 21)"),
        (b'{"images": [', "not valid JSON"),
    ],
)
def test_a_body_that_is_not_the_json_it_claims_says_so(body: bytes, said: str) -> None:
    """It was blamed on a field ("body: expected a JSON object, got str")."""
    with (
        hostile(lambda seen: (200, {"content-type": "application/json"}, body)) as api,
        client(api.url) as c,
        pytest.raises(MalformedResponseError, match=re.escape(said)),
    ):
        c.flux.dev(prompt="x")
