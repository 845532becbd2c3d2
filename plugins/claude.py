"""Anthropic-format messages on 302.AI: folding an event stream back into one Message.

Everything else about `client.claude` is declared in specs/claude.yaml (the stream
flag, where the text, reasoning, tool calls, usage and errors are). What data cannot
say is how Anthropic's events add up to the Message the same request answers without
streaming: message_start gives the message without content, each content block opens
at its index with content_block_start and grows with content_block_delta (text,
thinking and signature appended, a tool call's input sent as JSON text in pieces),
and message_delta sets the stop reason and updates the usage at the end.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from py302 import AskFormat, Provider, hookimpl

PY302_PLUGIN_API = 2
PROVIDER = "claude"
#: The string field of a content block that each kind of delta appends to.
_APPENDED = {
    "text_delta": "text",
    "thinking_delta": "thinking",
    "signature_delta": "signature",
}


class MessageAccumulator:
    """Folds the data of Anthropic's stream events into a Message body."""

    def __init__(self) -> None:
        self._message: dict[str, Any] = {}
        self._blocks: dict[int, dict[str, Any]] = {}
        self._partial_json: dict[int, list[str]] = {}

    def add(self, event: Any) -> None:
        """Take one event's data; kinds that change nothing (ping, message_stop,
        content_block_stop, kinds added later) are skipped."""
        if not isinstance(event, Mapping):
            return
        kind = event.get("type")
        if kind == "message_start" and isinstance(event.get("message"), Mapping):
            self._start(event["message"])
        elif kind == "content_block_start" and isinstance(event.get("content_block"), Mapping):
            index = _index(event, len(self._blocks))
            self._blocks[index] = dict(event["content_block"])
            self._partial_json.pop(index, None)
        elif kind == "content_block_delta" and isinstance(event.get("delta"), Mapping):
            self._add_delta(_index(event, 0), event["delta"])
        elif kind == "message_delta":
            self._end(event)

    def _start(self, message: Mapping[str, Any]) -> None:
        self._message = {key: value for key, value in message.items() if key != "content"}
        if isinstance(message.get("usage"), Mapping):
            self._message["usage"] = dict(message["usage"])
        # The content is empty in Anthropic's streams; a server that fills it in gets
        # its blocks kept, at their positions.
        for index, block in enumerate(message.get("content") or ()):
            if isinstance(block, Mapping):
                self._blocks[index] = dict(block)

    def _add_delta(self, index: int, delta: Mapping[str, Any]) -> None:
        block = self._blocks.setdefault(index, {})
        kind = delta.get("type")
        if kind in _APPENDED:
            field = _APPENDED[kind]
            piece = delta.get(field)
            if isinstance(piece, str):
                block[field] = (block.get(field) or "") + piece
        elif kind == "input_json_delta" and isinstance(delta.get("partial_json"), str):
            self._partial_json.setdefault(index, []).append(delta["partial_json"])
        elif kind == "citations_delta" and "citation" in delta:
            block["citations"] = [*(block.get("citations") or ()), delta["citation"]]

    def _end(self, event: Mapping[str, Any]) -> None:
        delta = event.get("delta")
        if isinstance(delta, Mapping):
            self._message.update(delta)  # stop_reason and stop_sequence, null ones included
        usage = event.get("usage")
        if isinstance(usage, Mapping):
            # Counts are cumulative; a field left out or null keeps the value it had.
            merged = dict(self._message.get("usage") or {})
            merged.update({key: value for key, value in usage.items() if value is not None})
            self._message["usage"] = merged

    def body(self) -> dict[str, Any]:
        """The Message the events so far add up to."""
        content = []
        for index in sorted(self._blocks):
            block = dict(self._blocks[index])
            pieces = self._partial_json.get(index)
            if pieces:
                block["input"] = _json_object("".join(pieces), block.get("input"))
            content.append(block)
        return {**self._message, "content": content}


def _index(event: Mapping[str, Any], default: int) -> int:
    index = event.get("index")
    return index if isinstance(index, int) and not isinstance(index, bool) else default


def _json_object(text: str, fallback: Any) -> Any:
    """The tool input the JSON fragments spell; while they are incomplete (a stream
    cut short), the input the block started with."""
    try:
        value = json.loads(text)
    except ValueError:
        return fallback
    return value if isinstance(value, dict) else fallback


@hookimpl
def py302_register_providers(register: Callable[[Provider], None]) -> None:
    """Anthropic-format messages are generated from specs/claude.yaml; their event folder."""
    register(
        Provider(
            name=PROVIDER,
            bindings="py302.generated.claude",
            title="Claude format — Anthropic Messages (302.AI)",
            accumulators={"anthropic.messages": MessageAccumulator},
            ask=AskFormat(name="claude", operation="messages", arguments=_question),
        )
    )


def _question(
    model: str, prompt: str, system: str | None, max_tokens: int | None
) -> dict[str, Any]:
    """One user message; `max_tokens` is required by the format (1024 unless given)."""
    return {
        "model": model,
        "max_tokens": max_tokens or 1024,
        "messages": [{"role": "user", "content": prompt}],
        **({"system": system} if system else {}),
    }
