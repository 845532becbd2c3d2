"""The official clients, pointed at the sandbox, work unchanged and read what py302 reads.

A user moving from the `openai` (or `anthropic`) package to py302 keeps the answers:
the sandbox answers each in its format's own framing, and the official client's text
equals py302's for the same request.
"""

from __future__ import annotations

from typing import Any

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
