"""The deadline of the socket operations under way (a context variable).

Kept apart from `py302._deadlines`, which wraps httpcore's network backend, so that
reading or setting a deadline does not import httpcore: the drivers set one around
every send, and a program pays for httpcore only when a client makes its transport.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ["DEADLINE", "until"]

DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "py302_deadline", default=None
)


@contextlib.contextmanager
def until(deadline: float) -> Iterator[None]:
    """Socket operations in this block end by `deadline` (a `time.monotonic()` value)."""
    token = DEADLINE.set(deadline)
    try:
        yield
    finally:
        DEADLINE.reset(token)
