"""`py302 chat MODEL PROMPT`: the answer printed as it arrives, or the Result as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from py302.cli import cli
from py302.sandbox import Sandbox

REPLY = "Sandbox reply to: name three lighthouses"


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(task_seconds=1.0) as running:
        monkeypatch.delenv("AI302_API_KEY", raising=False)
        monkeypatch.setenv("AI302_BASE_URL", running.base_url)
        monkeypatch.setenv("PY302_JOURNAL", str(tmp_path / "journal.sqlite3"))
        yield running


def test_the_answer_streams_to_the_terminal(sandbox: Sandbox) -> None:
    result = CliRunner().invoke(cli, ["chat", "gpt-4o", "name three lighthouses"])
    assert result.exit_code == 0, result.output
    assert result.stdout == REPLY + "\n"
    (sent,) = sandbox.state.bodies
    assert sent["stream"] is True  # asked for the event stream
    assert sent["messages"] == [{"role": "user", "content": "name three lighthouses"}]


def test_json_prints_the_result_and_nothing_else(sandbox: Sandbox) -> None:
    result = CliRunner().invoke(
        cli, ["chat", "gpt-4o", "name three lighthouses", "--json", "--system", "Be brief."]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["operation"] == "chat.completions"
    assert document["text"] == REPLY
    assert document["tool_calls"] == []
    assert document["usage"]["total_tokens"] > 0


def test_no_stream_waits_for_the_whole_answer(sandbox: Sandbox) -> None:
    result = CliRunner().invoke(cli, ["chat", "gpt-4o", "name three lighthouses", "--no-stream"])
    assert result.exit_code == 0, result.output
    assert result.stdout == REPLY + "\n"


def test_an_unknown_format_is_refused_naming_the_choices() -> None:
    result = CliRunner().invoke(cli, ["chat", "gpt-4o", "hi", "--format", "cohere"])
    assert result.exit_code == 2
    assert "'claude'" in result.output
    assert "'gemini'" in result.output


@pytest.mark.parametrize(
    ("wire_format", "model", "operation"),
    [
        ("claude", "claude-sonnet-4-20250514", "claude.messages"),
        ("gemini", "gemini-2.5-flash", "gemini.stream_generate_content"),
    ],
)
def test_each_format_asks_the_same_question(
    sandbox: Sandbox, wire_format: str, model: str, operation: str
) -> None:
    streamed = CliRunner().invoke(
        cli, ["chat", model, "name three lighthouses", "--format", wire_format]
    )
    as_json = CliRunner().invoke(
        cli, ["chat", model, "name three lighthouses", "--format", wire_format, "--json"]
    )
    assert streamed.exit_code == 0, streamed.output
    assert streamed.stdout == REPLY + "\n"
    document = json.loads(as_json.stdout)
    assert (document["operation"], document["text"]) == (operation, REPLY)
