"""Chat through py302, raw httpx and the official clients, against the same sandbox
answers: whole, streamed (time to the first text chunk, to the end), and the
throughput of a long stream. Every stream is read as its user would read it: the text
of each chunk that carries some (raw httpx parsing each event's JSON to find it)."""

from __future__ import annotations

import importlib
import json
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from bench_common import AUTH, BENCH_KEY, rotated_medians

MESSAGES: Any = [{"role": "user", "content": "a short answer, please"}]
OPENAI_BODY = {"model": "gpt-4o", "messages": MESSAGES}
CLAUDE_BODY = {"model": "claude-sonnet-4-20250514", "max_tokens": 1024, "messages": MESSAGES}
CLAUDE_HEADERS = {**AUTH, "anthropic-version": "2023-06-01"}  # what py302 sends

Streams = dict[str, Callable[[], Iterator[Any]]]


def _official(name: str) -> Any:
    """The official client module, or None (imported by name: the type check of this
    script must pass without it)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def bench_chat(url: str, repeats: int) -> dict[str, Any]:
    """OpenAI and Claude formats: whole answers and short streams."""
    return {
        "openai_format": _format_bench(url, repeats, OpenAIFormat),
        "claude_format": _format_bench(url, repeats, ClaudeFormat),
    }


def bench_stream_throughput(url: str, repeats: int, chunks: int) -> dict[str, Any]:
    """One long answer (the sandbox set to reply `chunks` words, one event each)
    streamed to the end: seconds and chunks per second, each format against its client."""
    out: dict[str, Any] = {"chunks": chunks}
    for name, make in (("openai_format", OpenAIFormat), ("claude_format", ClaudeFormat)):
        with make(url) as (_, streams):
            # Warm up, and count the text chunks each yields.
            counts = {client: sum(1 for _ in chunks_of()) for client, chunks_of in streams.items()}
            _, total = _stream_medians(streams, repeats)
        found: dict[str, Any] = {f"{client}_items": count for client, count in counts.items()}
        for client in streams:
            found[f"{client}_s"] = total[client]
            found[f"{client}_chunks_per_s"] = chunks / total[client]
        for other in streams:
            if other != "py302":
                found[f"py302_speed_over_{other}"] = total[other] / total["py302"]
        out[name] = found
    return out


def _format_bench(url: str, repeats: int, make: Callable[[str], Any]) -> dict[str, Any]:
    with make(url) as (whole, streams):
        for action in whole.values():
            action()  # warm up
        for chunks in streams.values():
            list(chunks())
        whole_s = rotated_medians(whole, repeats)
        first_s, total_s = _stream_medians(streams, max(3, repeats // 2))
    out: dict[str, Any] = {}
    for name in whole:
        out[f"whole_{name}_ms"] = whole_s[name] * 1000
        out[f"stream_first_chunk_{name}_ms"] = first_s[name] * 1000
        out[f"stream_total_{name}_ms"] = total_s[name] * 1000
    for other in whole:
        if other != "py302":
            out[f"whole_py302_over_{other}"] = whole_s["py302"] / whole_s[other]
            out[f"stream_first_chunk_py302_over_{other}"] = first_s["py302"] / first_s[other]
            out[f"stream_total_py302_over_{other}"] = total_s["py302"] / total_s[other]
    return out


class _Clients:
    """py302's client, a raw httpx one and the official one (None when it is not
    installed), closed together."""

    client: Any
    raw: httpx.Client
    theirs: Any

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.raw.close()
        if self.theirs is not None:
            self.theirs.close()


class OpenAIFormat(_Clients):
    """py302, httpx and (when installed) openai, against OpenAI-format chat."""

    def __init__(self, url: str) -> None:
        from py302 import Client, PluginHost

        self.client = Client(
            api_key=BENCH_KEY, base_url=url, plugins=PluginHost(entry_points=False)
        )
        self.raw = httpx.Client(base_url=url, headers=AUTH)
        openai = _official("openai")
        self.theirs = (
            openai.OpenAI(api_key=BENCH_KEY, base_url=url + "/v1", max_retries=0)
            if openai
            else None
        )

    def __enter__(self) -> tuple[dict[str, Callable[[], Any]], Streams]:
        client, raw, theirs = self.client, self.raw, self.theirs
        whole: dict[str, Callable[[], Any]] = {
            "py302": lambda: client.chat.completions(model="gpt-4o", messages=MESSAGES).text,
            "httpx": lambda: raw.post("/v1/chat/completions", json=OPENAI_BODY).json(),
        }

        def py302_chunks() -> Iterator[Any]:
            with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
                yield from stream.text_stream

        def httpx_chunks() -> Iterator[Any]:
            body = {**OPENAI_BODY, "stream": True}
            for event in _sse_json(raw, "/v1/chat/completions", body):
                choices = event.get("choices") or [{}]
                if text := choices[0].get("delta", {}).get("content"):
                    yield text

        streams: Streams = {"py302": py302_chunks, "httpx": httpx_chunks}
        if theirs is not None:
            whole["openai"] = lambda: theirs.chat.completions.create(
                model="gpt-4o", messages=MESSAGES
            )

            def openai_chunks() -> Iterator[Any]:
                for chunk in theirs.chat.completions.create(
                    model="gpt-4o", messages=MESSAGES, stream=True
                ):
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content

            streams["openai"] = openai_chunks
        return whole, streams


class ClaudeFormat(_Clients):
    """py302, httpx and (when installed) anthropic, against Claude-format messages."""

    def __init__(self, url: str) -> None:
        from py302 import Client, PluginHost

        self.client = Client(
            api_key=BENCH_KEY, base_url=url, plugins=PluginHost(entry_points=False)
        )
        self.raw = httpx.Client(base_url=url, headers=CLAUDE_HEADERS)
        anthropic = _official("anthropic")
        self.theirs = (
            anthropic.Anthropic(api_key=BENCH_KEY, base_url=url, max_retries=0)
            if anthropic
            else None
        )

    def __enter__(self) -> tuple[dict[str, Callable[[], Any]], Streams]:
        client, raw, theirs = self.client, self.raw, self.theirs
        model, limit = CLAUDE_BODY["model"], 1024
        whole: dict[str, Callable[[], Any]] = {
            "py302": lambda: (
                client.claude.messages(model=model, max_tokens=limit, messages=MESSAGES).text
            ),
            "httpx": lambda: raw.post("/v1/messages", json=CLAUDE_BODY).json(),
        }

        def py302_chunks() -> Iterator[Any]:
            with client.claude.messages.stream(
                model=model, max_tokens=limit, messages=MESSAGES
            ) as stream:
                yield from stream.text_stream

        def httpx_chunks() -> Iterator[Any]:
            for event in _sse_json(raw, "/v1/messages", {**CLAUDE_BODY, "stream": True}):
                if event.get("type") == "content_block_delta" and (
                    text := event.get("delta", {}).get("text")
                ):
                    yield text

        streams: Streams = {"py302": py302_chunks, "httpx": httpx_chunks}
        if theirs is not None:
            whole["anthropic"] = lambda: theirs.messages.create(
                model=model, max_tokens=limit, messages=MESSAGES
            )

            def anthropic_chunks() -> Iterator[Any]:
                with theirs.messages.stream(
                    model=model, max_tokens=limit, messages=MESSAGES
                ) as stream:
                    yield from stream.text_stream

            streams["anthropic"] = anthropic_chunks
        return whole, streams


def _sse_json(raw: httpx.Client, path: str, body: Any) -> Iterator[Any]:
    """The JSON of each event of a streamed answer, read line by line with httpx."""
    with raw.stream("POST", path, json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data:") and line != "data: [DONE]":
                yield json.loads(line[5:])


def _stream_medians(streams: Streams, repeats: int) -> tuple[dict[str, float], dict[str, float]]:
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
