"""When a failed request is sent again, and after how long: pure functions.

The policy, in full:

* A request that provably never reached the server is retried whatever it does:
  connection refused, DNS failure, a connect or pool timeout.
* A request the server turned away before doing any work is retried whatever it does:
  HTTP 408 and 429.
* Anything else that failed (5xx, a read timeout, a connection dropped mid-answer) is
  retried only when the operation is idempotent: GET and friends, or an operation the
  spec marks `x-py302-idempotent: true`. A POST that submits a generation is *not*
  sent again, because the server may have accepted and billed the first one; the
  error reaches the caller, who can look the task up instead of paying twice.
* At most `max_retries` retries. The delay doubles from `MIN_RETRY_DELAY` up to
  `MAX_RETRY_DELAY`, with jitter (75-100 %), unless the server sends `Retry-After`:
  then exactly that, and a Retry-After beyond `MAX_RETRY_AFTER` ends the retries.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping

import httpx

from ._constants import MAX_RETRY_AFTER, MAX_RETRY_DELAY, MIN_RETRY_DELAY

__all__ = ["parse_retry_after", "retry_delay", "should_retry"]

_NEVER_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)
_REFUSED_BEFORE_WORK = frozenset({408, 429})


def should_retry(
    *,
    attempt: int,
    max_retries: int,
    idempotent: bool,
    status: int | None = None,
    error: BaseException | None = None,
) -> bool:
    """Whether the attempt numbered `attempt` (0 = first) should be followed by another."""
    if attempt >= max_retries:
        return False
    if error is not None:
        if isinstance(error, _NEVER_SENT):
            return True
        return idempotent and isinstance(error, httpx.TransportError)
    if status is None:
        return False
    if status in _REFUSED_BEFORE_WORK:
        return True
    return idempotent and status >= 500


def parse_retry_after(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asks us to wait (`Retry-After` or `retry-after-ms`), if any."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value.strip() else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - now())


def retry_delay(
    attempt: int,
    headers: Mapping[str, str] | None = None,
    *,
    rng: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before retry number `attempt + 1`; None means do not retry."""
    if headers is not None:
        try:
            asked = parse_retry_after(headers)
        except (TypeError, ValueError):
            asked = None
        if asked is not None:
            return asked if asked <= MAX_RETRY_AFTER else None
    base: float = min(MAX_RETRY_DELAY, MIN_RETRY_DELAY * 2**attempt)
    return base * (0.75 + 0.25 * float(rng()))
