"""The I/O a flow asks for, as data.

Every kind of call (a plain call, a task, a stream) is a generator that yields these
steps and receives their outcomes; it never touches the network or the clock itself.
A client's driver (`py302._drivers`) carries the steps out, with httpx for the
synchronous client and with `await` for the asynchronous one, so both behave alike
by construction. `Emit` is not I/O: a stream flow yields it to hand an event to the
caller.

    step               the driver does                 and sends back
    Send(request)      send it, read the whole body    the response (read, closed), or the error
    Open(request, t)   send it, read only the headers  the response, or the transport error
    Read(response)     read the next chunk of the body the bytes (b"" at the end), or the error
    Read(r, whole=True) read the rest of the body     the response, or the error
    Drain(response)    read what is left, briefly      None (the answer can then be reused)
    Close(response)    release the connection          None
    Sleep(seconds)     wait                            None
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

import attrs
import httpx

__all__ = ["Close", "Drain", "Emit", "Flow", "Open", "Read", "Send", "Sleep", "Step"]

#: What `Drain` reads at most, in bytes and in seconds, before it gives up (and the
#: connection is closed instead of reused).
DRAIN_BYTES = 64 * 1024
DRAIN_SECONDS = 0.05

T = TypeVar("T")


@attrs.frozen
class Send:
    """Send `request` and read its whole answer; `deadline` (seconds), when given,
    shortens the client's whole-call timeout for this one request."""

    request: httpx.Request
    deadline: float | None = None


@attrs.frozen
class Open:
    """Send `request` and stop after the headers; `idle_timeout` bounds each later read."""

    request: httpx.Request
    idle_timeout: float


@attrs.frozen(eq=False)
class Read:
    """Read the next chunk of an opened answer's body (or, `whole`, all of it)."""

    response: httpx.Response
    whole: bool = False


@attrs.frozen(eq=False)
class Drain:
    """Read and drop what is left of an opened answer whose events have ended (the
    bytes after an end marker, the chunked body's terminator), so that closing it
    gives its connection back to the pool instead of closing it. Bounded by
    `DRAIN_BYTES` and `DRAIN_SECONDS`: a server that keeps talking after its end
    marker costs a new connection, never a wait."""

    response: httpx.Response


@attrs.frozen(eq=False)
class Close:
    """Close an opened answer, giving its connection back to the pool."""

    response: httpx.Response


@attrs.frozen
class Sleep:
    """Wait `seconds` (through the client's injectable sleep)."""

    seconds: float


@attrs.frozen(eq=False)
class Emit:
    """Not I/O: a stream flow hands `value` to whoever iterates the stream."""

    value: Any


Step = Send | Open | Read | Drain | Close | Sleep
#: A flow: yields steps (and, for streams, `Emit`s), receives outcomes, returns `T`.
Flow = Generator[Step | Emit, Any, T]
