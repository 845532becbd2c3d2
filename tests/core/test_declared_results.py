"""`x-py302-result` read from answers of every chat format: text, reasoning, tool calls
and inline files, through path filters (`[?type=text]`) rather than plugin code."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from py302 import ToolCall
from py302._declared import ResultDeclaration
from py302.codegen._extensions import result_problems
from py302.payloads import collect

CLAUDE = {
    "content": [
        {"type": "thinking", "thinking": "The user greets. ", "signature": "sig"},
        {"type": "thinking", "thinking": "Answer kindly."},
        {"type": "text", "text": "Hello"},
        {"type": "text", "text": ", Ada."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Leeds"}},
    ],
    "usage": {"input_tokens": 12, "output_tokens": 7},
}
GEMINI = {
    "candidates": [
        {
            "content": {
                "parts": [
                    {"text": "Drawing a cat.", "thought": True},
                    {"text": "Here is your cat."},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBORw0K"}},
                    {"functionCall": {"name": "save", "args": {"name": "cat.png"}}},
                ]
            }
        }
    ]
}
OPENAI = {
    "choices": [
        {
            "message": {
                "content": None,
                "reasoning_content": "Check the map.",
                "tool_calls": [
                    {"id": "call_1", "function": {"name": "route", "arguments": '{"to": "York"}'}},
                    {"id": "call_2", "function": {"name": "echo", "arguments": "not json"}},
                ],
            }
        }
    ]
}


def declared(**block: Any) -> ResultDeclaration:
    result = ResultDeclaration.of({"x-py302-result": block})
    assert result is not None
    return result


def test_filters_keep_the_items_they_name() -> None:
    assert collect(CLAUDE, "content[?type=text].text") == ["Hello", ", Ada."]
    assert collect(CLAUDE, "content[?signature].type") == ["thinking"]
    assert collect(GEMINI, "candidates.0.content.parts[?!thought].text") == ["Here is your cat."]
    assert collect({"a": [{"k": True}, {"k": False}]}, "a[?k=true]") == [{"k": True}]
    assert collect({"a": "not a list"}, "a[?k]") == []


def test_claude_blocks_read_as_text_reasoning_and_tool_calls() -> None:
    found = declared(
        text="content[?type=text].text",
        reasoning="content[?type=thinking].thinking",
        tool_calls={
            "items": "content[?type=tool_use]",
            "id": "id",
            "name": "name",
            "arguments": "input",
        },
    ).normalize(CLAUDE)
    assert found.text == "Hello, Ada."  # the text blocks joined, the thinking left out
    assert found.reasoning == "The user greets. Answer kindly."
    assert found.tool_calls == (
        ToolCall(id="toolu_1", name="get_weather", arguments={"city": "Leeds"}),
    )


def test_gemini_parts_read_as_text_reasoning_calls_and_an_inline_image() -> None:
    parts = "candidates.0.content.parts"
    found = declared(
        text=f"{parts}[?!thought].text",
        reasoning=f"{parts}[?thought].text",
        tool_calls={
            "items": f"{parts}[?functionCall]",
            "name": "functionCall.name",
            "arguments": "functionCall.args",
        },
        assets=[
            {
                "data": f"{parts}[?inlineData].inlineData.data",
                "mime_type": f"{parts}[?inlineData].inlineData.mimeType",
            }
        ],
    ).normalize(GEMINI)
    assert found.text == "Here is your cat."
    assert found.reasoning == "Drawing a cat."
    assert found.tool_calls == (ToolCall(id=None, name="save", arguments={"name": "cat.png"}),)
    (image,) = found.assets
    assert image.data == base64.b64decode("iVBORw0K")
    assert image.mime_type == "image/png"


def test_openai_tool_call_arguments_are_decoded_or_kept_as_sent() -> None:
    found = declared(
        text="choices.0.message.content",
        reasoning="choices.0.message.reasoning_content",
        tool_calls={
            "items": "choices.0.message.tool_calls[]",
            "id": "id",
            "name": "function.name",
            "arguments": "function.arguments",
        },
    ).normalize(OPENAI)
    assert found.text is None  # content null: no text, not "None"
    assert found.reasoning == "Check the map."
    route, echo = found.tool_calls
    assert route.arguments == {"to": "York"}
    assert route.arguments_text == '{"to": "York"}'
    assert echo.arguments == "not json"  # what the model sent, not lost


def test_a_data_url_and_a_default_media_type_make_assets() -> None:
    answer = {
        "audio": {"data": base64.b64encode(b"RIFF").decode()},
        "pic": "data:image/webp;base64,UklGRg==",
    }
    found = declared(
        assets=[{"data": "audio.data", "default_mime_type": "audio/wav"}, {"data": "pic"}]
    ).normalize(answer)
    audio, picture = found.assets
    assert (audio.data, audio.mime_type) == (b"RIFF", "audio/wav")
    assert (picture.data, picture.mime_type) == (b"RIFF", "image/webp")


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ({"text": "content[?type=text.text"}, "x-py302-result.text must be a dotted path"),
        ({"tool_calls": {"name": "name"}}, "tool_calls must map items"),
        ({"tool_calls": {"items": "a[]", "name": "n", "args": "x"}}, "unknown keys ['args']"),
        ({"assets": [{"data": "a", "url": "b"}]}, "must be one of"),
        ({"assets": [{"data": "a", "default_mime_type": "png"}]}, "must be a media type"),
    ],
)
def test_a_malformed_declaration_is_refused_naming_the_key(
    block: dict[str, Any], problem: str
) -> None:
    problems = result_problems(block, "f.yaml: op")
    assert any(problem in line for line in problems), problems


def test_the_new_keys_are_accepted() -> None:
    assert (
        result_problems(
            {
                "text": "content[?type=text].text",
                "reasoning": "output[?type=reasoning].summary[].text",
                "tool_calls": {
                    "items": "content[?type=tool_use]",
                    "id": "id",
                    "name": "name",
                    "arguments": "input",
                },
                "assets": [{"data": "a[?b].c", "mime_type": "a[?b].d"}],
            },
            "f.yaml: op",
        )
        == []
    )


def test_images_a_text_shows_in_markdown_become_assets() -> None:
    content = (
        '```json\n{"prompt": "a cat"}\n```\n> progress 100%\n'
        "![preview](https://file.302.ai/gpt/imgs/a.png)\n"
        "[download](https://file.302.ai/gpt/imgs/a.png) [docs](https://302.ai/docs)\n"
        "[second](https://file.302.ai/gpt/imgs/b.webp?sig=1)"
    )
    found = declared(assets=[{"images_in_text": "choices.0.message.content"}]).normalize(
        {"choices": [{"message": {"content": content}}]}
    )
    assert [asset.url for asset in found.assets] == [
        "https://file.302.ai/gpt/imgs/a.png",  # once, though shown and linked
        "https://file.302.ai/gpt/imgs/b.webp?sig=1",
    ]  # the docs link is not an image


def test_an_empty_inline_file_is_no_asset() -> None:
    found = declared(assets=[{"data": "audio.data", "default_mime_type": "audio/wav"}]).normalize(
        {"audio": {"data": ""}}
    )
    assert found.assets == ()


def test_a_field_holding_urls_or_base64_gives_each_file_once() -> None:
    entries = declared(
        assets=["data.outputs[]", {"data": "data.outputs[]", "default_mime_type": "image/png"}]
    )
    by_url = entries.normalize({"data": {"outputs": ["https://f.example/a.png"]}})
    inline = entries.normalize({"data": {"outputs": ["iVBORw0K"]}})
    assert [asset.url for asset in by_url.assets] == ["https://f.example/a.png"]
    (image,) = inline.assets
    assert image.data == base64.b64decode("iVBORw0K")
    assert image.url is None


def test_a_url_entry_gives_its_default_media_type_where_the_answer_names_none() -> None:
    found = declared(
        assets=[
            {
                "url": "images[].url",
                "mime_type": "images[].type",
                "default_mime_type": "image/svg+xml",
            }
        ]
    ).normalize(
        {
            "images": [
                {"url": "https://f.example/a"},
                {"url": "https://f.example/b", "type": "image/png"},
            ]
        }
    )
    assert [asset.mime_type for asset in found.assets] == ["image/svg+xml", "image/png"]
