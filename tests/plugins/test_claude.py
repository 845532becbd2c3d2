"""The Claude plugin's accumulator: Anthropic's stream events fold into the Message.

Each test feeds the data of one realistic stream (event shapes from Anthropic's
streaming reference) and asserts the exact body the same request answers whole. The
last two drive the public client over `httpx.MockTransport`: an error body and an
`event: error` in the middle of a stream are both raised.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from py302 import APIStatusError, APIStreamError, Client, PluginHost
from py302.plugins import claude
from py302.plugins.claude import MessageAccumulator
from tests.support import TEST_KEY, no_sleep

START: dict[str, Any] = {
    "type": "message_start",
    "message": {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 1},
    },
}
STOP: dict[str, Any] = {"type": "message_stop"}


def fold(*events: dict[str, Any]) -> dict[str, Any]:
    accumulator = MessageAccumulator()
    for event in events:
        accumulator.add(event)
    return accumulator.body()


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index: int, **fields: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": fields}


def block_stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def message_delta(stop_reason: str, **usage: Any) -> dict[str, Any]:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": usage,
    }


def message(content: list[dict[str, Any]], stop_reason: str, **usage: Any) -> dict[str, Any]:
    """The whole answer: START's message with this content, stop reason and usage."""
    return {
        **START["message"],
        "content": content,
        "stop_reason": stop_reason,
        "usage": usage,
    }


def test_text_deltas_join_into_one_text_block() -> None:
    body = fold(
        START,
        block_start(0, {"type": "text", "text": ""}),
        {"type": "ping"},
        delta(0, type="text_delta", text="Hello"),
        delta(0, type="text_delta", text="!"),
        block_stop(0),
        message_delta("end_turn", output_tokens=15),
        STOP,
    )
    assert body == message(
        [{"type": "text", "text": "Hello!"}], "end_turn", input_tokens=25, output_tokens=15
    )


def test_thinking_and_signature_are_appended_before_the_text() -> None:
    body = fold(
        START,
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, type="thinking_delta", thinking="Let me count: "),
        delta(0, type="thinking_delta", thinking="2 and 2 make 4."),
        delta(0, type="signature_delta", signature="EqQBCgIYAhIM"),
        block_stop(0),
        block_start(1, {"type": "text", "text": ""}),
        delta(1, type="text_delta", text="4"),
        block_stop(1),
        message_delta("end_turn", output_tokens=40),
        STOP,
    )
    assert body == message(
        [
            {
                "type": "thinking",
                "thinking": "Let me count: 2 and 2 make 4.",
                "signature": "EqQBCgIYAhIM",
            },
            {"type": "text", "text": "4"},
        ],
        "end_turn",
        input_tokens=25,
        output_tokens=40,
    )


def test_tool_use_input_is_assembled_from_split_json() -> None:
    tool = {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}}
    body = fold(
        START,
        block_start(0, {"type": "text", "text": ""}),
        delta(0, type="text_delta", text="Checking."),
        block_stop(0),
        block_start(1, tool),
        delta(1, type="input_json_delta", partial_json=""),
        delta(1, type="input_json_delta", partial_json='{"location": "San Fra'),
        delta(1, type="input_json_delta", partial_json='ncisco, CA", "unit": "celsius"}'),
        block_stop(1),
        message_delta("tool_use", output_tokens=89),
        STOP,
    )
    assert body == message(
        [
            {"type": "text", "text": "Checking."},
            {**tool, "input": {"location": "San Francisco, CA", "unit": "celsius"}},
        ],
        "tool_use",
        input_tokens=25,
        output_tokens=89,
    )
    assert tool["input"] == {}, "the event's own data is left as it came"


def test_message_delta_usage_merges_into_the_start_usage() -> None:
    start = json.loads(json.dumps(START))
    start["message"]["usage"] = {
        "input_tokens": 17,
        "cache_creation_input_tokens": 313,
        "cache_read_input_tokens": 34,
        "cache_creation": {"ephemeral_5m_input_tokens": 313, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 1,
    }
    body = fold(
        start,
        block_start(0, {"type": "text", "text": ""}),
        delta(0, type="text_delta", text="Hi"),
        block_stop(0),
        # Cumulative counts: null and left-out fields keep what message_start said.
        message_delta("", output_tokens=8, input_tokens=None, cache_read_input_tokens=34),
        STOP,
    )
    assert body == message(
        [{"type": "text", "text": "Hi"}],
        "",
        input_tokens=17,
        cache_creation_input_tokens=313,
        cache_read_input_tokens=34,
        cache_creation={"ephemeral_5m_input_tokens": 313, "ephemeral_1h_input_tokens": 0},
        output_tokens=8,
    )


def test_events_of_unknown_kinds_are_skipped() -> None:
    body = fold(
        START,
        {"type": "message_annotation", "note": "added later"},
        block_start(0, {"type": "text", "text": ""}),
        delta(0, type="text_delta", text="ok"),
        delta(0, type="some_future_delta", payload=1),
        message_delta("end_turn", output_tokens=2),
    )
    assert body == message(
        [{"type": "text", "text": "ok"}], "end_turn", input_tokens=25, output_tokens=2
    )


# ------------------------------------------------------------------ through the client


@pytest.fixture
def claude_host() -> PluginHost:
    return PluginHost(builtins=False, entry_points=False, plugins=[("claude", claude)])


def client_answering(response: httpx.Response, host: PluginHost) -> Client:
    transport = httpx.MockTransport(lambda request: response)
    return Client(
        api_key=TEST_KEY,
        plugins=host,
        sleep=no_sleep,
        http_client=httpx.Client(transport=transport),
    )


def test_an_anthropic_error_body_raises_with_its_type(claude_host: PluginHost) -> None:
    error = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"},
    }
    with (
        client_answering(httpx.Response(400, json=error), claude_host) as client,
        pytest.raises(APIStatusError) as raised,
    ):
        client.claude.messages(model="claude-sonnet-4-5-20250929", max_tokens=8, messages=[])
    assert raised.value.code == "invalid_request_error"
    assert "max_tokens: Field required" in str(raised.value)


def test_an_error_event_mid_stream_raises(claude_host: PluginHost) -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    stream = (
        f"event: message_start\ndata: {json.dumps(START)}\n\n"
        f"event: error\ndata: {json.dumps(error)}\n\n"
    )
    answer = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=stream.encode()
    )
    with (
        client_answering(answer, claude_host) as client,
        pytest.raises(APIStreamError, match="Overloaded"),
        client.claude.messages.stream(
            model="claude-sonnet-4-5-20250929",
            max_tokens=8,
            messages=[{"role": "user", "content": "Hi"}],
        ) as events,
    ):
        list(events)
