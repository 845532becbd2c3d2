"""The asynchronous client's pools: requests go to the least busy, and give their
slot back when their answer's body closes."""

from __future__ import annotations

import asyncio
import socket

import httpx

from py302._async_pool import SHARD_CONNECTIONS, ShardedTransport, _readable
from py302.sandbox import Sandbox


def test_connections_are_split_into_small_pools() -> None:
    transport = ShardedTransport(100)
    assert len(transport.busy) == 7
    sizes = [shard._pool._max_connections for shard in transport._shards]
    assert sorted(sizes) == [14, 14, 14, 14, 14, 15, 15]  # 100 in all
    assert all(count == 0 for count in transport.busy)
    assert len(ShardedTransport(SHARD_CONNECTIONS).busy) == 1


def test_requests_go_to_the_least_busy_pool_until_their_body_closes() -> None:
    async def run() -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], int]:
        transport = ShardedTransport(3 * SHARD_CONNECTIONS)
        with Sandbox() as sandbox:
            async with httpx.AsyncClient(transport=transport, base_url=sandbox.base_url) as http:
                requests = [http.build_request("GET", "/sandbox/blob/1") for _ in range(4)]
                opened = [await http.send(request, stream=True) for request in requests]
                spread = transport.busy
                await opened[0].aread()  # reading to the end closes the body
                await opened[1].aread()
                after = transport.busy
                for response in opened[2:]:
                    await response.aread()
                connections = transport.connection_count()
                return spread, after, transport.busy, connections

    spread, after, idle, connections = asyncio.run(run())
    assert spread == (2, 1, 1)
    assert after == (1, 0, 1)  # the first and second answers came from pools 0 and 1
    assert idle == (0, 0, 0)
    assert connections == 4  # kept alive for the next requests


def test_a_socket_is_readable_once_its_peer_wrote_or_left() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert not _readable(ours)
        theirs.sendall(b"x")
        assert _readable(ours)
    assert _readable(None)
