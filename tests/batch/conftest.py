"""Batch fixtures: a sandbox in a process of its own (it must outlive killed workers
and count their submits), worker processes, and a real PostgreSQL server."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import start_sandbox_process


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    """A sandbox whose tasks take 0.3 s, in its own process."""
    server, url = start_sandbox_process("--task-seconds", "0.3")
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def submits(url: str, prefix: str) -> Counter[str]:
    """How many times the sandbox was sent each prompt starting with `prefix`: its own
    record of the tasks it created, whichever client sent them."""
    with urllib.request.urlopen(f"{url}/sandbox/tasks", timeout=10) as answer:
        tasks: list[dict[str, Any]] = json.load(answer)
    return Counter(task["prompt"] for task in tasks if task["prompt"].startswith(prefix))


def write_job(path: Path, prefix: str, count: int) -> Path:
    """A job of `count` task submits, each with a prompt of its own."""
    lines = [
        json.dumps({"operation": "flux.kontext_pro", "arguments": {"prompt": f"{prefix} {i}"}})
        for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def worker(url: str, job: Path, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    """`py302 batch run` in a process of its own, against the sandbox at `url`."""
    env = {**os.environ, "AI302_BASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "py302", "batch", "run", str(job), "--out", str(out), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def manifest_rows(out: Path) -> list[dict[str, Any]]:
    """The manifest's lines."""
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no handler, no clean-up, as a crash or the OOM killer would."""
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)  # reaps it and closes its pipes


def _initdb() -> str | None:
    found = shutil.which("initdb")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return candidates[-1] if candidates else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server of the test session's own (Debian's `postgresql` package,
    which `.ci/run` installs), on a free port, with trust authentication."""
    if _initdb() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)")
    with running_postgres() as url:
        yield url


@contextlib.contextmanager
def running_postgres(*, fsync: bool = False) -> Iterator[str]:
    """Start a throwaway PostgreSQL server; its URL. The tests run it without `fsync`
    (nothing they write must outlive a power cut); the benchmark with it."""
    initdb = _initdb()
    if initdb is None:
        raise RuntimeError("PostgreSQL is not installed")
    bin_dir = Path(initdb).parent
    # Not under pytest's folder, which only root may enter when the tests run as root.
    root = Path(tempfile.mkdtemp(prefix="py302-postgres-"))
    root.chmod(0o755)
    data = root / "data"
    data.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(data, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    run = [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "py302"]
    subprocess.run(run, check=True, capture_output=True)
    options = (
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync={'on' if fsync else 'off'}"
    )
    pg_ctl = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*pg_ctl, "-o", options, "-l", str(data / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"postgresql://py302@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
