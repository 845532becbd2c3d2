"""A whole-call deadline for the synchronous client's sockets.

httpx gives each socket read its own timeout, so a server that sends its headers one
byte a second holds a synchronous request open for as long as it likes (the body is
bounded elsewhere, between chunks: `py302._bodies`). Here every socket operation of
a connection made by py302's own transport waits at most until the deadline of the
call in progress, which the synchronous driver sets (`until`). The asynchronous
driver needs none of this: it bounds a request with `asyncio.wait_for`.

The backend is put into httpx's connection pool by attribute: httpx has no public
way to give its transport a network backend. If a future httpx moves it,
`with_deadlines` leaves the transport as it is (per-read timeouts only) and the
trickled-headers test says so.
"""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpcore
import httpx

from ._deadline_scope import DEADLINE, until

__all__ = ["bounds_sockets", "until", "with_deadlines"]


def with_deadlines(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    """`transport`, its connections made through `DeadlineBackend`."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
    return transport


def bounds_sockets(transport: httpx.HTTPTransport) -> bool:
    """Whether `with_deadlines` could put its backend into `transport`."""
    pool = getattr(transport, "_pool", None)
    return isinstance(getattr(pool, "_network_backend", None), DeadlineBackend)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout`, shortened to the time left before the current deadline."""
    deadline = DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the time allowed for the whole call ran out")
    return left if timeout is None else min(timeout, left)


class DeadlineBackend(httpcore.NetworkBackend):
    """Wraps a network backend so that its streams honour the current deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        """Connect (by the deadline at the latest)."""
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        """Connect to a Unix socket (by the deadline at the latest)."""
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        """Sleep as the inner backend does."""
        self._inner.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)
