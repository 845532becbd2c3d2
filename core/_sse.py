"""A Server-Sent Events decoder without I/O: bytes in, events out.

Why not httpx-sse: its public API iterates an httpx response itself, while py302's
stream flow is sans-I/O (the driver reads the chunks, sync or async, and the flow
decodes them), so what is needed is a decoder fed with bytes. The WHATWG rules it
follows are short; what matters here is that a line may be megabytes long (LLM
models send whole base64 images in one `data:` line), so each chunk is scanned once
and never re-joined with what came before.
"""

from __future__ import annotations

import attrs

__all__ = ["SSEDecoder", "ServerSentEvent"]


@attrs.frozen
class ServerSentEvent:
    """One event: its type (`message` unless the server named it), data, id and retry."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed it chunks as they arrive; it returns the events they complete.

    Lines end with CRLF, LF or CR; `:` lines are comments (keep-alives); an event is
    dispatched at a blank line when it has data; `close()` dispatches an event left
    unterminated at the end of the stream.
    """

    def __init__(self) -> None:
        self._pending = bytearray()  # the start of a line whose end has not come yet
        self._after_cr = False  # the last chunk ended with CR: a leading LF belongs to it
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events completed by `chunk`."""
        if self._after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._after_cr = chunk.endswith(b"\r")
        events: list[ServerSentEvent] = []
        start = 0
        size = len(chunk)
        while start < size:
            end = _line_end(chunk, start)
            if end < 0:
                self._pending += chunk[start:]
                break
            if self._pending:
                self._pending += chunk[start:end]
                line = bytes(self._pending)
                self._pending.clear()
            else:
                line = chunk[start:end]
            event = self._line(line.decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
            start = end + (2 if chunk[end : end + 2] == b"\r\n" else 1)
        return events

    def close(self) -> list[ServerSentEvent]:
        """The event still open when the stream ended, if it has data."""
        events = []
        if self._pending:
            line = bytes(self._pending).decode("utf-8", errors="replace")
            self._pending.clear()
            event = self._line(line)
            if event is not None:
                events.append(event)
        event = self._line("")
        return [*events, event] if event is not None else events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = ServerSentEvent(
            data="\n".join(self._data),
            event=self._event or "message",
            id=self._id,
            retry=self._retry,
        )
        self._data = []
        self._event = ""
        return event


def _line_end(chunk: bytes, start: int) -> int:
    """Index of the first CR or LF at or after `start`, or -1."""
    lf = chunk.find(b"\n", start)
    cr = chunk.find(b"\r", start, lf if lf >= 0 else len(chunk))
    return cr if cr >= 0 else lf
