"""Every operation of every provider, called through the client on its example cassette.

The cassettes are written by `py302 cassette examples` from the examples in the specs
(none is recorded traffic; each says so in its provenance). Replaying them checks at
once that each binding builds the request its spec describes, that each plugin reads
the answers (task patterns included), and - through the conftest - that every
interaction agrees with the spec. An operation that can stream has a second cassette,
`<operation>.stream.yaml`, replayed through the stream form, whose `Result` must be
the whole call's: the spec's two examples are one answer. `test_example_cassettes_are_current`
keeps them in step with the specs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import vcr
import yaml
from click.testing import CliRunner

from py302 import AsyncClient, AsyncStream, Client, PluginHost, Result, Stream
from py302.cli import cli
from py302.contracts import STREAM_SUFFIX, with_sample_files
from tests.support import TEST_KEY, no_sleep, no_sleep_async, project_registries

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "test_examples"
OPERATIONS = sorted(
    (registry.provider, op_id) for registry in project_registries() for op_id in registry.operations
)


# Operations that answer whole or streamed on request: a second cassette, the stream.
STREAMABLE = {
    (registry.provider, op_id)
    for registry in project_registries()
    for op_id, spec in registry.operations.items()
    if "x-py302-stream" in spec.extensions and spec.answers_whole
}
# Each cassette and the form of call that replays it: `call`, or `stream` (`.stream(...)`).
CASES = sorted(
    [(p, op, "call") for p, op in OPERATIONS] + [(p, op, "stream") for p, op in STREAMABLE]
)
_ASSET_KEYS = {"url", "sample", "output", "image", "images", "result_url", "urls"}


def _arguments(cassette: Path) -> dict[str, Any]:
    data = yaml.safe_load(cassette.read_text(encoding="utf-8"))
    arguments: dict[str, Any] = data["provenance"]["call"]["arguments"]
    return with_sample_files(arguments)


def _expects_asset(payload: Any) -> bool:
    """Whether the final answer visibly holds a file (a URL, base64 image or bytes)."""
    if isinstance(payload, bytes):
        return True
    if isinstance(payload, Mapping):
        return any(
            (key in _ASSET_KEYS and isinstance(value, str) and ("http" in value or len(value) > 40))
            or _expects_asset(value)
            for key, value in payload.items()
        )
    if isinstance(payload, list):
        return any(_expects_asset(item) for item in payload)
    return False


def _call_sync(
    provider: str, op_id: str, arguments: dict[str, Any], host: PluginHost, form: str = "call"
) -> tuple[Result[Any], bool]:
    with Client(api_key=TEST_KEY, plugins=host, sleep=no_sleep) as client:
        operation = getattr(client.provider(provider), op_id)
        if form == "stream":
            with operation.stream(**arguments) as stream:
                return stream.result(), False
        outcome = operation(**arguments)
        if isinstance(outcome, Stream):  # an operation that only streams
            with outcome:
                return outcome.result(), False
        is_task = hasattr(outcome, "wait")
        return (outcome.wait() if is_task else outcome), is_task


def _call_async(
    provider: str, op_id: str, arguments: dict[str, Any], host: PluginHost, form: str = "call"
) -> tuple[Result[Any], bool]:
    async def main() -> tuple[Result[Any], bool]:
        async with AsyncClient(api_key=TEST_KEY, plugins=host, sleep=no_sleep_async) as client:
            operation = getattr(client.provider(provider), op_id)
            if form == "stream":
                async with await operation.stream(**arguments) as stream:
                    return await stream.result(), False
            outcome = await operation(**arguments)
            if isinstance(outcome, AsyncStream):  # an operation that only streams
                async with outcome:
                    return await outcome.result(), False
            is_task = hasattr(outcome, "wait")
            return (await outcome.wait() if is_task else outcome), is_task

    return asyncio.run(main())


def _name(provider: str, op_id: str, form: str) -> str:
    """<provider>/<operation>, and .stream after it for the streamed call's cassette."""
    return f"{provider}/{op_id}{STREAM_SUFFIX if form == 'stream' else ''}"


def test_every_operation_has_an_example_cassette() -> None:
    names = [f"{_name(*case)}.yaml" for case in CASES]
    missing = [name for name in names if not (CASSETTES / name).exists()]
    assert missing == [], "run: py302 cassette examples --out tests/cassettes/test_examples"


@pytest.fixture
def default_cassette_name(provider: str, op_id: str, form: str) -> str:
    """tests/cassettes/test_examples/<provider>/<operation>[.stream].yaml"""
    return _name(provider, op_id, form)


@pytest.mark.vcr
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    ("provider", "op_id", "form"),
    CASES,
    ids=[f"{p}.{o}{STREAM_SUFFIX if f == 'stream' else ''}" for p, o, f in CASES],
)
def test_operation_replays_its_example(
    provider: str, op_id: str, form: str, mode: str, host: PluginHost
) -> None:
    cassette = CASSETTES / f"{_name(provider, op_id, form)}.yaml"
    call = _call_sync if mode == "sync" else _call_async
    arguments = _arguments(cassette)
    result, is_task = call(provider, op_id, arguments, host, form)

    assert result.operation.startswith(f"{provider}.")
    if is_task:
        assert result.task_id
    if _expects_asset(result.raw):
        assert result.assets, (
            f"{provider}.{op_id}: the answer holds a file but the Result has no asset"
        )
    if isinstance(result.raw, bytes):
        assert result.asset.read() == result.raw
    if form == "stream":
        # The events add up to the whole answer: replay that cassette inside this one.
        whole_cassette = CASSETTES / f"{_name(provider, op_id, 'call')}.yaml"
        with vcr.use_cassette(str(whole_cassette), record_mode="none"):
            whole, _ = call(provider, op_id, arguments, host)
        assert result == whole


def test_example_cassettes_are_current(tmp_path: Path) -> None:
    providers = sorted({provider for provider, _ in OPERATIONS})
    result = CliRunner().invoke(cli, ["cassette", "examples", *providers, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    fresh = {p.relative_to(tmp_path): p.read_text() for p in tmp_path.rglob("*.yaml")}
    kept = {p.relative_to(CASSETTES): p.read_text() for p in CASSETTES.rglob("*.yaml")}
    assert sorted(fresh) == sorted(kept)
    stale = [str(name) for name in fresh if fresh[name] != kept[name]]
    assert stale == [], "run: py302 cassette examples --out tests/cassettes/test_examples"
