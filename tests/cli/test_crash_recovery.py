"""A CLI killed while it waits loses nothing: `py302 tasks resume` collects the task."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from py302 import Journal


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sandbox_server() -> Iterator[str]:
    """`py302 sandbox serve` in its own process, so it outlives the CLI we kill."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "py302",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--task-seconds",
            "4",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("the sandbox server did not start") from None
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


def test_sigkill_while_waiting_then_resume(sandbox_server: str, tmp_path: Path) -> None:
    journal_path = tmp_path / "journal.sqlite3"
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI302_", "302AI_"))}
    env.update({"AI302_BASE_URL": sandbox_server, "PY302_JOURNAL": str(journal_path)})
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
