"""A CLI killed while it waits loses nothing: `py302 tasks resume` collects the task."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from py302 import Journal
from tests.support import start_sandbox_process


def cli_env(base_url: str, journal: Path) -> dict[str, str]:
    """The environment of a CLI pointed at a sandbox, with its own journal and no key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI302_", "302AI_"))}
    env.update({"AI302_BASE_URL": base_url, "PY302_JOURNAL": str(journal)})
    return env


@pytest.fixture
def sandbox_server() -> Iterator[str]:
    """`py302 sandbox serve` in its own process, so it outlives the CLI we kill."""
    server, url = start_sandbox_process("--task-seconds", "4")
    yield url
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


def test_sigkill_while_waiting_then_resume(sandbox_server: str, tmp_path: Path) -> None:
    journal_path = tmp_path / "journal.sqlite3"
    out = tmp_path / "out"
    env = cli_env(sandbox_server, journal_path)
    command = [sys.executable, "-m", "py302", "run", "flux.generate", "--model", "flux-pro-1.1"]
    waiting = subprocess.Popen(
        [*command, "--prompt", "a lighthouse at dawn", "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    journal = Journal(journal_path)
    deadline = time.monotonic() + 30
    while not (
        journal_path.exists() and any(row.task_id and row.out_dir for row in journal.entries())
    ):
        assert time.monotonic() < deadline, "the CLI never journaled its task"
        assert waiting.poll() is None, "the CLI ended before it could be killed"
        time.sleep(0.05)
    waiting.send_signal(signal.SIGKILL)
    assert waiting.wait(timeout=10) == -signal.SIGKILL

    (row,) = journal.entries()
    assert row.unfinished, row
    assert not out.exists() or not any(out.iterdir())

    resumed = subprocess.run(
        [sys.executable, "-m", "py302", "tasks", "resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    (saved,) = [Path(line) for line in resumed.stdout.splitlines()]
    assert saved.parent == out
    assert saved.read_bytes()[:3] == b"\xff\xd8\xff"
    (row,) = journal.entries()
    assert (row.state, row.saved_paths) == ("succeeded", (str(saved),))

    again = subprocess.run(
        [sys.executable, "-m", "py302", "tasks", "resume"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 0
    assert "no unfinished tasks" in again.stderr
    assert list(out.iterdir()) == [saved], "resuming twice saves nothing twice"


def start_sandbox(*extra: str) -> tuple[subprocess.Popen[bytes], str]:
    server, url = start_sandbox_process("--task-seconds", "1", *extra)
    return server, url


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not ready():
        assert time.monotonic() < deadline, "the moment to kill never came"
        assert process.poll() is None, "the CLI ended before it could be killed"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_sigkill_during_download_then_resume(tmp_path: Path) -> None:
    server, url = start_sandbox("--fault", "files:latency,seconds=4")
    try:
        journal_path, out = tmp_path / "journal.sqlite3", tmp_path / "out"
        env = cli_env(url, journal_path)
        cli = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "py302",
                "run",
                "flux.generate",
                "--model",
                "flux-dev",
                "--prompt",
                "p",
                "--out",
                str(out),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        journal = Journal(journal_path)
        kill_when(
            cli,
            lambda: (
                journal_path.exists() and any(r.state == "succeeded" for r in journal.entries())
            ),
        )
        (row,) = journal.entries()
        assert row.unfinished, "finished but not saved: still to collect"
        assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")]

        resumed = subprocess.run(
            [sys.executable, "-m", "py302", "tasks", "resume"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert resumed.returncode == 0, resumed.stderr
        (saved,) = [Path(line) for line in resumed.stdout.splitlines()]
        assert saved.read_bytes()[:3] == b"\xff\xd8\xff"
        assert list(out.iterdir()) == [saved], "no half-written file is left beside it"
        assert journal.entries()[0].saved_paths == (str(saved),)
    finally:
        server.kill()
        server.wait()


def test_sigkill_during_submit_leaves_an_honest_row(tmp_path: Path) -> None:
    server, url = start_sandbox("--fault", "flux.generate:latency,seconds=5")
    try:
        journal_path = tmp_path / "journal.sqlite3"
        env = cli_env(url, journal_path)
        cli = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "py302",
                "run",
                "flux.generate",
                "--model",
                "flux-dev",
                "--prompt",
                "p",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        journal = Journal(journal_path)
        kill_when(cli, lambda: journal_path.exists() and bool(journal.entries()))
        (row,) = journal.entries()
        assert (row.state, row.task_id) == ("submitting", None), "sent, no id known: shown as such"
        listed = subprocess.run(
            [sys.executable, "-m", "py302", "tasks", "list", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert '"state": "submitting"' in listed.stdout
    finally:
        server.kill()
        server.wait()


def test_ctrl_c_while_waiting_names_the_task_and_how_to_collect_it(
    sandbox_server: str, tmp_path: Path
) -> None:
    journal_path = tmp_path / "journal.sqlite3"
    env = cli_env(sandbox_server, journal_path)
    command = [sys.executable, "-m", "py302", "run", "flux.generate", "--model", "flux-pro-1.1"]
    waiting = subprocess.Popen(
        [*command, "--prompt", "a lighthouse", "--out", str(tmp_path / "out")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    journal = Journal(journal_path)
    deadline = time.monotonic() + 30
    while not (journal_path.exists() and any(row.task_id for row in journal.entries())):
        assert time.monotonic() < deadline, "the CLI never journaled its task"
        time.sleep(0.05)
    waiting.send_signal(signal.SIGINT)
    _, stderr = waiting.communicate(timeout=20)
    (row,) = journal.entries()
    assert waiting.returncode == 130
    assert f"py302 tasks resume {row.task_id}" in stderr
    assert row.unfinished
