"""Streams: the OpenAI-format chat call, whole and streamed, against a mock server.

The streamed answer is the spec's own example stream, and the whole answer its JSON
example: they describe the same completion, so the stream's `Result` must equal the
plain call's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from py302 import (
    APIStreamError,
    APITimeoutError,
    AsyncClient,
    Client,
    ConfigurationError,
    PluginHost,
    Provider,
    StreamInterruptedError,
    hookimpl,
)
from py302._registry import load_registry
from tests.core.mock_api import MockAPI

PATH = "/v1/chat/completions"
MESSAGES: Any = [
    {"role": "user", "content": "Hello"}
]  # list is invariant: a literal inline types fine


def _examples() -> tuple[dict[str, Any], bytes]:
    spec = load_registry("py302.generated.chat").get("completions")
    media = spec.responses["200"]["media_types"]
    return media["application/json"]["example"], media["text/event-stream"]["example"].encode()


WHOLE, STREAM = _examples()
EVENTS = [block + b"\n\n" for block in STREAM.split(b"\n\n") if block.strip()]


class ChunkedBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent in pieces; it may stop early or fail after some of them."""

    def __init__(self, chunks: list[bytes], fail: Exception | None = None) -> None:
        self.chunks = chunks
        self.fail = fail
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.fail is not None:
            raise self.fail

    async def __aiter__(self) -> Any:
        for chunk in self.chunks:
            yield chunk
        if self.fail is not None:
            raise self.fail

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def sse(body: ChunkedBody) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)


def answer(request: httpx.Request) -> httpx.Response:
    asked = json.loads(request.content)
    if asked.get("stream"):
        return sse(ChunkedBody(EVENTS))
    return httpx.Response(200, json=WHOLE)


def sync_client(handler: Any, **options: Any) -> Client:
    return MockAPI().on("POST", PATH, handler).client(**options)


def async_client(handler: Any, **options: Any) -> AsyncClient:
    return MockAPI().on("POST", PATH, handler).async_client(**options)


def test_plain_call_returns_text_and_usage() -> None:
    with sync_client(answer) as client:
        result = client.chat.completions(model="gpt-4o", messages=MESSAGES)
    assert result.text == WHOLE["choices"][0]["message"]["content"]
    assert result.usage is not None
    assert result.usage.total_tokens == WHOLE["usage"]["total_tokens"]
    assert result.data.choices[0].message.content == result.text


def test_stream_yields_typed_chunks_and_adds_up_to_the_plain_result() -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return answer(request)

    with sync_client(handler) as client:
        whole = client.chat.completions(model="gpt-4o", messages=MESSAGES)
        with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
            chunks = list(stream)
            streamed = stream.result()
    assert [body.get("stream") for body in sent] == [None, True]
    assert type(chunks[0]).__name__ == "ChatCompletionChunk"
    text = "".join(
        c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].delta
    )
    assert text == whole.text
    assert streamed == whole


def test_text_stream_gives_the_deltas() -> None:
    with sync_client(answer) as client:
        stream = client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
        assert "".join(stream.text_stream) == WHOLE["choices"][0]["message"]["content"]


def test_async_stream_adds_up_to_the_async_plain_result() -> None:
    async def main() -> tuple[Any, Any, list[Any]]:
        async with async_client(answer) as client:
            whole = await client.chat.completions(model="gpt-4o", messages=MESSAGES)
            stream = await client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
            async with stream:
                chunks = [chunk async for chunk in stream]
                return whole, await stream.result(), chunks

    whole, streamed, chunks = asyncio.run(main())
    assert streamed == whole
    assert len(chunks) == len(EVENTS) - 1  # every event but [DONE]


def test_a_stream_cut_after_some_events_raises_and_is_not_resent() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        cut = httpx.RemoteProtocolError("peer closed connection without sending complete body")
        return sse(ChunkedBody(EVENTS[:3], fail=cut))

    with sync_client(handler, max_retries=3) as client:
        stream = client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
        seen: list[Any] = []
        with pytest.raises(StreamInterruptedError, match="after 3 event"):
            seen.extend(stream)
    assert len(seen) == 3
    assert len(calls) == 1


def test_a_stream_that_ends_without_its_end_marker_is_incomplete() -> None:
    with sync_client(lambda request: sse(ChunkedBody(EVENTS[:-1]))) as client:
        stream = client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
        with pytest.raises(StreamInterruptedError, match=r"\[DONE\]"):
            stream.result()


def test_a_failure_before_the_first_event_is_retried_per_policy() -> None:
    replies: list[httpx.Response | Exception] = [
        httpx.ConnectError("refused"),
        httpx.Response(429, json={}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if replies:
            reply = replies.pop(0)
            if isinstance(reply, Exception):
                raise reply
            return reply
        return sse(ChunkedBody(EVENTS))

    with sync_client(handler) as client:
        stream = client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
        assert stream.result().text == WHOLE["choices"][0]["message"]["content"]
    assert replies == []


def test_a_server_error_before_the_first_event_is_not_resent_for_a_post() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500, json={"error": {"message": "upstream down"}})

    with sync_client(handler) as client, pytest.raises(Exception, match="upstream down"):
        client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
    assert len(calls) == 1


def test_an_error_event_mid_stream_is_a_py302_error() -> None:
    error = b'data: {"error": {"message": "quota exhausted", "code": "insufficient_quota"}}\n\n'
    with sync_client(lambda request: sse(ChunkedBody([*EVENTS[:2], error]))) as client:
        stream = client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
        with pytest.raises(APIStreamError, match="quota exhausted") as caught:
            list(stream)
    assert caught.value.code == "insufficient_quota"


def test_a_named_error_event_is_a_py302_error() -> None:
    error = b"event: error\ndata: overloaded\n\n"
    with sync_client(lambda request: sse(ChunkedBody([EVENTS[0], error]))) as client:
        stream = client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
        with pytest.raises(APIStreamError, match="overloaded"):
            list(stream)


def test_a_silent_stream_hits_the_idle_timeout_while_iterating() -> None:
    silence = httpx.ReadTimeout("no data")
    with sync_client(lambda request: sse(ChunkedBody(EVENTS[:1], fail=silence))) as client:
        stream = client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
        with pytest.raises(APITimeoutError, match="idle_timeout"):
            list(stream)


def test_the_idle_timeout_is_the_read_timeout_of_the_stream_request() -> None:
    seen: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return sse(ChunkedBody(EVENTS))

    with sync_client(handler, idle_timeout=7.5) as client:
        client.chat.completions.stream(model="gpt-4o", messages=MESSAGES).result()
    assert seen[0]["read"] == 7.5


def test_leaving_a_loop_early_closes_the_response() -> None:
    bodies: list[ChunkedBody] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(ChunkedBody(EVENTS))
        return sse(bodies[-1])

    with sync_client(handler) as client:
        stream = client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
        for _ in stream:
            break
        assert bodies[0].closed
        with pytest.raises(StreamInterruptedError, match="closed before its end"):
            stream.result()


def test_an_accumulator_nobody_supplies_is_refused_before_sending() -> None:
    class ChatWithoutAccumulator:
        @hookimpl
        def py302_register_providers(self, register: Callable[[Provider], None]) -> None:
            register(Provider(name="chat", bindings="py302.generated.chat"))

    plugins = [("bare_chat", ChatWithoutAccumulator())]
    host = PluginHost(entry_points=False, disabled=["chat"], plugins=plugins)
    api = MockAPI().on("POST", PATH, answer)
    with api.client(host=host) as client, pytest.raises(ConfigurationError, match=r"openai\.chat"):
        client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
    assert api.requests == []
