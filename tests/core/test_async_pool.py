"""The asynchronous client's pools: one per connection, made as needed; a request
takes an idle one and gives it back when its answer's body closes."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from py302._async_pool import ShardedTransport, _readable
from py302.sandbox import Sandbox


def test_pools_are_made_as_requests_need_them_and_reused_once_idle() -> None:
    async def run() -> dict[str, object]:
        transport = ShardedTransport(3)
        seen: dict[str, object] = {"made": transport.busy}
        with Sandbox() as sandbox:
            async with httpx.AsyncClient(transport=transport, base_url=sandbox.base_url) as http:

                async def opened(count: int) -> list[httpx.Response]:
                    requests = [http.build_request("GET", "/sandbox/blob/1") for _ in range(count)]
                    return [await http.send(request, stream=True) for request in requests]

                first = await opened(2)
                seen["two open"] = transport.busy
                await first[0].aread()  # reading to the end closes the body
                seen["first read"] = transport.busy
                await first[1].aread()
                again = await opened(1)  # the most recently freed pool: the second
                seen["reused"] = transport.busy
                more = await opened(2)  # the idle pool, then a new one: the limit
                queued = asyncio.create_task(http.get("/sandbox/blob/1"))
                await asyncio.sleep(0.05)  # it waits on the least busy pool's connection
                seen["over the limit"] = transport.busy
                for response in again + more:
                    await response.aread()
                await queued
                seen["idle"] = transport.busy
                seen["connections"] = transport.connection_count()
        return seen

    seen = asyncio.run(run())
    assert seen["made"] == ()
    assert seen["two open"] == (1, 1)
    assert seen["first read"] == (0, 1)
    assert seen["reused"] == (0, 1)
    assert seen["over the limit"] == (2, 1, 1)  # the first of the least busy took it
    assert seen["idle"] == (0, 0, 0)
    assert seen["connections"] == 3  # kept alive for the next requests


def test_a_failed_request_gives_its_pool_back() -> None:
    async def run() -> tuple[tuple[int, ...], int]:
        transport = ShardedTransport(2)
        async with httpx.AsyncClient(transport=transport) as http:
            for _ in range(3):
                with pytest.raises(httpx.ConnectError):
                    await http.get("http://127.0.0.1:9/")  # nothing listens on the discard port
        return transport.busy, len(transport.busy)

    busy, pools = asyncio.run(run())
    assert busy == (0,)
    assert pools == 1, "one idle pool serves requests one after another"


def test_a_socket_is_readable_once_its_peer_wrote_or_left() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert not _readable(ours)
        theirs.sendall(b"x")
        assert _readable(ours)
    assert _readable(None)
