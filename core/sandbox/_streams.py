"""Answering streamable operations: one reply, whole or as Server-Sent Events.

Nothing here knows a provider. The operation's spec says which body field asks for
the stream (`x-py302-stream.flag`), where a chunk's text delta sits (`text_delta`),
where the whole answer's text sits (`x-py302-result.text`), and gives one example of
each form. The sandbox writes a reply derived from the request into both examples,
so the stream's events add up to exactly the whole answer, then sends the events one
chunk at a time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.responses import Response, StreamingResponse

from py302._registry import OperationSpec, ProviderRegistry
from py302._sse import SSEDecoder
from py302.contracts import Body, stream_answer
from py302.payloads import text_at

from ._answers import put_text
from ._faults import Fault

__all__ = [
    "asks_for_stream",
    "reply_text",
    "stream_events",
    "stream_response",
    "whole_with_text",
    "x_stream_declared",
]

EVENT_STREAM = "text/event-stream"
_REPLY_WORDS = 12


def _declared(spec: OperationSpec, key: str) -> Mapping[str, Any]:
    block = spec.extensions.get(key)
    return block if isinstance(block, Mapping) else {}


def x_stream_declared(spec: OperationSpec) -> bool:
    """Whether the operation can answer with an event stream (`x-py302-stream`)."""
    return bool(_declared(spec, "x-py302-stream"))


def asks_for_stream(spec: OperationSpec, body: Any) -> bool:
    """Whether the request wants the event stream: its flag is on, or it is the only form."""
    if not any(EVENT_STREAM in r.get("media_types", {}) for r in spec.responses.values()):
        return False
    flag = _declared(spec, "x-py302-stream").get("flag")
    return flag is None or (isinstance(body, Mapping) and body.get(flag) is True)


def reply_text(body: Any, prompt: str, words: int | None = None) -> str:
    """A deterministic reply to the request: its prompt, or its last message's text;
    `words` makes it that many words long (the request's words over and over), for a
    stream of that many chunks."""
    said = (prompt or _last_message_text(body) or "nothing").split() or ["nothing"]
    if words is None:
        return "Sandbox reply to: " + " ".join(said[:_REPLY_WORDS])
    return " ".join(said[n % len(said)] for n in range(max(1, words)))


def _last_message_text(body: Any) -> str:
    """The text of the conversation's last turn: `messages` with a `content` string or
    parts, or `contents` with `parts` (each format names them its own way)."""
    if not isinstance(body, Mapping):
        return ""
    turns = body.get("messages") or body.get("contents") or body.get("input")
    if isinstance(turns, str):
        return turns
    for turn in reversed(turns if isinstance(turns, list) else []):
        content = turn.get("content", turn.get("parts")) if isinstance(turn, Mapping) else None
        if isinstance(content, str):
            return content
        parts = [part.get("text") for part in content or [] if isinstance(part, Mapping)]
        text = " ".join(part for part in parts if isinstance(part, str))
        if text:
            return text
    return ""


def whole_with_text(spec: OperationSpec, payload: Any, text: str) -> Any:
    """The whole answer's example with `text` where the spec says the text is (an
    answer whose text is empty, such as one that only calls tools, is kept as it is)."""
    path = _declared(spec, "x-py302-result").get("text")
    if not path or not _text_at(payload, str(path)):
        return payload
    return put_text(payload, str(path), text)


#: One event to send: its name (None for an unnamed `message` event) and its data.
SentEvent = tuple[str | None, str]


def stream_events(
    registry: ProviderRegistry, spec: OperationSpec, text: str, example: Body | None = None
) -> list[SentEvent]:
    """The example stream's events, its text events replaced by `text` word by word.

    Events before the first one carrying text and after the last one are kept as
    they are (the role chunk, the finish chunk, the usage chunk, the end marker), and
    so are the events' names, which some formats' clients dispatch on
    (`event: content_block_delta`).
    """
    example = example or stream_answer(registry, spec)
    assert example is not None, f"{spec.qualified_name} answers no event stream"
    decoder = SSEDecoder()
    decoded = decoder.feed(str(example.value).encode()) + decoder.close()
    events: list[SentEvent] = [
        (None if event.event == "message" else event.event, event.data) for event in decoded
    ]
    path = str(_declared(spec, "x-py302-stream").get("text_delta") or "")
    carrying = [i for i, (_, data) in enumerate(events) if path and _text_at(_decoded(data), path)]
    if not carrying:
        return events
    first, last = carrying[0], carrying[-1]
    name, data = events[first]
    template, closing = json.loads(data), json.loads(events[last][1])
    pieces = [word if i == 0 else " " + word for i, word in enumerate(text.split(" "))]
    # The last piece rides on the last text event, which may carry the end of the
    # answer too (a finish reason, the final usage).
    replies = [
        (name, json.dumps(put_text(closing if i == len(pieces) - 1 else template, path, piece)))
        for i, piece in enumerate(pieces)
    ]
    return [*events[:first], *replies, *events[last + 1 :]]


def _decoded(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _text_at(payload: Any, path: str) -> bool:
    """Whether `payload` holds some non-empty text at `path` (which may filter)."""
    return bool(text_at(payload, path))


def stream_response(events: list[SentEvent], fault: Fault | None) -> Response:
    """The events as an event stream, one chunk each, as a fault may bend it:
    `stream_cut` drops the connection after `events` events, `stream_stall` falls
    silent for `seconds` after them."""

    async def chunks() -> AsyncIterator[bytes]:
        for number, (name, data) in enumerate(events):
            if fault is not None and number == fault.events:
                if fault.kind == "stream_cut":
                    raise ConnectionResetError("sandbox: injected cut in the stream")
                await asyncio.sleep(fault.seconds)
            head = f"event: {name}\n" if name else ""
            yield f"{head}data: {data}\n\n".encode()
            await asyncio.sleep(0)  # each event its own chunk on the wire

    return StreamingResponse(chunks(), media_type=EVENT_STREAM)
