"""The journal never costs a task, and a journal that cannot be used says which file.

A journal that cannot be opened stops a call before it is sent (nothing is paid);
one that fails after a submit was accepted (a full disk) costs only its row: the
task id is logged and the handle returned. Rows only move forward, a result saved
with no files counts as collected, synchronous calls are journaled, two `tasks
resume` at once share the work, and a task of a sandbox that is gone is not
resumed against whatever now listens on its port.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from py302 import (
    APIStatusError,
    BadRequestError,
    Client,
    Journal,
    JournalError,
    PluginHost,
    TaskStatus,
)
from tests.reliability.hostile import Seen, hostile, json_answer

KEY = "sk-canary-7f3a9c1e5b2d"


def client(url: str, journal: Path | Journal) -> Client:
    return Client(
        api_key=KEY, base_url=url, journal=journal, plugins=PluginHost(entry_points=False)
    )


def flux_task(seen: Seen) -> tuple[int, dict[str, str], bytes]:
    if seen.method == "POST":
        return json_answer(200, b'{"id": "t-1"}')
    return json_answer(200, b'{"status": "Ready", "result": {"sample": "https://x.test/a.png"}}')


# -- a journal that cannot be used --------------------------------------------------------


def broken_journals(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    yield "folder", folder
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is no database, just text that fills a page " * 200)
    yield "not a readable SQLite journal", garbage


def test_a_journal_that_cannot_be_opened_stops_the_call_before_sending(tmp_path: Path) -> None:
    for why, path in broken_journals(tmp_path):
        with hostile(flux_task) as api, client(api.url, path) as c:
            with pytest.raises(JournalError) as caught:
                c.flux.generate(model="flux-pro-1.1", prompt="x")
            assert api.seen == [], why  # nothing sent, nothing paid
        message = str(caught.value)
        assert str(path) in message
        assert "PY302_JOURNAL" in message
        assert why in message


def test_a_read_only_journal_names_the_file_before_sending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).entries()  # an existing journal ...
    real_connect = sqlite3.connect

    def read_only(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = real_connect(
            f"file:{database}?mode=ro", *args, uri=True, **kwargs
        )
        return connection

    monkeypatch.setattr(sqlite3, "connect", read_only)  # ... that cannot be written
    with (
        hostile(flux_task) as api,
        client(api.url, path) as c,
        pytest.raises(JournalError, match="cannot be written") as caught,
    ):
        c.flux.generate(model="flux-pro-1.1", prompt="x")
    assert api.seen == []
    assert str(path) in str(caught.value)


def test_a_journal_failing_after_the_submit_costs_only_its_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def disk_full(self: Journal, *args: Any, **kwargs: Any) -> None:
        raise JournalError(str(self.path), "database or disk is full")

    monkeypatch.setattr(Journal, "submitted", disk_full)
    with hostile(flux_task) as api, client(api.url, tmp_path / "j.sqlite3") as c:
        task = c.flux.generate(model="flux-pro-1.1", prompt="x")
        assert task.id == "t-1"  # the paid task is handed back ...
        assert "t-1" in caplog.text
        assert "disk is full" in caplog.text
        assert task.wait().task_id == "t-1"
    assert [seen.method for seen in api.seen].count("POST") == 1


def test_a_submit_answered_by_a_redirect_is_journaled_as_uncertain(tmp_path: Path) -> None:
    """It used to read `not_submitted` (the failed redirect hop counted as never sent),
    while the server may well have accepted the task."""
    journal = Journal(tmp_path / "j.sqlite3")
    answer = (303, {"location": "http://127.0.0.1:9/elsewhere"}, b"")
    with (
        hostile(lambda seen: answer) as api,
        client(api.url, journal) as c,
        pytest.raises(APIStatusError),
    ):
        c.flux.generate(model="flux-pro-1.1", prompt="x")
    assert [row.state for row in journal.entries()] == ["uncertain"]
    assert len(api.seen) == 1


# -- rows move forward, and are collected once --------------------------------------------


def test_a_finished_task_stays_finished(tmp_path: Path) -> None:
    polls = iter([b'{"status": "Ready", "result": {"sample": "https://x.test/a.png"}}'])

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if seen.method == "POST":
            return json_answer(200, b'{"id": "t-1"}')
        return json_answer(200, next(polls, b'{"status": "Pending"}'))

    journal = Journal(tmp_path / "j.sqlite3")
    with hostile(answer) as api, client(api.url, journal) as c:
        task = c.flux.generate(model="flux-pro-1.1", prompt="x")
        task.wait()
        assert task.refresh().status is TaskStatus.SUCCEEDED  # the server said Pending
    (row,) = journal.entries()
    assert row.state == "succeeded"
    journal.update(row.entry, state="running")
    assert journal.entries()[0].state == "succeeded"


def test_a_result_saved_with_no_files_is_collected(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    entry = journal.begin("flux.generate", "https://api.302.ai", out_dir=str(tmp_path))
    journal.submitted(entry, "t-1", "succeeded", None)
    assert journal.entries(unfinished=True)  # succeeded, not yet saved
    journal.saved(entry, [])
    assert journal.entries(unfinished=True) == []


def test_synchronous_calls_are_journaled(tmp_path: Path) -> None:
    body = b'{"images": [{"url": "https://x.test/a.png"}]}'
    journal = Journal(tmp_path / "j.sqlite3")
    with hostile(lambda seen: json_answer(200, body)) as api, client(api.url, journal) as c:
        result = c.flux.dev(prompt="x")
    (row,) = journal.entries()
    assert (row.operation, row.state, row.task_id) == ("flux.dev", "succeeded", None)
    assert row.result_urls == ("https://x.test/a.png",)
    assert result.journal_entry == row.entry
    with (
        hostile(lambda seen: json_answer(400, b'{"error": "bad"}')) as api,
        client(api.url, journal) as c,
        pytest.raises(BadRequestError),
    ):
        c.flux.dev(prompt="x")
    assert journal.entries()[0].state == "not_submitted"


# -- the command line ---------------------------------------------------------------------


def cli_env(journal: Path, base_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI302_", "302AI_"))}
    env |= {"AI302_API_KEY": KEY, "PY302_JOURNAL": str(journal)}
    if base_url:
        env["AI302_BASE_URL"] = base_url
    return env


def test_two_resumes_at_once_download_each_file_once(tmp_path: Path) -> None:
    downloads: list[str] = []
    url: list[str] = []

    def answer(seen: Seen) -> tuple[int, dict[str, str], Any]:
        if seen.path.endswith(".png"):
            downloads.append(seen.path)
            return 200, {"content-type": "image/png"}, slow(b"a picture")
        body = {"status": "Ready", "result": {"sample": f"{url[0]}/file.png"}}
        return json_answer(200, json.dumps(body).encode())

    journal_path = tmp_path / "j.sqlite3"
    journal = Journal(journal_path)
    with hostile(answer) as api:
        url.append(api.url)
        entry = journal.begin("flux.generate", api.url, out_dir=str(tmp_path / "out"))
        journal.submitted(entry, "t-1", "running", None)
        env = cli_env(journal_path, api.url)
        command = [sys.executable, "-m", "py302", "tasks", "resume"]
        runs = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert downloads == ["/file.png"]  # once, not once per process
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["file.png"]
    assert journal.entries(unfinished=True) == []


def slow(body: bytes) -> Iterator[bytes]:
    time.sleep(1.5)  # long enough for the other process to find the row taken
    yield body


def test_a_task_of_a_sandbox_that_is_gone_is_not_resumed_with_the_key(tmp_path: Path) -> None:
    journal_path = tmp_path / "j.sqlite3"
    with hostile(lambda seen: json_answer(200, b'{"status": "Ready"}')) as squatter:
        journal = Journal(journal_path)
        entry = journal.begin("flux.generate", squatter.url, out_dir=str(tmp_path / "out"))
        journal.submitted(entry, "sbx-1", "running", None)
        done = subprocess.run(
            [sys.executable, "-m", "py302", "tasks", "resume"],
            env=cli_env(journal_path, None),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert "sandbox" in done.stderr
    assert "AI302_BASE_URL" in done.stderr
    assert squatter.seen == []  # neither the key nor a poll went to the new listener
    assert KEY not in done.stdout + done.stderr


def test_a_synchronous_result_left_unsaved_is_collected_by_resume(tmp_path: Path) -> None:
    url: list[str] = []

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if seen.path == "/file.png":
            return 200, {"content-type": "image/png"}, b"a picture"
        return json_answer(200, json.dumps({"images": [{"url": f"{url[0]}/file.png"}]}).encode())

    journal_path = tmp_path / "j.sqlite3"
    journal = Journal(journal_path)
    with hostile(answer) as api:
        url.append(api.url)
        with client(api.url, journal) as c:
            result = c.flux.dev(prompt="x")  # paid for; then the process died before saving
        assert result.journal_entry is not None
        journal.set_out_dir(result.journal_entry, tmp_path / "out")
        assert [row.entry for row in journal.entries(unfinished=True)] == [result.journal_entry]
        done = subprocess.run(
            [sys.executable, "-m", "py302", "tasks", "resume"],
            env=cli_env(journal_path, api.url),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "file.png").read_bytes() == b"a picture"
    assert journal.entries(unfinished=True) == []
