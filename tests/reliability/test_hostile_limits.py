"""A server cannot hold a call open, or fill the memory, for as long as it likes.

Timeouts bound the whole call (httpx bounds each read only, which a trickling server
never trips) and `wait(timeout)` the whole wait. API answers and result files are
capped by their decoded size, so a gzip bomb or an endless body stops at the cap;
the size cases run the client in a subprocess whose address space is limited, where
reading past the cap would end in `MemoryError`.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import resource
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from py302 import (
    APITimeoutError,
    AsyncClient,
    Client,
    ConfigurationError,
    DownloadTooLargeError,
    PluginHost,
    Py302Error,
    ResponseTooLargeError,
    TaskTimeoutError,
)
from tests.reliability.hostile import RAW, Seen, hostile

KEY = "sk-canary-7f3a9c1e5b2d"
JSON = {"content-type": "application/json"}


def client(url: str, **options: Any) -> Client:
    return Client(api_key=KEY, base_url=url, plugins=PluginHost(entry_points=False), **options)


def trickle(body: bytes, every: float) -> Iterator[bytes]:
    for byte in body:
        time.sleep(every)
        yield bytes([byte])


# -- time ---------------------------------------------------------------------------------


def test_a_trickling_answer_cannot_outlast_the_timeout() -> None:
    body = json.dumps({"images": [{"url": "https://x.test/a.png"}]}).encode()

    def answer(seen: Seen) -> tuple[int, dict[str, str], Iterator[bytes]]:
        return 200, JSON, trickle(body, 0.1)  # ~4 s in all, each byte well within 1 s

    with hostile(answer) as api, client(api.url, timeout=1.0, max_retries=0) as c:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="whole call"):
            c.flux.dev(prompt="x")
        assert time.monotonic() - started < 2.0


TRICKLED_HEADERS = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: "
    + b"p" * 60
    + b"\r\nContent-Length: 2\r\n\r\n{}"
)


def test_trickled_headers_cannot_outlast_the_timeout() -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], Iterator[bytes]]:
        return RAW, {}, trickle(TRICKLED_HEADERS, 0.1)  # ~12 s of headers

    with hostile(answer) as api, client(api.url, timeout=1.0, max_retries=0) as c:
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            c.flux.dev(prompt="x")
        assert time.monotonic() - started < 2.0


def test_trickled_headers_cannot_outlast_the_timeout_async() -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], Iterator[bytes]]:
        return RAW, {}, trickle(TRICKLED_HEADERS, 0.1)

    async def call(url: str) -> None:
        plugins = PluginHost(entry_points=False)
        options: dict[str, Any] = {"timeout": 1.0, "max_retries": 0, "plugins": plugins}
        async with AsyncClient(api_key=KEY, base_url=url, **options) as c:
            await c.flux.dev(prompt="x")

    with hostile(answer) as api:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="whole call"):
            asyncio.run(call(api.url))
        assert time.monotonic() - started < 2.0


def test_a_trickling_answer_cannot_outlast_the_timeout_async() -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], Iterator[bytes]]:
        return 200, JSON, trickle(b'{"images": []}' + b" " * 40, 0.1)

    async def call(url: str) -> None:
        plugins = PluginHost(entry_points=False)
        options: dict[str, Any] = {"timeout": 1.0, "max_retries": 0, "plugins": plugins}
        async with AsyncClient(api_key=KEY, base_url=url, **options) as c:
            await c.flux.dev(prompt="x")

    with hostile(answer) as api:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="whole call"):
            asyncio.run(call(api.url))
        assert time.monotonic() - started < 2.0


def _sized_trickle() -> Iterator[bytes]:
    """An answer that states its length, its headers at once, its body a byte at a
    time: the kind py302 reads in one go instead of chunk by chunk."""
    body = json.dumps({"images": [{"url": "https://x.test/a.png"}]}).encode()
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    yield b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    yield from trickle(body, 0.1)


def test_a_trickling_answer_of_stated_length_cannot_outlast_the_timeout() -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], Iterator[bytes]]:
        return RAW, {}, _sized_trickle()

    with hostile(answer) as api, client(api.url, timeout=1.0, max_retries=0) as c:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="whole call"):
            c.flux.dev(prompt="x")
        assert time.monotonic() - started < 2.0


def test_a_trickling_answer_of_stated_length_cannot_outlast_the_timeout_async() -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], Iterator[bytes]]:
        return RAW, {}, _sized_trickle()

    async def call(url: str) -> None:
        plugins = PluginHost(entry_points=False)
        options: dict[str, Any] = {"timeout": 1.0, "max_retries": 0, "plugins": plugins}
        async with AsyncClient(api_key=KEY, base_url=url, **options) as c:
            await c.flux.dev(prompt="x")

    with hostile(answer) as api:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="whole call"):
            asyncio.run(call(api.url))
        assert time.monotonic() - started < 2.0


def test_a_trickling_answer_of_stated_length_is_bounded_with_an_own_http_client() -> None:
    """An httpx client passed in has no deadline on its sockets: its answers are read
    chunk by chunk, each chunk checked against the deadline."""

    def answer(seen: Seen) -> tuple[int, dict[str, str], Iterator[bytes]]:
        return RAW, {}, _sized_trickle()

    with (
        hostile(answer) as api,
        httpx.Client(timeout=1.0) as own,
        client(api.url, timeout=1.0, max_retries=0, http_client=own) as c,
    ):
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="whole call"):
            c.flux.dev(prompt="x")
        assert time.monotonic() - started < 2.5


def test_a_trickling_poll_cannot_stretch_a_wait() -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes | Iterator[bytes]]:
        if seen.method == "POST":
            return 200, JSON, b'{"id": "t-1"}'
        return 200, JSON, trickle(b'{"status": "Pending"}', 0.2)  # 4 s per poll

    with hostile(answer) as api, client(api.url) as c:
        task = c.flux.generate(model="flux-pro-1.1", prompt="x")
        started = time.monotonic()
        with pytest.raises(TaskTimeoutError) as caught:
            task.wait(timeout=1.5)
        waited = time.monotonic() - started
    # The poll sent as the deadline nears gets at most a second of its own.
    assert waited < 1.5 + 1.0 + 0.5
    assert caught.value.task_id == "t-1"


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan")])
def test_a_timeout_that_is_no_duration_is_refused(timeout: float) -> None:
    with pytest.raises(ConfigurationError, match="timeout must be seconds above 0"):
        client("http://127.0.0.1:9", timeout=timeout)


@pytest.mark.parametrize("option", ["max_response_bytes", "max_download_bytes"])
@pytest.mark.parametrize("value", [0, -5, True])
def test_a_size_cap_that_is_no_size_is_refused(option: str, value: int) -> None:
    with pytest.raises(ConfigurationError, match=option):
        client("http://127.0.0.1:9", **{option: value})


# -- size, in this process (small caps) ---------------------------------------------------


def test_an_answer_past_the_cap_is_refused_and_names_the_option() -> None:
    big = json.dumps({"images": [], "pad": "x" * 200_000}).encode()
    with (
        hostile(lambda seen: (200, JSON, big)) as api,
        client(api.url, max_response_bytes=100_000) as c,
        pytest.raises(ResponseTooLargeError, match="max_response_bytes") as caught,
    ):
        c.flux.dev(prompt="x")
    assert caught.value.operation == "flux.dev"
    assert len(api.seen) == 1  # a cap is no reason to send again


def test_a_compressed_answer_counts_by_what_it_decodes_to() -> None:
    bomb = gzip.compress(b" " * 2_000_000)  # ~2 kB on the wire
    headers = {**JSON, "content-encoding": "gzip"}
    with (
        hostile(lambda seen: (200, headers, bomb)) as api,
        client(api.url, max_response_bytes=1_000_000) as c,
        pytest.raises(ResponseTooLargeError),
    ):
        c.flux.dev(prompt="x")


def test_a_download_past_the_cap_leaves_no_file(tmp_path: Path) -> None:
    bomb = gzip.compress(b"\0" * 3_000_000)

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if seen.path == "/file.png":
            return 200, {"content-type": "image/png", "content-encoding": "gzip"}, bomb
        return 200, JSON, json.dumps({"images": [{"url": f"{url[0]}/file.png"}]}).encode()

    url: list[str] = []
    with hostile(answer) as api, client(api.url, max_download_bytes=1_000_000) as c:
        url.append(api.url)
        result = c.flux.dev(prompt="x")
        with pytest.raises(DownloadTooLargeError, match="max_download_bytes") as caught:
            result.save(tmp_path / "out")
        with pytest.raises(DownloadTooLargeError):
            result.asset.read()
    assert isinstance(caught.value, Py302Error)
    assert list((tmp_path / "out").iterdir()) == []  # no file, no .part left behind


# -- size, in a process with little memory (default caps) ---------------------------------

_CHILD = textwrap.dedent(
    """
    import sys
    from py302 import Client, PluginHost, Py302Error
    caps = {"max_download_bytes": 64 * 1024**2} if sys.argv[2] == "read" else {}
    with Client(api_key="sk-canary-7f3a9c1e5b2d", base_url=sys.argv[1],
                plugins=PluginHost(entry_points=False), **caps) as client:
        try:
            result = client.flux.dev(prompt="x")
            if sys.argv[2] == "read":
                result.asset.read()
        except Py302Error as error:
            print(type(error).__name__)
    """
)
MEMORY_LIMIT = 1024**3  # address space: interpreter, httpx, and no more than the cap


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_limited(url: str, mode: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MALLOC_ARENA_MAX": "2"}
    return subprocess.run(
        [sys.executable, "-c", _CHILD, url, mode],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limited,
        env=env,
        check=False,
    )


def endless() -> Iterator[bytes]:
    chunk = b"[" * 65536
    while True:
        yield chunk


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """1.5 GiB of zeros as ~7 MB of gzip: more than the child's memory holds."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024**2)
    return b"".join([*(packer.compress(block) for _ in range(1536)), packer.flush()])


@pytest.mark.parametrize("case", ["endless", "bomb"])
def test_a_huge_api_answer_stops_at_the_default_cap(case: str, bomb: bytes) -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes | Iterator[bytes]]:
        if case == "endless":
            return 200, JSON, endless()
        return 200, {**JSON, "content-encoding": "gzip"}, bomb

    with hostile(answer) as api:
        done = run_limited(api.url, "call")
    assert done.stdout.strip() == "ResponseTooLargeError", done.stderr[-2000:]


def test_a_download_bomb_read_into_memory_stops_at_the_cap(bomb: bytes) -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if seen.path == "/file.png":
            return 200, {"content-type": "image/png", "content-encoding": "gzip"}, bomb
        return 200, JSON, json.dumps({"images": [{"url": f"{url[0]}/file.png"}]}).encode()

    url: list[str] = []
    with hostile(answer) as api:
        url.append(api.url)
        done = run_limited(api.url, "read")
    assert done.stdout.strip() == "DownloadTooLargeError", done.stderr[-2000:]


def _talks_after_its_end_marker(seen: Seen) -> tuple[int, dict[str, str], Iterator[bytes]]:
    def events() -> Iterator[bytes]:
        delta = {"choices": [{"index": 0, "delta": {"content": "hi"}}]}
        yield f"data: {json.dumps(delta)}\n\n".encode()
        yield b"data: [DONE]\n\n"
        for _ in range(50):  # then 5 s more of something, which must not be waited for
            time.sleep(0.1)
            yield b": still here\n\n"

    return 200, {"content-type": "text/event-stream"}, events()


def test_a_server_that_talks_after_its_end_marker_costs_no_wait() -> None:
    with hostile(_talks_after_its_end_marker) as api, client(api.url, max_retries=0) as c:
        started = time.monotonic()
        with c.chat.completions.stream(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}]
        ) as stream:
            assert list(stream.text_stream) == ["hi"]
        assert time.monotonic() - started < 2.0


def test_a_server_that_talks_after_its_end_marker_costs_no_async_wait() -> None:
    async def read(url: str) -> list[str]:
        async with AsyncClient(
            api_key=KEY, base_url=url, plugins=PluginHost(entry_points=False), max_retries=0
        ) as c:
            stream = await c.chat.completions.stream(
                model="gpt-4o", messages=[{"role": "user", "content": "x"}]
            )
            async with stream:
                return [text async for text in stream.text_stream]

    with hostile(_talks_after_its_end_marker) as api:
        started = time.monotonic()
        assert asyncio.run(read(api.url)) == ["hi"]
        assert time.monotonic() - started < 2.0
