"""Reading an answer's body within bounds: a size cap and a deadline for the whole.

httpx times each read of a socket, so a server that sends one byte a second keeps a
request alive for as long as it likes, and it reads a body of any size (a gzip
bomb decompressed) into memory. Both drivers read bodies through `BoundedBody`
instead: it counts the *decoded* bytes (what a compressed body turns into, which is
what costs memory) and the time since the request was sent, and stops at whichever
limit comes first.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs
import httpx

from ._errors import ResponseTooLargeError

__all__ = ["BodyLimits", "BoundedBody", "WholeCallTimeout", "readable_at_once", "settled"]

# Headers that describe the body as sent, not as kept: a settled body is decoded.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class WholeCallTimeout(httpx.ReadTimeout):
    """A request that went on past its whole-call deadline, though each read was quick.

    A read timeout to the retry policy and to the error it becomes: the server may
    have acted on the request, so only an idempotent one is sent again.
    """


@attrs.frozen
class BodyLimits:
    """`max_bytes` bounds one decoded API answer; `deadline` (seconds) one request,
    from sending it to its answer's last byte."""

    max_bytes: int
    deadline: float


class BoundedBody:
    """Collects the chunks of one body, refusing to go past its limits."""

    def __init__(
        self,
        limits: BodyLimits,
        *,
        deadline: float | None = None,
        timed: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = limits
        self._deadline = limits.deadline if deadline is None else min(deadline, limits.deadline)
        self._clock = clock
        self._started = clock()
        self._timed = timed
        self._parts: list[bytes] = []
        self._size = 0

    @property
    def timed(self) -> bool:
        """Whether the whole-call deadline applies to this body."""
        return self._timed

    def add(self, chunk: bytes) -> Exception | None:
        """Keep `chunk`; the error to report instead when a limit is passed."""
        self._size += len(chunk)
        if self._size > self._limits.max_bytes:
            return ResponseTooLargeError(self._limits.max_bytes)
        if self._timed and self.time_left() < 0:
            return self.timed_out()
        self._parts.append(chunk)
        return None

    def content(self) -> bytes:
        """Everything collected."""
        return b"".join(self._parts)

    def time_left(self) -> float:
        """Seconds until the deadline (negative once past)."""
        return self._deadline - (self._clock() - self._started)

    def timed_out(self) -> WholeCallTimeout:
        """The error for a request that ran out of time."""
        return WholeCallTimeout(
            f"no complete answer after {self._deadline:g} s, the time allowed for the whole call"
        )


def readable_at_once(response: httpx.Response, limits: BodyLimits) -> bool:
    """Whether `response`'s body can be read in one go and kept as it comes: it says
    its length, within the cap, and is not compressed (so the bytes read are the bytes
    kept, and the HTTP parser refuses any byte past the stated length). Its time still
    needs bounding by whoever reads it."""
    headers = response.headers
    length = headers.get("content-length", "")
    return (
        "content-encoding" not in headers and length.isdigit() and int(length) <= limits.max_bytes
    )


def settled(response: httpx.Response, content: bytes) -> httpx.Response:
    """A closed copy of `response` whose body is `content`, already decoded."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=response.request,
        extensions=response.extensions,
    )
