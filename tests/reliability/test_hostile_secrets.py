"""A server that echoes the key back cannot make py302 show it.

Some servers quote the credential they refused in their error body. The key must not
reach `str(error)`, `repr(error)`, the error's response (its request headers, its
body) or a pickle of the error, whichever header carried it (Bearer or a plugin's).
"""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from py302 import (
    APIStatusError,
    AsyncClient,
    AuthenticationError,
    Client,
    PluginHost,
)
from tests.reliability.hostile import Seen, header_auth_host, hostile, json_answer

KEY = "sk-canary-7f3a9c1e5b2d4f60"


def echo(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    """A 401 that quotes every header it got, as some gateways do."""
    body = {"error": {"message": f"invalid key in {json.dumps(seen.headers)}", "code": 401}}
    return json_answer(401, json.dumps(body).encode())


def everything_in(error: BaseException) -> Iterator[str]:
    """Every way an error can be shown or kept."""
    yield str(error)
    yield repr(error)
    yield repr(error.args)
    yield pickle.dumps(error).decode("latin-1")
    response = getattr(error, "response", None)
    if response is not None:
        yield repr(response.request.headers.multi_items())
        yield str(response.request.url)
        yield response.text
        yield repr(getattr(error, "body", None))


@pytest.mark.parametrize("plugin_auth", [False, True], ids=["bearer", "x-api-key"])
def test_an_echoed_key_is_hidden_everywhere(plugin_auth: bool) -> None:
    host = header_auth_host("x-api-key") if plugin_auth else PluginHost(entry_points=False)
    with (
        hostile(echo) as api,
        Client(api_key=KEY, base_url=api.url, plugins=host) as c,
        pytest.raises(AuthenticationError) as caught,
    ):
        c.flux.dev(prompt="x")
    assert KEY in json.dumps(api.seen[0].headers)  # the server did get the key ...
    for shown in everything_in(caught.value):
        assert KEY not in shown  # ... and nothing py302 hands out has it
        assert KEY[-12:] not in shown
    assert "[hidden]" in str(caught.value)


def test_an_echoed_key_is_hidden_from_async_errors_too() -> None:
    async def call(url: str) -> None:
        async with AsyncClient(
            api_key=KEY, base_url=url, plugins=PluginHost(entry_points=False)
        ) as c:
            await c.flux.dev(prompt="x")

    with hostile(echo) as api, pytest.raises(APIStatusError) as caught:
        asyncio.run(call(api.url))
    for shown in everything_in(caught.value):
        assert KEY not in shown


def test_an_echoed_key_in_a_stream_error_is_hidden() -> None:
    with (
        hostile(echo) as api,
        Client(api_key=KEY, base_url=api.url, plugins=PluginHost(entry_points=False)) as c,
        pytest.raises(APIStatusError) as caught,
        c.chat.completions.stream(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        ) as stream,
    ):
        list(stream)
    for shown in everything_in(caught.value):
        assert KEY not in shown


def test_a_successful_answer_keeps_its_body_when_it_holds_no_key() -> None:
    body = json.dumps({"images": [{"url": "https://files.test/a.png"}]}).encode()
    with (
        hostile(lambda seen: json_answer(200, body)) as api,
        Client(api_key=KEY, base_url=api.url, plugins=PluginHost(entry_points=False)) as c,
    ):
        result: Any = c.flux.dev(prompt="x")
    assert result.raw == json.loads(body)
