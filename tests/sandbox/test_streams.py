"""Streams over a real loopback socket: the sandbox answers chat whole and as SSE.

The sandbox writes a reply derived from the request into both forms, so a stream's
`Result` must equal the plain call's; its faults cut or stall a stream mid-way; and a
client whose pool holds one connection shows that leaving a loop releases it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from py302 import APITimeoutError, AsyncClient, Client, StreamInterruptedError
from py302.sandbox import Fault, Sandbox

MESSAGES: Any = [{"role": "user", "content": "tell me about lighthouses"}]
REPLY = "Sandbox reply to: tell me about lighthouses"


def test_a_stream_adds_up_to_the_whole_answer(client: Client) -> None:
    whole = client.chat.completions(model="gpt-4o", messages=MESSAGES)
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        texts = list(stream.text_stream)
        streamed = stream.result()
    assert whole.text == REPLY
    assert "".join(texts) == REPLY
    assert len(texts) == len(REPLY.split(" "))  # one event per word, sent one by one
    assert streamed == whole
    assert whole.usage is not None
    assert whole.usage.total_tokens


def test_a_reply_of_a_set_length_streams_as_that_many_chunks() -> None:
    with (
        Sandbox(reply_words=500) as sandbox,
        Client(api_key="sandbox", base_url=sandbox.base_url) as client,
    ):
        whole = client.chat.completions(model="gpt-4o", messages=MESSAGES)
        with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
            texts = list(stream.text_stream)
    assert len(texts) == 500
    assert "".join(texts) == whole.text
    assert whole.text.split(" ")[:5] == ["tell", "me", "about", "lighthouses", "tell"]


def test_the_async_stream_adds_up_to_the_async_whole_answer(async_client: AsyncClient) -> None:
    async def main() -> tuple[Any, Any, list[Any]]:
        async with async_client as client:
            whole = await client.chat.completions(model="gpt-4o", messages=MESSAGES)
            stream = await client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
            async with stream:
                chunks = [chunk async for chunk in stream]
                return whole, await stream.result(), chunks

    whole, streamed, chunks = asyncio.run(main())
    assert streamed == whole
    assert type(chunks[0]).__name__ == "ChatCompletionChunk"


def test_a_stream_cut_by_the_server_raises_and_is_not_resent(
    client: Client, sandbox: Sandbox
) -> None:
    sandbox.faults.add(Fault(kind="stream_cut", route="chat.completions", events=3, times=1))
    stream = client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
    seen: list[Any] = []
    with pytest.raises(StreamInterruptedError, match="after 3 event"):
        seen.extend(stream)
    assert len(seen) == 3
    assert sandbox.state.requests.count("POST /v1/chat/completions") == 1


def test_a_silent_stream_hits_the_idle_timeout(sandbox: Sandbox) -> None:
    sandbox.faults.add(
        Fault(kind="stream_stall", route="chat.completions", events=2, seconds=2.0, times=1)
    )
    with Client(api_key="k", base_url=sandbox.base_url, idle_timeout=0.3) as client:
        stream = client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
        with pytest.raises(APITimeoutError, match="idle_timeout"):
            list(stream)


def one_connection() -> dict[str, Any]:
    """A pool of one connection that gives up waiting for it after half a second."""
    return {
        "limits": httpx.Limits(max_connections=1, max_keepalive_connections=1),
        "timeout": httpx.Timeout(5, pool=0.5),
    }


def test_leaving_a_loop_early_frees_the_only_connection(sandbox: Sandbox) -> None:
    http = httpx.Client(**one_connection())
    with Client(api_key="k", base_url=sandbox.base_url, http_client=http, max_retries=0) as client:
        for _ in client.chat.completions.stream(model="gpt-4o", messages=MESSAGES):
            break
        assert client.chat.completions(model="gpt-4o", messages=MESSAGES).text == REPLY
    http.close()


def test_leaving_an_async_loop_early_frees_the_only_connection(sandbox: Sandbox) -> None:
    async def main() -> str | None:
        http = httpx.AsyncClient(**one_connection())
        client = AsyncClient(
            api_key="k", base_url=sandbox.base_url, http_client=http, max_retries=0
        )
        stream = await client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)
        async for _ in stream:
            break
        result = await client.chat.completions(model="gpt-4o", messages=MESSAGES)
        await http.aclose()
        return result.text

    assert asyncio.run(main()) == REPLY


def _formats(client: Client) -> list[tuple[str, Any, Any]]:
    """(format, the whole answer, the streamed one) of one question in each format."""
    gemini: Any = {
        "model": "gemini-2.5-flash",
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
    }
    claude: Any = {"model": "claude-sonnet-4-20250514", "max_tokens": 256, "messages": MESSAGES}
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as chat_stream:
        chat_streamed = chat_stream.result()
    with client.claude.messages.stream(**claude) as claude_stream:
        claude_streamed = claude_stream.result()
    with client.gemini.stream_generate_content(**gemini) as gemini_stream:
        gemini_streamed = gemini_stream.result()
    return [
        ("openai", client.chat.completions(model="gpt-4o", messages=MESSAGES), chat_streamed),
        ("claude", client.claude.messages(**claude), claude_streamed),
        ("gemini", client.gemini.generate_content(**gemini), gemini_streamed),
    ]


def test_each_format_streams_to_the_result_it_answers_whole(client: Client) -> None:
    for name, whole, streamed in _formats(client):
        assert whole.text, name
        assert (streamed.text, streamed.reasoning) == (whole.text, whole.reasoning), name
        assert streamed.tool_calls == whole.tool_calls, name
        assert streamed.usage == whole.usage, name
        assert whole.usage is not None, name


def test_each_format_streams_tool_calls_to_the_calls_it_answers_whole(client: Client) -> None:
    weather: Any = {"name": "get_weather", "input_schema": {"type": "object"}}
    chat_tool: Any = {"type": "function", "function": {"name": "get_current_weather"}}
    gemini_tool: Any = {"functionDeclarations": [{"name": "get_current_weather"}]}
    claude: Any = {
        "model": "claude-sonnet-4-20250514",
        "max_tokens": 256,
        "messages": MESSAGES,
        "tools": [weather],
    }
    gemini: Any = {
        "model": "gemini-2.5-flash",
        "contents": [{"role": "user", "parts": [{"text": "weather?"}]}],
        "tools": [gemini_tool],
    }
    chat: Any = {"model": "gpt-4o", "messages": MESSAGES, "tools": [chat_tool]}
    with client.chat.completions.stream(**chat) as chat_stream:
        chat_streamed = chat_stream.result()
    with client.claude.messages.stream(**claude) as claude_stream:
        claude_streamed = claude_stream.result()
    with client.gemini.stream_generate_content(**gemini) as gemini_stream:
        gemini_streamed = gemini_stream.result()
    pairs: list[tuple[str, Any, Any]] = [
        ("openai", client.chat.completions(**chat), chat_streamed),
        ("claude", client.claude.messages(**claude), claude_streamed),
        ("gemini", client.gemini.generate_content(**gemini), gemini_streamed),
    ]
    for name, whole, streamed in pairs:
        assert whole.tool_calls, name
        assert streamed.tool_calls == whole.tool_calls, name
        assert streamed.usage == whole.usage, name


def test_streams_read_to_their_end_marker_give_their_connection_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After `[DONE]` the rest of the body (the chunked terminator) is read, so the
    next call reuses the connection instead of opening another one."""
    from py302._deadlines import DeadlineBackend

    connects: list[str] = []
    connect = DeadlineBackend.connect_tcp

    def counted(self: DeadlineBackend, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        connects.append(host)
        return connect(self, host, port, *args, **kwargs)

    monkeypatch.setattr(DeadlineBackend, "connect_tcp", counted)
    with Sandbox() as sandbox, Client(api_key="sandbox", base_url=sandbox.base_url) as client:
        for _ in range(3):
            with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
                assert "".join(stream.text_stream) == REPLY
    assert len(connects) == 1
