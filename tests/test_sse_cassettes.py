"""Event streams in cassettes: recorded, replayed, and held against the specs.

A chat stream is recorded through py302's recorder (`py302.testing.record_cassette`,
what `py302 record` and the pytest plugin use), once from the sandbox over a socket and
once from an `httpx.MockTransport` that serves the spec's own example stream. Replayed
offline through the stream form, it must add up to the whole call's `Result`. Then
the contract check and drift read a stream event by event: a broken event is named by
its number, a stream cut before `[DONE]` is reported, an error event is an answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
import yaml
from click.testing import CliRunner

from py302 import AsyncClient, Client, PluginHost, Result
from py302._registry import load_registry, media_type
from py302.cli import cli
from py302.contracts import check_cassette, dump_cassette, example_cassettes, find_drift
from py302.sandbox import Sandbox
from py302.testing import assert_contract, record_cassette
from tests.support import no_sleep, no_sleep_async, project_registries

KEY = "sk-sse-recorder-canary-27182818"
MESSAGES: Any = [{"role": "user", "content": "Hello!"}]
REGISTRY = load_registry("py302.generated.chat")
SPEC = REGISTRY.get("completions")
_MEDIA = SPEC.responses["200"]["media_types"]
WHOLE: dict[str, Any] = _MEDIA["application/json"]["example"]
EVENTS = [f"{block}\n\n".encode() for block in _MEDIA["text/event-stream"]["example"].split("\n\n")]
EVENTS = [event for event in EVENTS if event.strip()]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(task_seconds=0.5) as server:
        yield server


def _example_api(request: httpx.Request) -> httpx.Response:
    """The spec's two examples: the whole answer, or the stream event by event."""
    if json.loads(request.content).get("stream"):
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=iter(EVENTS)
        )
    return httpx.Response(200, json=WHOLE)


def _recording_client(source: str, sandbox: Sandbox) -> Client:
    host = PluginHost(entry_points=False)
    if source == "sandbox":
        return Client(api_key=KEY, base_url=sandbox.base_url, plugins=host, sleep=no_sleep)
    transport = httpx.MockTransport(_example_api)
    return Client(api_key=KEY, http_client=httpx.Client(transport=transport), plugins=host)


def _replay(cassette: Path, base_url: str, mode: str, *, stream: bool) -> Result[Any]:
    """One chat call replayed from `cassette` with the network out of reach."""
    host = PluginHost(entry_points=False)
    with vcr.use_cassette(str(cassette), record_mode="none"):
        if mode == "sync":
            with Client(api_key="replay", base_url=base_url, plugins=host, sleep=no_sleep) as c:
                if not stream:
                    return c.chat.completions(model="gpt-4o", messages=MESSAGES)
                with c.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as events:
                    return events.result()

        async def main() -> Result[Any]:
            async with AsyncClient(
                api_key="replay", base_url=base_url, plugins=host, sleep=no_sleep_async
            ) as c:
                if not stream:
                    return await c.chat.completions(model="gpt-4o", messages=MESSAGES)
                async with await c.chat.completions.stream(
                    model="gpt-4o", messages=MESSAGES
                ) as events:
                    return await events.result()

        return asyncio.run(main())


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("source", ["sandbox", "mock"])
def test_a_recorded_stream_replays_offline_and_adds_up_to_the_whole_call(
    source: str, mode: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    whole_cassette, stream_cassette = tmp_path / "whole.yaml", tmp_path / "stream.yaml"
    with _recording_client(source, sandbox) as client:
        base_url = str(client.base_url)
        with record_cassette(whole_cassette, secrets=[KEY]):
            client.chat.completions(model="gpt-4o", messages=MESSAGES)
        with (
            record_cassette(stream_cassette, secrets=[KEY]),
            client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream,
        ):
            live = stream.result()

    text = stream_cassette.read_text(encoding="utf-8")
    assert KEY not in text
    data = yaml.safe_load(text)
    assert data["provenance"]["recorded"] is True
    [interaction] = data["interactions"]
    assert json.loads(interaction["request"]["body"])["stream"] is True
    response = interaction["response"]
    [content_type] = response["headers"]["content-type"]
    assert media_type(content_type) == "text/event-stream"
    body = response["body"]["string"]
    assert body.startswith("data: {")  # readable text, not a placeholder
    assert body.endswith("data: [DONE]\n\n")
    assert "string: |" in text  # written as a block, line for line
    assert_contract(stream_cassette)  # recorded, so strict: drift fails it too
    assert_contract(whole_cassette)

    streamed = _replay(stream_cassette, base_url, mode, stream=True)
    whole = _replay(whole_cassette, base_url, mode, stream=False)
    assert streamed == whole == live
    assert streamed.text
    assert streamed.usage is not None


# -- the contract check, event by event ---------------------------------------------------


def _events(cassette: dict[str, Any]) -> list[str]:
    body: str = cassette["interactions"][0]["response"]["body"]["string"]
    return [block for block in body.split("\n\n") if block.strip()]


def _stream_cassette(
    tmp_path: Path, change: Any = None, *, recorded: bool = False, name: str = "stream.yaml"
) -> Path:
    """The spec's example stream cassette, its list of events passed through `change`."""
    data = example_cassettes(REGISTRY, SPEC)["completions.stream"]
    events = _events(data)
    if change is not None:
        events = change(events)
    data["interactions"][0]["response"]["body"]["string"] = "".join(f"{e}\n\n" for e in events)
    data["provenance"]["recorded"] = recorded
    path = tmp_path / name
    path.write_text(dump_cassette(data), encoding="utf-8")
    return path


def _replace_data(events: list[str], number: int, data: str) -> list[str]:
    """`events` with the data of event `number` (from 1) replaced."""
    return [f"data: {data}" if i == number else e for i, e in enumerate(events, start=1)]


def _chunk(**fields: Any) -> str:
    chunk = json.loads(_events(example_cassettes(REGISTRY, SPEC)["completions.stream"])[2][6:])
    chunk.update(fields)
    return json.dumps(chunk)


def _problems(path: Path, *, strict: bool | None = None) -> list[str]:
    return [p for report in check_cassette(path, strict=strict) for p in report.problems]


def test_the_example_stream_agrees_with_the_spec(tmp_path: Path) -> None:
    assert _problems(_stream_cassette(tmp_path), strict=True) == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (_chunk(created="yesterday"), "response: event 3: created: must be of type integer"),
        (_chunk(choices=None), "response: event 3: choices: must be of type array"),
        ("{not json", "response: event 3: data is not JSON"),
    ],
    ids=["wrong-type", "required-field-null", "not-json"],
)
def test_an_event_that_breaks_the_event_schema_is_named_by_its_number(
    tmp_path: Path, data: str, problem: str
) -> None:
    path = _stream_cassette(tmp_path, lambda events: _replace_data(events, 3, data))
    problems = _problems(path)
    assert problems, "the broken third event passed the check"
    assert all(p.startswith("response: event 3: ") for p in problems), problems
    assert any(p.startswith(problem) for p in problems), problems
    with pytest.raises(AssertionError, match="event 3"):
        assert_contract(path)  # what the pytest plugin runs after every vcr test
    result = CliRunner().invoke(cli, ["cassette", "check", str(path)])
    assert result.exit_code == 1
    assert "event 3:" in result.output


def test_a_stream_without_its_end_marker_is_reported(tmp_path: Path) -> None:
    path = _stream_cassette(tmp_path, lambda events: events[:-1])
    count = len(EVENTS) - 1
    assert _problems(path) == [
        f"response: the stream ends after {count} event(s) without its end marker '[DONE]'"
    ]


def test_events_after_the_end_marker_are_reported(tmp_path: Path) -> None:
    path = _stream_cassette(tmp_path, lambda events: [*events, events[0]])
    assert _problems(path) == [
        f"response: event {len(EVENTS) + 1} comes after the end marker '[DONE]'"
    ]


@pytest.mark.parametrize(
    "error",
    [
        "event: error\ndata: overloaded",
        'data: {"error": {"message": "quota exhausted", "code": "insufficient_quota"}}',
    ],
    ids=["event-error", "error-envelope"],
)
def test_an_error_in_the_stream_is_an_answer_not_a_schema_problem(
    tmp_path: Path, error: str
) -> None:
    # The client raises APIStreamError there and reads no further, so no [DONE] is due.
    path = _stream_cassette(tmp_path, lambda events: [*events[:2], error], recorded=True)
    assert _problems(path) == []  # recorded, so drift would count: there is none either


# -- drift, event by event ----------------------------------------------------------------


def test_drift_walks_every_event_against_the_event_schema(tmp_path: Path) -> None:
    def change(events: list[str]) -> list[str]:
        events = _replace_data(events, 2, _chunk(created="yesterday"))
        delta = {"content": "!", "sparkle_level": "high"}
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
        return _replace_data(events, 3, _chunk(choices=[choice]))

    path = _stream_cassette(tmp_path, change, recorded=True)
    report = find_drift([path], project_registries())
    found = {
        (f.kind, f.where, f.path, f.pointer) for f in report.findings if f.kind != "unseen_field"
    }
    assert found == {
        (
            "unknown_field",
            "response 200",
            "choices[].delta.sparkle_level",
            "/components/schemas/ChunkDelta",
        ),
        (
            "type_mismatch",
            "response 200",
            "created",
            "/components/schemas/ChatCompletionChunk/properties/created",
        ),
    }
    unseen = {f.path for f in report.findings if f.kind == "unseen_field"}
    assert "choices[].delta.tool_calls" in unseen  # declared by the chunk schema only
    assert "choices[].message" not in unseen  # the JSON answer's schema was not walked
    strict = _problems(path)  # recorded: checked strictly, drift included
    assert any("drift: response 200 choices[].delta.sparkle_level" in p for p in strict)


def test_strict_drift_tells_the_messages_of_a_chat_request_apart_by_role(tmp_path: Path) -> None:
    """`messages` items are oneOf system/user/assistant/tool, each with a `const` role:
    a user message must be walked as a UserMessage, not against SystemMessage's role."""
    data = example_cassettes(REGISTRY, SPEC)["completions"]
    call = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "22 C"},
    ]
    data["interactions"][0]["request"]["body"] = json.dumps(
        {"model": "gpt-4o", "messages": messages}
    )
    data["provenance"]["recorded"] = True
    path = tmp_path / "whole.yaml"
    path.write_text(dump_cassette(data), encoding="utf-8")
    assert _problems(path) == []


# -- example cassettes of other stream shapes ----------------------------------------------


def test_example_cassettes_follow_the_operation_s_stream_shape(tmp_path: Path) -> None:
    """The generator's zoo: `ask_keeper` answers whole or streamed (its stream example
    has a keep-alive comment), `watch_heartbeat` only streams and has no example."""
    zoo = load_registry("tests.codegen.golden.zoo")
    written = {
        name: data
        for op_id in ("ask_keeper", "watch_heartbeat")
        for name, data in example_cassettes(zoo, zoo.get(op_id)).items()
    }
    assert sorted(written) == ["ask_keeper", "ask_keeper.stream", "watch_heartbeat"]
    heartbeat = written["watch_heartbeat"]["provenance"]
    assert heartbeat["call"]["stream"] is True
    assert heartbeat["sources"]["response"] == "synthesized from the event schema"
    for name, data in written.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(dump_cassette(data), encoding="utf-8")
        assert [r.problems for r in check_cassette(path, [zoo])] == [()], name
