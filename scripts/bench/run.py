"""py302 benchmarks: every figure a median of repeated runs, every comparison a ratio
measured in the same run, so the numbers hold on a noisy machine.

    python scripts/bench/run.py                # full sizes, table + scripts/bench/results.json
    python scripts/bench/run.py --quick        # tiny sizes (what the smoke test runs)

Sections: import time, per-call overhead (vs raw httpx), polling (vs the minimum),
concurrency, download memory, code generation (vs datamodel-code-generator's CLI and
openapi-python-client). Tools that are not installed are reported as such.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
#: As long as a real key, so every client pays what it pays for one (py302 keeps a key
#: out of what it shows, which a five-letter stand-in would be too short to need).
BENCH_KEY = "sk-bench-" + "0123456789abcdef" * 3


def rotated_medians(actions: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median seconds of each action, run in turn each round so drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeats):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def paired_times(
    ours: Callable[[], Any], theirs: Callable[[], Any], repeats: int
) -> tuple[float, float]:
    """Median seconds of two actions measured alternately, so drift hits both alike."""
    found = rotated_medians({"ours": ours, "theirs": theirs}, repeats)
    return found["ours"], found["theirs"]


def median_time(action: Callable[[], Any], repeats: int) -> float:
    """Median seconds of `action` over `repeats` runs."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@contextmanager
def sandbox_process(*extra: str) -> Iterator[str]:
    """`py302 sandbox serve` in its own process: the server never competes for our GIL."""
    sys.path.insert(0, str(ROOT))
    from tests.support import start_sandbox_process

    server, url = start_sandbox_process(*extra)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


# -- import --------------------------------------------------------------------------------


def bench_import(repeats: int) -> dict[str, Any]:
    def cost(module: str) -> float | None:
        probe = subprocess.run([PY, "-c", f"import {module}"], capture_output=True, check=False)
        if probe.returncode != 0:
            return None
        baseline = median_time(lambda: subprocess.run([PY, "-c", "pass"], check=True), repeats)
        return (
            median_time(lambda: subprocess.run([PY, "-c", f"import {module}"], check=True), repeats)
            - baseline
        )

    found = {name: cost(name) for name in ("py302", "httpx", "openai")}
    found["py302_client"] = cost("py302; py302.Client")  # what a program that calls the API pays
    out: dict[str, Any] = {f"{name}_s": value for name, value in found.items()}
    out["py302_client_over_httpx"] = (
        found["py302_client"] / found["httpx"] if found["httpx"] and found["py302_client"] else None
    )
    out["py302_over_httpx"] = (
        found["py302"] / found["httpx"] if found["httpx"] and found["py302"] else None
    )
    out["openai_over_httpx"] = (
        found["openai"] / found["httpx"] if found["httpx"] and found["openai"] else None
    )
    return out


# -- per-call overhead ---------------------------------------------------------------------


def bench_calls(url: str, repeats: int) -> dict[str, Any]:
    from py302 import AsyncClient, Client, PluginHost

    host = PluginHost(entry_points=False)
    auth = {"Authorization": f"Bearer {BENCH_KEY}"}
    out: dict[str, Any] = {}
    with (
        Client(api_key=BENCH_KEY, base_url=url, plugins=host) as client,
        httpx.Client(base_url=url) as raw,
    ):
        client.flux.dev(prompt="warm up")
        raw.post("/302/submit/flux-dev", json={"prompt": "warm up"}, headers=auth)
        py302_json, raw_json = paired_times(
            lambda: client.flux.dev(prompt="x"),
            lambda: raw.post("/302/submit/flux-dev", json={"prompt": "x"}, headers=auth).json(),
            repeats,
        )

        def big() -> Any:
            return client.stability.erase(image=b"\x89PNG", output="bytes")

        def raw_big() -> bytes:
            return raw.post(
                "/sd/v2beta/stable-image/edit/erase",
                files={"image": ("i.png", b"\x89PNG")},
                headers={**auth, "Accept": "image/*"},
            ).content

        size = len(raw_big())
        py302_binary, raw_binary = paired_times(big, raw_big, max(3, repeats // 10))
    out.update(
        sync_json_py302_ms=py302_json * 1000,
        sync_json_httpx_ms=raw_json * 1000,
        sync_json_overhead=(py302_json - raw_json) / raw_json,
        binary_bytes=size,
        sync_binary_py302_ms=py302_binary * 1000,
        sync_binary_httpx_ms=raw_binary * 1000,
        sync_binary_overhead=(py302_binary - raw_binary) / raw_binary,
    )

    async def async_pair() -> tuple[float, float]:
        async with (
            AsyncClient(api_key=BENCH_KEY, base_url=url, plugins=host) as client,
            httpx.AsyncClient(base_url=url) as raw,
        ):
            await client.flux.dev(prompt="warm up")

            mine: list[float] = []
            raws: list[float] = []
            for _ in range(repeats):
                started = time.perf_counter()
                await client.flux.dev(prompt="x")
                mine.append(time.perf_counter() - started)
                started = time.perf_counter()
                await raw.post("/302/submit/flux-dev", json={"prompt": "x"}, headers=auth)
                raws.append(time.perf_counter() - started)
            ours, theirs = statistics.median(mine), statistics.median(raws)
            return ours, theirs

    ours, theirs = asyncio.run(async_pair())
    out.update(
        async_json_py302_ms=ours * 1000,
        async_json_httpx_ms=theirs * 1000,
        async_json_overhead=(ours - theirs) / theirs,
    )
    out["openai_chat"] = bench_chat(url, repeats)
    return out


def bench_chat(url: str, repeats: int) -> dict[str, Any] | str:
    """Chat completions, whole and streamed, through py302, raw httpx and the openai SDK,
    all against the sandbox (which streams the same reply event by event): the total
    time of each, and for streams the time to the first text chunk too."""
    try:
        # Through importlib: the type check of this script must pass without openai.
        openai: Any = importlib.import_module("openai")
    except ImportError:
        return "not measured: openai is not installed (pip install -e '.[bench]')"
    from py302 import Client, PluginHost

    messages: Any = [{"role": "user", "content": "a short answer, please"}]
    body = {"model": "gpt-4o", "messages": messages}
    headers = {"Authorization": f"Bearer {BENCH_KEY}"}
    with (
        Client(api_key=BENCH_KEY, base_url=url, plugins=PluginHost(entry_points=False)) as client,
        openai.OpenAI(api_key=BENCH_KEY, base_url=url + "/v1", max_retries=0) as theirs,
        httpx.Client(base_url=url, headers=headers) as raw,
    ):
        whole: dict[str, Callable[[], Any]] = {
            "py302": lambda: client.chat.completions(model="gpt-4o", messages=messages).text,
            "httpx": lambda: raw.post("/v1/chat/completions", json=body).json(),
            "openai": lambda: theirs.chat.completions.create(model="gpt-4o", messages=messages),
        }

        def py302_chunks() -> Iterator[Any]:
            with client.chat.completions.stream(model="gpt-4o", messages=messages) as stream:
                yield from stream.text_stream

        def httpx_chunks() -> Iterator[Any]:
            streamed = {**body, "stream": True}
            with raw.stream("POST", "/v1/chat/completions", json=streamed) as response:
                for line in response.iter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        yield json.loads(line[6:])

        def openai_chunks() -> Iterator[Any]:
            yield from theirs.chat.completions.create(
                model="gpt-4o", messages=messages, stream=True
            )

        streams = {"py302": py302_chunks, "httpx": httpx_chunks, "openai": openai_chunks}
        for action in whole.values():
            action()  # warm up
        for chunks in streams.values():
            list(chunks())
        whole_s = rotated_medians(whole, repeats)
        first_s, total_s = _stream_medians(streams, max(3, repeats // 2))
    out: dict[str, Any] = {}
    for name in ("py302", "httpx", "openai"):
        out[f"whole_{name}_ms"] = whole_s[name] * 1000
        out[f"stream_first_chunk_{name}_ms"] = first_s[name] * 1000
        out[f"stream_total_{name}_ms"] = total_s[name] * 1000
    for other in ("httpx", "openai"):
        out[f"whole_py302_over_{other}"] = whole_s["py302"] / whole_s[other]
        out[f"stream_first_chunk_py302_over_{other}"] = first_s["py302"] / first_s[other]
        out[f"stream_total_py302_over_{other}"] = total_s["py302"] / total_s[other]
    return out


def _stream_medians(
    streams: dict[str, Callable[[], Iterator[Any]]], repeats: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Median seconds to the first chunk and to the end of each stream, in turn."""
    first: dict[str, list[float]] = {name: [] for name in streams}
    total: dict[str, list[float]] = {name: [] for name in streams}
    for _ in range(repeats):
        for name, chunks in streams.items():
            started = time.perf_counter()
            iterator = chunks()
            next(iterator)
            first[name].append(time.perf_counter() - started)
            for _chunk in iterator:
                pass
            total[name].append(time.perf_counter() - started)
    median = statistics.median
    return (
        {name: median(values) for name, values in first.items()},
        {name: median(values) for name, values in total.items()},
    )


# -- polling -------------------------------------------------------------------------------


def bench_polling(task_seconds: float) -> dict[str, Any]:
    from py302 import Client, PluginHost
    from py302.sandbox import Sandbox

    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

        def sleep(self, seconds: float) -> None:
            self.now += seconds

    calls: dict[str, tuple[str, str, dict[str, Any]]] = {
        "flux.bfl": ("flux", "generate", {"model": "flux-dev", "prompt": "x"}),
        "kling.images": ("kling", "images_generations", {"model_name": "kling-v2", "prompt": "x"}),
        "stability.async": ("stability", "upscale_creative", {"image": b"x", "prompt": "x"}),
        "gongji.task": ("gongji", "create_flux_dev_task", {"prompt": "x"}),
    }
    out: dict[str, Any] = {"task_seconds": task_seconds, "minimum_polls": 1}
    for hints in (False, True):
        clock = Clock()
        sandbox = Sandbox(task_seconds=task_seconds, clock=clock, hints=hints)
        with sandbox:
            client = Client(
                api_key="b",
                base_url=sandbox.base_url,
                plugins=PluginHost(entry_points=False),
                sleep=clock.sleep,
            )
            with client:
                for pattern, (provider, op, kwargs) in calls.items():
                    sandbox.state.requests.clear()
                    started = clock.now
                    getattr(client.provider(provider), op)(**kwargs).wait()
                    polls = len(sandbox.state.requests) - 1
                    key = f"{pattern}{'+hints' if hints else ''}"
                    out[key] = {
                        "polls": polls,
                        "ratio": polls / 1,
                        "seconds_to_result": clock.now - started,
                    }
    return out


# -- concurrency ---------------------------------------------------------------------------


def bench_concurrency(url: str, sizes: list[int], task_seconds: float) -> dict[str, Any]:
    from py302 import AsyncClient, PluginHost

    async def run(n: int) -> None:
        async with AsyncClient(
            api_key="b", base_url=url, plugins=PluginHost(entry_points=False)
        ) as client:

            async def one(i: int) -> None:
                task = await client.flux.generate(model="flux-dev", prompt=f"{i}")
                await task.wait(timeout=300)

            await asyncio.gather(*(one(i) for i in range(n)))

    out: dict[str, Any] = {"task_seconds": task_seconds}
    for n in sizes:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        asyncio.run(run(n))
        wall = time.perf_counter() - started
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        out[str(n)] = {
            "wall_s": wall,
            "over_one_task": wall / task_seconds,
            "target_s": 1.2 * task_seconds + 2,
            "peak_rss_growth_mib": grown,
        }
    return out


# -- downloads -----------------------------------------------------------------------------


def bench_download(url: str, mib: int) -> dict[str, Any]:
    from py302 import Asset, Client, PluginHost

    with (
        Client(api_key="b", base_url=url, plugins=PluginHost(entry_points=False)) as client,
        tempfile.TemporaryDirectory() as folder,
    ):
        asset = Asset(url=f"{url}/sandbox/blob/{mib}", downloader=client)
        tracemalloc.start()
        started = time.perf_counter()
        saved = asset.save(Path(folder) / "blob.bin")
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = saved.stat().st_size
    return {"mib": mib, "bytes": size, "seconds": seconds, "peak_python_alloc_mib": peak / 2**20}


# -- codegen -------------------------------------------------------------------------------


def bench_codegen() -> dict[str, Any]:
    """The generator on the project's fragments, and on the generator's test zoo (its
    zoo and wire fragments and the two plain documents), each beside
    datamodel-code-generator's and openapi-python-client's CLIs on the same files."""
    zoo = ROOT / "tests" / "codegen" / "fixtures"
    with tempfile.TemporaryDirectory() as folder:
        zoo_specs = Path(folder) / "zoo-specs"
        zoo_specs.mkdir()
        for document in [*sorted((zoo / "specs").glob("*.yaml")), *sorted(zoo.glob("plain*/*"))]:
            shutil.copy(document, zoo_specs / document.name)
        results = codegen_times(ROOT / "specs", Path(folder) / "project")
        results["zoo"] = codegen_times(zoo_specs, Path(folder) / "zoo")
    return results


def codegen_times(specs: Path, work: Path) -> dict[str, Any]:
    from py302.codegen import generate

    out: dict[str, Any] = {}
    work.mkdir()
    target = work / "gen"
    started = time.perf_counter()
    generate(specs, target, package="bench_gen", force=True)
    out["py302_full_s"] = time.perf_counter() - started
    started = time.perf_counter()
    generate(specs, target, package="bench_gen")
    out["py302_noop_s"] = time.perf_counter() - started
    fragments = sorted(p for p in specs.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
    out["documents"] = len(fragments)
    dmc = shutil.which("datamodel-codegen")
    if dmc:
        started = time.perf_counter()
        for fragment in fragments:
            subprocess.run(
                [
                    dmc,
                    "--input",
                    str(fragment),
                    "--input-file-type",
                    "openapi",
                    "--output",
                    str(work / f"{fragment.stem}_dmc.py"),
                    "--output-model-type",
                    "dataclasses.dataclass",
                    "--formatters",
                    "ruff-format",
                ],
                capture_output=True,
                check=False,
            )
        out["datamodel_codegen_cli_s"] = time.perf_counter() - started
    opc = shutil.which("openapi-python-client")
    if opc:
        failures = 0
        started = time.perf_counter()
        for fragment in fragments:
            done = subprocess.run(
                [
                    opc,
                    "generate",
                    "--path",
                    str(fragment),
                    "--output-path",
                    str(work / f"{fragment.stem}_opc"),
                    "--overwrite",
                ],
                capture_output=True,
                check=False,
            )
            failures += done.returncode != 0
        out["openapi_python_client_s"] = time.perf_counter() - started
        out["openapi_python_client_failed_fragments"] = failures
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()
    quick = args.quick
    results: dict[str, Any] = {
        "quick": quick,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    results["import"] = bench_import(3 if quick else 15)
    with sandbox_process("--task-seconds", "2", "--image-px", "64" if quick else "1300") as url:
        results["calls"] = bench_calls(url, 5 if quick else 200)
        results["concurrency"] = bench_concurrency(url, [5] if quick else [100, 1000], 2.0)
        results["download"] = bench_download(url, 1 if quick else 100)
    results["polling"] = bench_polling(7.3)
    results["codegen"] = bench_codegen()
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
