"""The connection pool of the asynchronous client py302 makes for itself.

httpcore's pool looks at every connection for every queued request each time a
request starts or an answer ends (is it closed, expired, idle, readable?): with many
connections and requests under way that scan grows with the square of the pool and
cost more than everything else a task's polls do. Here each connection is a pool of
its own, so the scan has one connection to look at: a request takes an idle one (the
most recently freed, whose connection is the likeliest to be alive), a new one while
there are fewer than the limit, else the least busy. A connection also answers "is the
socket readable" from the socket itself, not through anyio, which looked up the
peer's address every time.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["ShardedTransport"]


class ShardedTransport(httpx.AsyncBaseTransport):
    """Up to `connections` keep-alive connections, each in a pool of its own."""

    def __init__(self, connections: int) -> None:
        self._limit = max(1, connections)
        self._shards: list[httpx.AsyncHTTPTransport] = []
        self._busy: list[int] = []
        #: Pools with nothing under way, the most recently freed last.
        self._idle: list[int] = []
        self._tls: ssl.SSLContext | None = None  # one for all pools: making one takes ~20 ms

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through an idle pool, a new one, or else the least busy."""
        index = self._take()
        try:
            response = await self._shards[index].handle_async_request(request)
        except BaseException:
            self._give_back(index)
            raise
        response.stream = _Released(response.stream, lambda: self._give_back(index))
        return response

    def _take(self) -> int:
        if self._idle:
            index = self._idle.pop()
        elif len(self._shards) < self._limit:
            index = len(self._shards)
            self._shards.append(self._new_shard())
            self._busy.append(0)
        else:  # more requests under way than connections: they queue on a pool
            index = min(range(len(self._busy)), key=self._busy.__getitem__)
        self._busy[index] += 1
        return index

    def _give_back(self, index: int) -> None:
        self._busy[index] -= 1
        if self._busy[index] == 0:
            self._idle.append(index)

    def _new_shard(self) -> httpx.AsyncHTTPTransport:
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        return _with_quick_readability(httpx.AsyncHTTPTransport(verify=self._tls, limits=one))

    @property
    def busy(self) -> tuple[int, ...]:
        """Requests under way on each connection's pool (an answer counts until its
        body closes), in the order the pools were made."""
        return tuple(self._busy)

    def connection_count(self) -> int:
        """The connections open in all pools together."""
        return sum(len(shard._pool.connections) for shard in self._shards)

    async def aclose(self) -> None:
        """Close every pool."""
        for shard in self._shards:
            await shard.aclose()


class _Released(httpx.AsyncByteStream):
    """An answer's body that gives its pool back when it is closed."""

    def __init__(self, inner: Any, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()
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
