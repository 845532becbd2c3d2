"""Gemini's stream accumulator: chunks of `:streamGenerateContent` fold into the body
`:generateContent` answers.

The accumulator is driven directly (it is pure data in, data out); one test folds the
spec's own stream example and compares it with the whole answer's example, and one
drives the public client through `httpx.MockTransport` so the folded body is read
through the spec's `x-py302-result`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from py302 import Client, PluginHost, Result
from py302.contracts import PNG_2X2
from py302.generated.gemini import GenerateContentResponse
from py302.plugins import gemini
from py302.plugins.gemini import GenerateContentAccumulator
from tests.support import TEST_KEY, no_sleep

SPEC = Path(__file__).resolve().parents[2] / "specs" / "gemini.yaml"
PNG_B64 = base64.b64encode(PNG_2X2).decode()  # the image in the spec's examples


def fold(*chunks: Any) -> Any:
    accumulator = GenerateContentAccumulator()
    for chunk in chunks:
        accumulator.add(chunk)
    return accumulator.body()


def chunk(*parts: dict[str, Any], **candidate: Any) -> dict[str, Any]:
    """A one-candidate chunk holding `parts`, with extra candidate fields."""
    return {"candidates": [{"content": {"parts": list(parts), "role": "model"}, **candidate}]}


def test_text_parts_are_joined() -> None:
    body = fold(
        {**chunk({"text": "Hello"}, index=0), "modelVersion": "gemini-2.5-flash"},
        {**chunk({"text": ", "}, index=0), "modelVersion": "gemini-2.5-flash"},
        {**chunk({"text": "world."}, index=0, finishReason="STOP"), "responseId": "r1"},
    )
    assert body == {
        "candidates": [
            {
                "content": {"parts": [{"text": "Hello, world."}], "role": "model"},
                "index": 0,
                "finishReason": "STOP",
            }
        ],
        "modelVersion": "gemini-2.5-flash",
        "responseId": "r1",
    }


def test_thought_parts_are_kept_apart_from_the_answer() -> None:
    body = fold(
        chunk({"text": "**Plan**\n", "thought": True}),
        chunk({"text": "Compare tenths.", "thought": True}),
        chunk({"text": "9.8 is "}),
        chunk({"text": "larger."}, finishReason="STOP"),
    )
    assert body == {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"text": "**Plan**\nCompare tenths.", "thought": True},
                        {"text": "9.8 is larger."},
                    ],
                    "role": "model",
                },
                "finishReason": "STOP",
            }
        ]
    }


def test_an_answer_part_after_a_thought_is_not_joined_back_into_it() -> None:
    body = fold(
        chunk({"text": "a", "thought": True}),
        chunk({"text": "b"}),
        chunk({"text": "c", "thought": True}),
    )
    assert body["candidates"][0]["content"]["parts"] == [
        {"text": "a", "thought": True},
        {"text": "b"},
        {"text": "c", "thought": True},
    ]


def test_an_inline_image_part_is_kept_whole_between_text_parts() -> None:
    image = {"inlineData": {"mimeType": "image/png", "data": PNG_B64}}
    body = fold(
        chunk({"text": "Here is "}),
        chunk({"text": "your image."}),
        chunk(image),
        chunk({"text": "Enjoy!"}, finishReason="STOP"),
    )
    assert body == {
        "candidates": [
            {
                "content": {
                    "parts": [{"text": "Here is your image."}, image, {"text": "Enjoy!"}],
                    "role": "model",
                },
                "finishReason": "STOP",
            }
        ]
    }


def test_function_call_parts_are_appended_not_merged() -> None:
    first = {"functionCall": {"name": "get_weather", "args": {"city": "Boston"}}}
    second = {"functionCall": {"name": "get_time", "args": {"zone": "EST"}}}
    body = fold(chunk(first), chunk(second, finishReason="STOP"))
    assert body["candidates"][0]["content"]["parts"] == [first, second]


def test_usage_is_the_last_chunks_that_has_one() -> None:
    body = fold(
        {**chunk({"text": "A"}), "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5}},
        {
            **chunk({"text": "B"}),
            "usageMetadata": {
                "promptTokenCount": 5,
                "candidatesTokenCount": 2,
                "totalTokenCount": 7,
            },
        },
        {**chunk({"text": "C"}, finishReason="STOP"), "usageMetadata": None},
    )
    assert body == {
        "candidates": [
            {"content": {"parts": [{"text": "ABC"}], "role": "model"}, "finishReason": "STOP"}
        ],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7},
    }


def test_last_finish_reason_and_safety_ratings_win_per_candidate_index() -> None:
    low = [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "LOW"}]
    negligible = [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}]
    body = fold(
        {
            "candidates": [
                {"content": {"parts": [{"text": "one"}]}, "index": 1, "safetyRatings": low},
                {"content": {"parts": [{"text": "zero"}]}, "index": 0},
            ]
        },
        {
            "candidates": [
                {"content": {"parts": [{"text": "!"}]}, "index": 1, "safetyRatings": negligible},
                {"index": 0, "finishReason": "MAX_TOKENS"},
            ]
        },
        {
            "candidates": [
                {"index": 0, "finishReason": "STOP"},
                {"index": 1, "finishReason": "STOP"},
            ]
        },
    )
    assert body == {
        "candidates": [
            {"content": {"parts": [{"text": "zero"}]}, "index": 0, "finishReason": "STOP"},
            {
                "content": {"parts": [{"text": "one!"}]},
                "index": 1,
                "safetyRatings": negligible,
                "finishReason": "STOP",
            },
        ]
    }


def test_a_body_read_mid_stream_is_not_changed_by_later_chunks() -> None:
    accumulator = GenerateContentAccumulator()
    accumulator.add(chunk({"text": "Hel"}))
    early = accumulator.body()
    accumulator.add(chunk({"text": "lo"}))
    assert early["candidates"][0]["content"]["parts"] == [{"text": "Hel"}]
    assert accumulator.body()["candidates"][0]["content"]["parts"] == [{"text": "Hello"}]


def test_chunks_that_are_not_objects_are_ignored() -> None:
    assert fold(None, [1, 2], "text", {"candidates": ["x", None]}) == {}


def _spec_examples() -> tuple[list[Any], Any, Any]:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    paths = spec["paths"]
    streamed = paths["/v1beta/models/{model}:streamGenerateContent"]["post"]
    stream_text = streamed["responses"]["200"]["content"]["text/event-stream"]["examples"][
        "default"
    ]["value"]
    events = [
        json.loads(line[len("data: ") :])
        for line in stream_text.splitlines()
        if line.startswith("data: ")
    ]
    whole = paths["/v1beta/models/{model}:generateContent"]["post"]
    answer = whole["responses"]["200"]["content"]["application/json"]["examples"]["default"]
    request = streamed["requestBody"]["content"]["application/json"]["examples"]["default"]
    return events, answer["value"], request["value"]


def test_the_spec_stream_example_folds_into_the_whole_answer_example() -> None:
    events, whole, _ = _spec_examples()
    assert len(events) > 1
    assert fold(*events) == whole


@pytest.fixture
def gemini_host() -> PluginHost:
    """A host with only the Gemini plugin."""
    return PluginHost(builtins=False, entry_points=False, plugins=[("gemini", gemini)])


def test_a_streamed_call_reads_its_folded_body_through_the_spec(gemini_host: PluginHost) -> None:
    events, whole, request_body = _spec_examples()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        text = "".join(f"data: {json.dumps(event)}\r\n\r\n" for event in events)
        return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, text=text)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with (
        Client(api_key=TEST_KEY, plugins=gemini_host, http_client=http, sleep=no_sleep) as client,
        client.gemini.stream_generate_content(model="gemini-2.5-flash", **request_body) as stream,
    ):
        streamed = list(stream)
        result = stream.result()

    assert len(streamed) == len(events)
    assert all(isinstance(event, GenerateContentResponse) for event in streamed)
    assert seen[0].url.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert seen[0].url.params["alt"] == "sse"
    assert json.loads(seen[0].content) == request_body
    assert result.raw == whole
    assert result.text == "AI learns patterns from data and uses them to make predictions."
    assert result.reasoning is None
    assert result.usage is not None
    assert (result.usage.input_tokens, result.usage.output_tokens) == (8, 12)
    assert result.usage.total_tokens == 46


def _whole_call(host: PluginHost, example: str) -> Result[GenerateContentResponse]:
    """generate_content answered by the spec's named JSON example."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    operation = spec["paths"]["/v1beta/models/{model}:generateContent"]["post"]
    answer = operation["responses"]["200"]["content"]["application/json"]["examples"][example]
    request = operation["requestBody"]["content"]["application/json"]["examples"][example]
    http = httpx.Client(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, json=answer["value"]))
    )
    with Client(api_key=TEST_KEY, plugins=host, http_client=http, sleep=no_sleep) as client:
        result: Result[GenerateContentResponse] = client.gemini.generate_content(
            model="gemini-2.5-flash", **request["value"]
        )
    return result


def test_thought_parts_are_the_reasoning_and_the_rest_the_text(gemini_host: PluginHost) -> None:
    result = _whole_call(gemini_host, "thinking")
    assert result.text == "9.8 is larger than 9.11."
    assert result.reasoning == (
        "**Comparing decimals**\n\nCompare the tenths: 9.8 has 8 tenths, 9.11 has 1."
    )


def test_function_call_parts_are_the_tool_calls(gemini_host: PluginHost) -> None:
    result = _whole_call(gemini_host, "function_call")
    assert result.text is None
    assert [(call.id, call.name, call.arguments) for call in result.tool_calls] == [
        (None, "get_current_weather", {"location": "Boston, MA"})
    ]


def test_an_image_comes_back_inline_and_as_302s_url(gemini_host: PluginHost) -> None:
    result = _whole_call(gemini_host, "text_to_image")
    inline, hosted = result.assets
    assert inline.data == PNG_2X2
    assert inline.mime_type == "image/png"
    assert hosted.url == (
        "https://file.302.ai/gpt/imgs/20260112/1cc6d6606add49c7b47b584f413e15a8.png"
    )
    assert (result.text or "").startswith("Certainly! Here is your 3D rendered image")
    assert result.usage is not None
    assert result.usage.total_tokens == 1359


def test_an_edited_image_comes_back_as_302s_url(gemini_host: PluginHost) -> None:
    result = _whole_call(gemini_host, "image_editing")
    assert [asset.url for asset in result.assets] == [
        "https://file.302.ai/gpt/imgs/20251210/b8262ed273b54800ad4e4f7b99952477.png"
    ]
    assert result.text == "Sure, here is your image! "
