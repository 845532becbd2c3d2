"""The official clients, pointed at the sandbox, work unchanged and read what py302 reads.

A user moving from the `openai` (or `anthropic`) package to py302 keeps the answers:
the sandbox answers each in its format's own framing, and the official client's text
equals py302's for the same request.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import anthropic
import openai

from py302 import Client
from py302.sandbox import Sandbox

MESSAGES: Any = [{"role": "user", "content": "tell me about lighthouses"}]


def official_openai(sandbox: Sandbox) -> openai.OpenAI:
    return openai.OpenAI(api_key="sandbox", base_url=f"{sandbox.base_url}/v1", max_retries=0)


def test_the_openai_client_reads_a_chat_completion_as_py302_does(
    sandbox: Sandbox, client: Client
) -> None:
    theirs = official_openai(sandbox).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    ours = client.chat.completions(model="gpt-4o", messages=MESSAGES)
    assert theirs.choices[0].message.content == ours.text
    assert theirs.usage is not None
    assert ours.usage is not None
    assert theirs.usage.total_tokens == ours.usage.total_tokens


def test_the_openai_client_streams_a_chat_completion_as_py302_does(
    sandbox: Sandbox, client: Client
) -> None:
    with official_openai(sandbox).chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True
    ) as stream:
        pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as ours:
        our_pieces = list(ours.text_stream)
    assert [piece for piece in pieces if piece] == our_pieces  # the same chunks, in order


TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
        },
    }
]


def test_the_openai_client_gets_tool_calls_when_it_offers_tools(
    sandbox: Sandbox, client: Client
) -> None:
    theirs = official_openai(sandbox).chat.completions.create(
        model="gpt-4o", messages=MESSAGES, tools=TOOLS
    )
    ours = client.chat.completions(model="gpt-4o", messages=MESSAGES, tools=TOOLS)
    (call,) = theirs.choices[0].message.tool_calls or []
    (our_call,) = ours.tool_calls
    assert call.type == "function"
    function = call.function
    assert (call.id, function.name) == (our_call.id, our_call.name)
    assert json.loads(function.arguments) == our_call.arguments == {"location": "Boston, MA"}
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES, tools=TOOLS) as stream:
        streamed = stream.result()
    assert streamed.tool_calls == ours.tool_calls  # assembled from the argument pieces


def official_anthropic(sandbox: Sandbox) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sandbox", base_url=sandbox.base_url, max_retries=0)


def test_the_anthropic_client_reads_a_message_as_py302_does(
    sandbox: Sandbox, client: Client
) -> None:
    theirs = official_anthropic(sandbox).messages.create(
        model="claude-sonnet-4-20250514", max_tokens=256, messages=MESSAGES
    )
    ours = client.claude.messages(
        model="claude-sonnet-4-20250514", max_tokens=256, messages=MESSAGES
    )
    text = "".join(block.text for block in theirs.content if block.type == "text")
    assert text == ours.text
    assert ours.usage is not None
    assert theirs.usage.output_tokens == ours.usage.output_tokens


def test_the_anthropic_client_streams_a_message_to_the_same_final_message(
    sandbox: Sandbox, client: Client
) -> None:
    with official_anthropic(sandbox).messages.stream(
        model="claude-sonnet-4-20250514", max_tokens=256, messages=MESSAGES
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    with client.claude.messages.stream(
        model="claude-sonnet-4-20250514", max_tokens=256, messages=MESSAGES
    ) as ours:
        our_pieces = list(ours.text_stream)
        result = ours.result()
    assert pieces == our_pieces
    assert "".join(b.text for b in final.content if b.type == "text") == result.text


def test_the_anthropic_client_gets_tool_use_and_thinking_when_it_asks(sandbox: Sandbox) -> None:
    theirs = official_anthropic(sandbox)
    tools: Any = [{"name": "get_weather", "input_schema": {"type": "object"}}]
    called = theirs.messages.create(
        model="claude-sonnet-4-20250514", max_tokens=256, messages=MESSAGES, tools=tools
    )
    thought = theirs.messages.create(
        model="claude-sonnet-4-20250514",
        max_tokens=2048,
        messages=MESSAGES,
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    assert [block.type for block in called.content] == ["tool_use"]
    assert called.stop_reason == "tool_use"
    assert thought.content[0].type == "thinking"


def test_the_official_clients_work_against_py302_sandbox_serve() -> None:
    """The command a user runs (`py302 sandbox serve`), in its own process."""
    server = subprocess.Popen(
        [sys.executable, "-m", "py302", "sandbox", "serve", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        url = server.stderr.readline().split()[3]
        chat = openai.OpenAI(api_key="sandbox", base_url=f"{url}/v1", max_retries=0)
        reply = chat.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        with chat.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True) as chunks:
            streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        called = chat.chat.completions.create(model="gpt-4o", messages=MESSAGES, tools=TOOLS)
        claude = anthropic.Anthropic(api_key="sandbox", base_url=url, max_retries=0)
        message = claude.messages.create(
            model="claude-sonnet-4-20250514", max_tokens=256, messages=MESSAGES
        )
        with claude.messages.stream(
            model="claude-sonnet-4-20250514", max_tokens=256, messages=MESSAGES
        ) as stream:
            final = stream.get_final_message()
    finally:
        server.terminate()
        server.communicate(timeout=10)
    expected = "Sandbox reply to: tell me about lighthouses"
    assert reply.choices[0].message.content == streamed == expected
    assert called.choices[0].finish_reason == "tool_calls"
    for answer in (message, final):
        assert [block.text for block in answer.content if block.type == "text"] == [expected]


def test_the_sandbox_answers_as_the_model_asked_for(sandbox: Sandbox) -> None:
    chat = official_openai(sandbox).chat.completions.create(model="qwen3-235b", messages=MESSAGES)
    with official_openai(sandbox).chat.completions.create(
        model="qwen3-235b", messages=MESSAGES, stream=True
    ) as stream:
        streamed = {chunk.model for chunk in stream}
    message = official_anthropic(sandbox).messages.create(
        model="claude-opus-4-1-20250805", max_tokens=64, messages=MESSAGES
    )
    assert chat.model == "qwen3-235b"
    assert streamed == {"qwen3-235b"}
    assert message.model == "claude-opus-4-1-20250805"
