"""The connection pool of the asynchronous client py302 makes for itself.

httpcore looks at every pooled connection each time a request starts or an answer
ends (is it closed, expired, idle?), and asks each idle one whether its socket turned
readable, through anyio, which looks up the peer's address every time. With a pool
of 100 keep-alive connections that scan cost more than everything else a poll does
(the 1,000-task benchmark spent two thirds of the client's time in it). Here the
connections are spread over small pools, each request taking the least busy one, and
a connection answers "is the socket readable" from the socket itself.
"""

from __future__ import annotations

import math
import select
import socket
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["SHARD_CONNECTIONS", "ShardedTransport"]

#: Connections per pool: small enough that a scan is cheap, large enough that a few
#: pools hold a client's connections (pools of 8 measured no better than of 16).
SHARD_CONNECTIONS = 16


class ShardedTransport(httpx.AsyncBaseTransport):
    """`connections` keep-alive connections, in pools of at most `SHARD_CONNECTIONS`."""

    def __init__(self, connections: int) -> None:
        count = max(1, math.ceil(connections / SHARD_CONNECTIONS))
        sizes = [connections // count + (n < connections % count) for n in range(count)]
        tls = httpx.create_ssl_context()  # one for all pools: making one takes ~20 ms
        self._shards = [
            _with_quick_readability(
                httpx.AsyncHTTPTransport(
                    verify=tls,
                    limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                )
            )
            for size in sizes
        ]
        self._busy = [0] * count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the pool with the fewest requests under way."""
        index = min(range(len(self._shards)), key=self._busy.__getitem__)
        self._busy[index] += 1
        try:
            response = await self._shards[index].handle_async_request(request)
        except BaseException:
            self._busy[index] -= 1
            raise
        response.stream = _Released(response.stream, self._busy, index)
        return response

    @property
    def busy(self) -> tuple[int, ...]:
        """Requests under way in each pool (an answer counts until its body closes)."""
        return tuple(self._busy)

    def connection_count(self) -> int:
        """The connections open in all pools together."""
        return sum(len(shard._pool.connections) for shard in self._shards)

    async def aclose(self) -> None:
        """Close every pool."""
        for shard in self._shards:
            await shard.aclose()


class _Released(httpx.AsyncByteStream):
    """An answer's body that gives its pool's slot back when it is closed."""

    def __init__(self, inner: Any, busy: list[int], index: int) -> None:
        self._inner = inner
        self._busy = busy
        self._index = index
        self._open = True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        if self._open:
            self._open = False
            self._busy[self._index] -= 1
        await self._inner.aclose()


def _with_quick_readability(transport: httpx.AsyncHTTPTransport) -> httpx.AsyncHTTPTransport:
    """`transport`, its connections made through `_QuickBackend` (by attribute, as
    `py302._deadlines` does for the synchronous pool; left as it is if httpcore moves
    it)."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.AsyncNetworkBackend):
        pool._network_backend = _QuickBackend(backend)  # type: ignore[union-attr]
    return transport


class _QuickBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _QuickStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return _QuickStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _QuickStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _QuickStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _readable(sock: socket.socket | None) -> bool:
    """Whether a keep-alive connection's socket has something to read (or is gone):
    an idle connection that has is one the server closed."""
    if sock is None or sock.fileno() < 0:
        return True
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([sock], [], [], 0)  # Windows
    return bool(readable)
