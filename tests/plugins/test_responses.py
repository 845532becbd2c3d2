"""The Responses plugin's accumulator, and what specs/responses.yaml reads from answers.

The first tests feed the data of realistic streams (event shapes from OpenAI's
Responses streaming reference) to the accumulator and assert the exact body it folds
them into: the last terminal event's response when one came, else the latest snapshot
with the output rebuilt from the events. The others drive the public client over
`httpx.MockTransport`: the declared result paths (two filters in a row for the text),
`error: null` in a successful answer, a failed response, a stream cut short and an
`event: error`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from py302 import APIStatusError, APIStreamError, Client, PluginHost
from py302.plugins import responses
from py302.plugins.responses import ResponsesAccumulator
from tests.support import TEST_KEY, no_sleep

MESSAGE_ID = "msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654"

#: The response as response.created / response.in_progress announce it.
SNAPSHOT: dict[str, Any] = {
    "id": "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654",
    "object": "response",
    "created_at": 1741290958,
    "status": "in_progress",
    "error": None,
    "incomplete_details": None,
    "instructions": "You are a helpful assistant.",
    "model": "gpt-5.4",
    "output": [],
    "usage": None,
}
DONE_MESSAGE: dict[str, Any] = {
    "id": MESSAGE_ID,
    "type": "message",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "output_text", "text": "Hi there!", "annotations": []}],
}
COMPLETED: dict[str, Any] = {
    **SNAPSHOT,
    "status": "completed",
    "output": [DONE_MESSAGE],
    "usage": {
        "input_tokens": 37,
        "output_tokens": 11,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 48,
    },
}


def fold(*events: dict[str, Any]) -> dict[str, Any]:
    accumulator = ResponsesAccumulator()
    for number, event in enumerate(events):
        accumulator.add({**event, "sequence_number": number})
    return accumulator.body()


def state(kind: str, response: dict[str, Any]) -> dict[str, Any]:
    return {"type": f"response.{kind}", "response": response}


def item_event(kind: str, index: int, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": f"response.output_item.{kind}", "output_index": index, "item": item}


def text_delta(piece: str, *, index: int = 0, item_id: str = MESSAGE_ID) -> dict[str, Any]:
    return {
        "type": "response.output_text.delta",
        "item_id": item_id,
        "output_index": index,
        "content_index": 0,
        "delta": piece,
    }


def opening() -> list[dict[str, Any]]:
    """created, in_progress, the message announced, its text part begun."""
    return [
        state("created", SNAPSHOT),
        state("in_progress", SNAPSHOT),
        item_event(
            "added",
            0,
            {
                "id": MESSAGE_ID,
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            },
        ),
        {
            "type": "response.content_part.added",
            "item_id": MESSAGE_ID,
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
    ]


# ------------------------------------------------------------------ the accumulator


def test_the_completed_event_wins() -> None:
    body = fold(
        *opening(),
        text_delta("Hi"),
        text_delta(" there!"),
        {
            "type": "response.output_text.done",
            "item_id": MESSAGE_ID,
            "output_index": 0,
            "content_index": 0,
            "text": "Hi there!",
        },
        item_event("done", 0, DONE_MESSAGE),
        state("completed", COMPLETED),
    )
    assert body == COMPLETED


def test_a_stream_cut_before_completion_still_yields_its_text() -> None:
    body = fold(*opening(), text_delta("Hi"), text_delta(" the"))
    assert body == {
        **SNAPSHOT,
        "output": [
            {
                "id": MESSAGE_ID,
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Hi the", "annotations": []}],
            }
        ],
    }


def test_a_done_item_replaces_what_its_deltas_built() -> None:
    body = fold(*opening(), text_delta("Hi"), item_event("done", 0, DONE_MESSAGE))
    assert body == {**SNAPSHOT, "output": [DONE_MESSAGE]}


def test_reasoning_summaries_and_function_arguments_are_joined() -> None:
    body = fold(
        state("in_progress", SNAPSHOT),
        item_event("added", 0, {"id": "rs_1", "type": "reasoning", "summary": []}),
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "delta": "**Checking the weather**",
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "delta": " in Boston.",
        },
        item_event(
            "added",
            1,
            {
                "id": "fc_1",
                "type": "function_call",
                "status": "in_progress",
                "arguments": "",
                "call_id": "call_1",
                "name": "get_weather",
            },
        ),
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 1,
            "delta": '{"location":',
        },
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_1",
            "output_index": 1,
            "delta": '"Boston, MA"}',
        },
    )
    assert body == {
        **SNAPSHOT,
        "output": [
            {
                "id": "rs_1",
                "type": "reasoning",
                "summary": [
                    {"type": "summary_text", "text": "**Checking the weather** in Boston."}
                ],
            },
            {
                "id": "fc_1",
                "type": "function_call",
                "status": "in_progress",
                "arguments": '{"location":"Boston, MA"}',
                "call_id": "call_1",
                "name": "get_weather",
            },
        ],
    }


def test_deltas_without_an_announced_item_begin_one() -> None:
    body = fold(text_delta("Hel", index=2), text_delta("lo", index=2))
    assert body == {
        "object": "response",
        "output": [
            {
                "type": "message",
                "id": MESSAGE_ID,
                "role": "assistant",
                "content": [{"type": "output_text", "annotations": [], "text": "Hello"}],
            }
        ],
    }


def test_the_last_terminal_event_wins_even_when_failed() -> None:
    failed = {
        **SNAPSHOT,
        "status": "failed",
        "error": {"code": "server_error", "message": "The model failed to respond."},
    }
    assert fold(*opening(), text_delta("Hi"), state("failed", failed)) == failed


def test_a_terminal_response_without_output_gets_the_rebuilt_items() -> None:
    stripped = {"id": SNAPSHOT["id"], "status": "completed"}
    body = fold(
        *opening(),
        text_delta("Hi"),
        item_event("done", 0, DONE_MESSAGE),
        state("completed", stripped),
    )
    assert body == {**stripped, "output": [DONE_MESSAGE]}


def test_events_of_unknown_types_and_non_objects_are_skipped() -> None:
    body = fold(
        state("in_progress", SNAPSHOT),
        {"type": "response.web_search_call.searching", "output_index": 0, "item_id": "ws_1"},
        {"type": "response.output_text.annotation.added", "output_index": 0},
    )
    accumulator = ResponsesAccumulator()
    accumulator.add("not an event")
    assert body == SNAPSHOT
    assert accumulator.body() == {"object": "response", "output": []}


def test_the_events_are_not_changed_by_folding() -> None:
    events = [*opening(), text_delta("Hi"), item_event("done", 0, DONE_MESSAGE)]
    before = copy.deepcopy(events)
    accumulator = ResponsesAccumulator()
    for event in events:
        accumulator.add(event)
    accumulator.body()["output"][0]["content"].append({"type": "refusal"})
    assert events == before


# ------------------------------------------------------------------ through the client


@pytest.fixture
def host() -> PluginHost:
    return PluginHost(builtins=False, entry_points=False, plugins=[("responses", responses)])


def client_answering(response: httpx.Response, host: PluginHost) -> Client:
    transport = httpx.MockTransport(lambda request: response)
    return Client(
        api_key=TEST_KEY,
        plugins=host,
        sleep=no_sleep,
        http_client=httpx.Client(transport=transport),
    )


def sse(*events: dict[str, Any]) -> httpx.Response:
    text = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=text.encode())


def test_text_reasoning_tool_calls_and_usage_are_read_from_the_output(host: PluginHost) -> None:
    answer = {
        **COMPLETED,
        "output": [
            {
                "id": "rs_1",
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "Thinking."}],
            },
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": "Hello", "annotations": []},
                    {"type": "refusal", "refusal": "not this"},
                    {"type": "output_text", "text": " world", "annotations": []},
                ],
            },
            {
                "id": "fc_1",
                "type": "function_call",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": '{"location": "Boston, MA"}',
            },
            {"id": "ws_1", "type": "web_search_call", "status": "completed"},
        ],
    }
    with client_answering(httpx.Response(200, json=answer), host) as client:
        result = client.responses.create(model="o3", input="Hello")
    assert result.text == "Hello world"  # a filter after a filter: message, then output_text
    assert result.reasoning == "Thinking."
    assert [(call.id, call.name, call.arguments) for call in result.tool_calls] == [
        ("call_1", "get_weather", {"location": "Boston, MA"})
    ]
    assert result.usage is not None
    assert (result.usage.input_tokens, result.usage.output_tokens) == (37, 11)
    assert result.usage.total_tokens == 48


def test_error_null_in_a_successful_answer_is_no_error(host: PluginHost) -> None:
    assert COMPLETED["error"] is None
    with client_answering(httpx.Response(200, json=COMPLETED), host) as client:
        assert client.responses.create(model="gpt-5.4", input="Hello!").text == "Hi there!"


def test_a_failed_response_raises_with_its_code(host: PluginHost) -> None:
    failed = {
        **COMPLETED,
        "status": "failed",
        "output": [],
        "error": {"code": "server_error", "message": "The model failed to respond."},
    }
    with (
        client_answering(httpx.Response(200, json=failed), host) as client,
        pytest.raises(APIStatusError, match="The model failed to respond") as raised,
    ):
        client.responses.create(model="gpt-5.4", input="Hello!")
    assert raised.value.code == "server_error"


def test_a_stream_adds_up_to_the_whole_answer(host: PluginHost) -> None:
    answer = sse(
        *opening(),
        text_delta("Hi"),
        text_delta(" there!"),
        item_event("done", 0, DONE_MESSAGE),
        state("completed", COMPLETED),
    )
    with (
        client_answering(answer, host) as client,
        client.responses.create.stream(model="gpt-5.4", input="Hello!") as events,
    ):
        pieces = list(events.text_stream)
        result = events.result()
    assert pieces == ["Hi", " there!"]
    assert result.raw == COMPLETED
    assert result.text == "Hi there!"
    assert result.usage is not None
    assert result.usage.total_tokens == 48


def test_a_stream_cut_short_gives_the_text_so_far(host: PluginHost) -> None:
    with (
        client_answering(sse(*opening(), text_delta("Hi"), text_delta(" the")), host) as client,
        client.responses.codex_create.stream(model="codex-mini-latest", input="Hi") as events,
    ):
        result = events.result()
    assert result.text == "Hi the"
    assert result.raw["status"] == "in_progress"


def test_an_error_event_mid_stream_raises(host: PluginHost) -> None:
    error = {
        "type": "error",
        "code": "server_error",
        "message": "Something went wrong",
        "param": None,
    }
    with (
        client_answering(sse(*opening(), error), host) as client,
        pytest.raises(APIStreamError, match="Something went wrong"),
        client.responses.create.stream(model="gpt-5.4", input="Hello!") as events,
    ):
        list(events)
