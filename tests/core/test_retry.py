"""The retry policy, as pure functions: no network, no clock."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from py302._constants import MAX_RETRY_AFTER, MAX_RETRY_DELAY, MIN_RETRY_DELAY
from py302._retry import parse_retry_after, retry_delay, should_retry

REQUEST = httpx.Request("POST", "https://api.302.ai/x")


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (httpx.ConnectError("refused", request=REQUEST), False, True),  # never reached the server
        (httpx.ConnectTimeout("slow", request=REQUEST), False, True),
        (httpx.PoolTimeout("busy", request=REQUEST), False, True),
        (httpx.ReadTimeout("slow", request=REQUEST), False, False),  # a paid submit may be running
        (httpx.ReadTimeout("slow", request=REQUEST), True, True),
        (httpx.RemoteProtocolError("reset", request=REQUEST), False, False),
        (httpx.RemoteProtocolError("reset", request=REQUEST), True, True),
    ],
)
def test_transport_errors(error: Exception, idempotent: bool, expected: bool) -> None:
    assert should_retry(attempt=0, max_retries=2, idempotent=idempotent, error=error) is expected


@pytest.mark.parametrize(
    ("status", "idempotent", "expected"),
    [
        (429, False, True),
        (408, False, True),
        (500, False, False),
        (502, False, False),
        (503, True, True),
        (504, True, True),
        (400, True, False),
        (404, True, False),
        (200, True, False),
    ],
)
def test_statuses(status: int, idempotent: bool, expected: bool) -> None:
    assert should_retry(attempt=0, max_retries=2, idempotent=idempotent, status=status) is expected


def test_attempts_are_bounded() -> None:
    assert should_retry(attempt=1, max_retries=2, idempotent=True, status=503)
    assert not should_retry(attempt=2, max_retries=2, idempotent=True, status=503)
    assert not should_retry(attempt=0, max_retries=0, idempotent=True, status=429)


def test_retry_after_seconds_and_milliseconds() -> None:
    assert retry_delay(0, {"retry-after": "3"}) == 3.0
    assert retry_delay(0, {"retry-after-ms": "250"}) == 0.25
    assert retry_delay(0, {"retry-after": f"{MAX_RETRY_AFTER + 1}"}) is None


def test_retry_after_http_date() -> None:
    when = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": when}, now=lambda: 1_000_000) == pytest.approx(30)


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    assert retry_delay(0, {}, rng=lambda: 1.0) == MIN_RETRY_DELAY
    assert retry_delay(0, {}, rng=lambda: 0.0) == MIN_RETRY_DELAY * 0.75
    assert retry_delay(1, {}, rng=lambda: 1.0) == MIN_RETRY_DELAY * 2
    assert retry_delay(20, {}, rng=lambda: 1.0) == MAX_RETRY_DELAY


def test_unparseable_retry_after_falls_back_to_backoff() -> None:
    assert retry_delay(0, {"retry-after": "soon"}, rng=lambda: 1.0) == MIN_RETRY_DELAY
