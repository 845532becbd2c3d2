"""Recorded event streams, read the way the client reads them.

A `text/event-stream` body in a cassette is decoded by the runtime's own `SSEDecoder`,
then each event is sorted as the stream flow (`py302._streams`) would take it:

* the operation's end marker (`x-py302-stream.done`) ends the stream; events after
  it are never read by the client;
* an error (an `event: error`, or data that the declared error envelope
  `x-py302-result.error` reads as an error) also ends it: the client raises
  `APIStreamError` there. It is a legitimate answer, not a schema problem;
* every other event's data should be JSON that follows the event schema.

The contract check (`_contract`) and drift (`_drift`) both start from `read_stream`,
so they agree on what a stream holds.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from py302._declared import ResultDeclaration
from py302._registry import OperationSpec, media_type
from py302._sse import ServerSentEvent, SSEDecoder

from ._cassettes import NOT_JSON

__all__ = ["EVENT_STREAM", "RecordedEvent", "RecordedStream", "is_event_stream", "read_stream"]

EVENT_STREAM = "text/event-stream"


def is_event_stream(content_type: str) -> bool:
    """Whether a `Content-Type` value is `text/event-stream` (parameters ignored)."""
    return media_type(content_type) == EVENT_STREAM


@attrs.frozen(kw_only=True)
class RecordedEvent:
    """One event of a recorded stream: its number (from 1, in order of arrival), its
    data as sent, and that data decoded (`NOT_JSON` if it is not JSON)."""

    number: int
    text: str
    data: Any


@attrs.frozen(kw_only=True)
class RecordedStream:
    """What a recorded stream holds, sorted as the client sorts it."""

    events: tuple[RecordedEvent, ...]
    """The events that carry data for the event schema (up to the end or an error)."""
    error: RecordedEvent | None = None
    """The event that reported an error and ended the stream, if one did."""
    done: str | None = None
    """The declared end marker (None when the operation declares none)."""
    ended: bool = False
    """Whether the end marker came."""
    after_end: tuple[int, ...] = ()
    """The numbers of the events sent after the end marker."""
    count: int = 0
    """How many events the body holds in all."""

    @property
    def missing_end(self) -> bool:
        """Whether the stream stopped short: its end marker is declared but never came,
        and no error ended it first."""
        return self.done is not None and not self.ended and self.error is None


def read_stream(raw: Any, spec: OperationSpec) -> RecordedStream:
    """The recorded event-stream body `raw` (text or bytes) of an answer of `spec`."""
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw or b"")
    decoder = SSEDecoder()
    decoded = [*decoder.feed(data), *decoder.close()]
    done = spec.stream_declaration.done
    errors = spec.result_declaration
    events: list[RecordedEvent] = []
    for number, event in enumerate(decoded, start=1):
        if done is not None and event.data == done:
            after = tuple(range(number + 1, len(decoded) + 1))
            return RecordedStream(
                events=tuple(events), done=done, ended=True, after_end=after, count=len(decoded)
            )
        recorded = RecordedEvent(number=number, text=event.data, data=_decoded(event.data))
        if _is_error(event, recorded.data, errors):
            return RecordedStream(
                events=tuple(events), error=recorded, done=done, count=len(decoded)
            )
        events.append(recorded)
    return RecordedStream(events=tuple(events), done=done, count=len(decoded))


def _decoded(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return NOT_JSON


def _is_error(event: ServerSentEvent, data: Any, errors: ResultDeclaration | None) -> bool:
    """As `py302._streams` decides it: a named error event, or an error envelope."""
    if event.event == "error":
        return True
    return data is not NOT_JSON and errors is not None and errors.reported_error(data) is not None
