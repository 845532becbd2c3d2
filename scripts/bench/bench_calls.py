"""Import time, and what one call costs through py302 beside raw httpx."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bench_common import AUTH, BENCH_KEY, PY, median_time, rotated_medians

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
UPLOAD = bytes(range(256)) * 400  # 100 KiB, what a reference image weighs

# -- import --------------------------------------------------------------------------------


def bench_import(repeats: int, url: str) -> dict[str, Any]:
    """Seconds to import (beyond a bare interpreter's start) in fresh processes, and to
    import and make a first call against the sandbox.

    Bytecode is written and reused, as it is for an installed package (a
    PYTHONDONTWRITEBYTECODE in the environment would have py302, installed editable
    from source, compiled on every run while httpx's site-packages come compiled)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(code: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([PY, "-c", code], capture_output=True, check=False, env=env)

    baseline = median_time(lambda: run("pass"), repeats)

    def cost(code: str) -> float | None:
        if run(code).returncode != 0:  # also the warm-up that writes the bytecode
            return None
        return median_time(lambda: run(code), repeats) - baseline

    py302_call = (
        f"import py302; c = py302.Client(api_key={BENCH_KEY!r}, base_url={url!r}); "
        "c.flux.dev(prompt='x')"
    )
    submit = url + "/302/submit/flux-dev"
    httpx_call = (
        f"import httpx; httpx.post({submit!r}, json={{'prompt': 'x'}}, headers={AUTH!r}).json()"
    )
    found = {
        "py302": cost("import py302"),
        "py302_client": cost("import py302; py302.Client"),
        "httpx": cost("import httpx"),
        "openai": cost("import openai"),
        "py302_first_call": cost(py302_call),
        "httpx_first_call": cost(httpx_call),
    }
    out: dict[str, Any] = {f"{name}_s": value for name, value in found.items()}
    out["py302_client_over_httpx"] = _ratio(found["py302_client"], found["httpx"])
    out["openai_over_httpx"] = _ratio(found["openai"], found["httpx"])
    out["first_call_py302_over_httpx"] = _ratio(
        found["py302_first_call"], found["httpx_first_call"]
    )
    return out


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    return ours / theirs if ours and theirs else None


# -- per-call overhead ---------------------------------------------------------------------


def bench_calls(url: str, repeats: int) -> dict[str, Any]:
    """Each kind of call, sync and async, through py302 and through raw httpx doing the
    same request and reading the answer the same way (JSON parsed, bytes kept)."""
    from py302 import AsyncClient, Client, PluginHost

    host = PluginHost(entry_points=False)
    out: dict[str, Any] = {}
    with (
        Client(api_key=BENCH_KEY, base_url=url, plugins=host) as client,
        httpx.Client(base_url=url, headers=AUTH) as raw,
    ):
        kinds: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
            "json": (
                lambda: client.flux.dev(prompt="x"),
                lambda: raw.post("/302/submit/flux-dev", json={"prompt": "x"}).json(),
            ),
            "binary": (
                lambda: client.stability.erase(image=PNG, output="bytes"),
                lambda: (
                    raw.post(
                        "/sd/v2beta/stable-image/edit/erase",
                        files={"image": ("image.png", PNG)},
                        headers={"Accept": "image/*"},
                    ).content
                ),
            ),
            "multipart": (
                lambda: client.files.upload(file=UPLOAD),
                lambda: raw.post("/302/upload-file", files={"file": ("file.bin", UPLOAD)}).json(),
            ),
        }
        for kind, (ours, theirs) in kinds.items():
            ours()
            theirs()  # warm up: connections open, validators compiled
            times = rotated_medians({"py302": ours, "httpx": theirs}, _rounds(kind, repeats))
            out[f"sync_{kind}_py302_ms"] = times["py302"] * 1000
            out[f"sync_{kind}_httpx_ms"] = times["httpx"] * 1000
            out[f"sync_{kind}_overhead"] = times["py302"] / times["httpx"] - 1

    async def async_kinds() -> dict[str, dict[str, float]]:
        async with (
            AsyncClient(api_key=BENCH_KEY, base_url=url, plugins=host) as client,
            httpx.AsyncClient(base_url=url, headers=AUTH) as raw,
        ):

            async def raw_json() -> Any:
                return (await raw.post("/302/submit/flux-dev", json={"prompt": "x"})).json()

            async def raw_binary() -> bytes:
                answer = await raw.post(
                    "/sd/v2beta/stable-image/edit/erase",
                    files={"image": ("image.png", PNG)},
                    headers={"Accept": "image/*"},
                )
                return answer.content

            async def raw_upload() -> Any:
                answer = await raw.post("/302/upload-file", files={"file": ("file.bin", UPLOAD)})
                return answer.json()

            pairs: dict[str, tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]] = {
                "json": (lambda: client.flux.dev(prompt="x"), raw_json),
                "binary": (lambda: client.stability.erase(image=PNG, output="bytes"), raw_binary),
                "multipart": (lambda: client.files.upload(file=UPLOAD), raw_upload),
            }
            found = {}
            for kind, (ours, theirs) in pairs.items():
                found[kind] = await _async_medians(ours, theirs, _rounds(kind, repeats))
            return found

    for kind, times in asyncio.run(async_kinds()).items():
        out[f"async_{kind}_py302_ms"] = times["py302"] * 1000
        out[f"async_{kind}_httpx_ms"] = times["httpx"] * 1000
        out[f"async_{kind}_overhead"] = times["py302"] / times["httpx"] - 1
    return out


def _rounds(kind: str, repeats: int) -> int:
    # A multi-megabyte answer takes milliseconds, each round as long as many small ones.
    return max(5, repeats // 4) if kind == "binary" else repeats


async def _async_medians(
    ours: Callable[[], Awaitable[Any]], theirs: Callable[[], Awaitable[Any]], repeats: int
) -> dict[str, float]:
    await ours()
    await theirs()
    times: dict[str, list[float]] = {"py302": [], "httpx": []}
    for _ in range(repeats):
        for name, action in (("py302", ours), ("httpx", theirs)):
            started = time.perf_counter()
            await action()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}
