"""A bad job file is refused before anything is sent, naming the line and the field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from py302 import Client, batch
from py302.batch import JobFileError
from tests.batch.conftest import submits


def _client(url: str) -> Client:
    return Client(api_key="sandbox-local-key", base_url=url, journal=False)


def _problems(path: Path, url: str) -> list[tuple[int, str, str]]:
    with _client(url) as client, pytest.raises(JobFileError) as caught:
        batch.load_items(path, job="j", client=client)
    return caught.value.problems


def test_every_bad_line_is_named_with_its_field(tmp_path: Path, sandbox_url: str) -> None:
    job = tmp_path / "jobs.jsonl"
    job.write_text(
        "\n".join(
            [
                json.dumps({"operation": "flux.kontext_pro", "arguments": {"prompt": "fine"}}),
                json.dumps({"operation": "flux.no_such", "arguments": {}}),
                json.dumps({"operation": "flux.kontext_pro", "arguments": {"prompt": 3}}),
                '{"operation": "flux.kontext_pro", "arguments": {',
                json.dumps({"operation": "flux.kontext_pro", "arguments": {"colour": "red"}}),
                json.dumps(
                    {
                        "operation": "kling.virtual_try_on",
                        "arguments": {
                            "human_image": {"file": "missing.png"},
                            "cloth_image": "https://example.com/c.png",
                        },
                    }
                ),
                json.dumps(["not", "an", "object"]),
            ]
        )
        + "\n"
    )
    found = {(line, field) for line, field, _ in _problems(job, sandbox_url)}
    assert found == {
        (2, "operation"),
        (3, "prompt"),
        (4, "(line)"),
        (5, "colour"),
        (5, "prompt"),  # unknown, and the required one missing
        (6, "human_image"),
        (7, "(line)"),
    }


def test_messages_say_what_to_do(tmp_path: Path, sandbox_url: str) -> None:
    job = tmp_path / "jobs.jsonl"
    arguments = {"prompt": "x", "colour": "red"}
    job.write_text(json.dumps({"operation": "flux.kontext_pro", "arguments": arguments}) + "\n")
    ((line, field, what),) = _problems(job, sandbox_url)
    assert (line, field) == (1, "colour")
    assert "allowed:" in what
    assert "prompt" in what


def test_a_missing_job_file_is_named(tmp_path: Path, sandbox_url: str) -> None:
    assert _problems(tmp_path / "nope.jsonl", sandbox_url) == [(0, "(file)", "does not exist")]


def test_the_command_sends_nothing_when_one_line_is_bad(tmp_path: Path, sandbox_url: str) -> None:
    job = tmp_path / "refused.jsonl"
    good = [
        json.dumps({"operation": "flux.kontext_pro", "arguments": {"prompt": f"refused {i}"}})
        for i in range(5)
    ]
    job.write_text("\n".join([*good, '{"operation": 1}']) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "py302", "batch", "run", str(job), "--out", str(tmp_path / "o")],
        env={**os.environ, "AI302_BASE_URL": sandbox_url},
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "line 6: operation:" in done.stderr
    assert "nothing was sent" in done.stderr
    assert submits(sandbox_url, "refused") == {}


def test_a_template_makes_one_item_per_row(tmp_path: Path, sandbox_url: str) -> None:
    template = tmp_path / "template.json"
    template.write_text(
        json.dumps({"operation": "flux.kontext_pro", "arguments": {"prompt": "a {animal}"}})
    )
    table = tmp_path / "vars.csv"
    table.write_text("animal\nfox\nowl\nfox\n")
    with _client(sandbox_url) as client:
        items = batch.load_items(template, job="j", client=client, variables=table)
    assert [item.arguments["prompt"] for item in items] == ["a fox", "a owl", "a fox"]
    assert len({item.key for item in items}) == 3  # the same line twice is two items
    table.write_text("beast\nfox\n")
    with _client(sandbox_url) as client, pytest.raises(JobFileError) as caught:
        batch.load_items(template, job="j", client=client, variables=table)
    assert caught.value.problems[0][:2] == (1, "animal")


def test_keys_survive_edits_of_the_file(tmp_path: Path, sandbox_url: str) -> None:
    lines = [
        json.dumps({"operation": "flux.kontext_pro", "arguments": {"prompt": p}})
        for p in ("one", "two")
    ]
    job = tmp_path / "jobs.jsonl"
    job.write_text("\n".join(lines) + "\n")
    with _client(sandbox_url) as client:
        before = {
            item.arguments["prompt"]: item.key
            for item in batch.load_items(job, job="j", client=client)
        }
        job.write_text("\n".join(["# added", lines[1], lines[0]]) + "\n")
        after = {
            item.arguments["prompt"]: item.key
            for item in batch.load_items(job, job="j", client=client)
        }
    assert before == after
