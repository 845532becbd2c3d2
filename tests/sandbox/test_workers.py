"""`py302 sandbox serve --workers N`: several processes answer one port as one API.

Any worker answers a poll for a task another one took (they share an SQLite file),
and serves a file another one named (the name says what to draw).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from py302 import AsyncClient, PluginHost
from py302.sandbox._file_names import described, file_name
from py302.sandbox._tasks import SharedTaskStore
from py302.sandbox._workers import WORKER_HEADER
from tests.support import start_sandbox_process

SUBMIT = "/flux/v1/flux-dev"
AUTH = {"Authorization": "Bearer sandbox-key-0123456789"}


def test_a_task_one_store_created_is_found_by_another_on_the_same_file(tmp_path: Path) -> None:
    now = [100.0]
    first = SharedTaskStore(tmp_path / "tasks.sqlite", lambda: now[0])
    second = SharedTaskStore(tmp_path / "tasks.sqlite", lambda: now[0])
    request = {"prompt": "a lighthouse", "num_images": 2, "image": "<binary>"}
    made = first.create(
        operation="flux.dev",
        seconds=2.0,
        outcome="succeeded",
        prompt="a lighthouse",
        hidden_for=0.5,
        request=request,
    )
    found = second.get(made.id)
    assert found == made
    assert found is not None
    assert found.request == request
    assert found.state(101.0) == "running"
    assert found.state(102.0) == "succeeded"
    later = second.create(operation="flux.dev", seconds=1.0, outcome="failed", prompt="")
    assert [task.id for task in first.all()] == [made.id, later.id]
    assert first.get("sbx-nothing") is None


def test_a_file_name_says_what_to_draw() -> None:
    name = file_name(7, "a lighthouse at dawn, 雾", "webp", (640, 480))
    assert described(name) == ("a lighthouse at dawn, 雾", "webp", (640, 480))
    assert described(file_name(8, "x" * 500, "png", None)) == ("x" * 48, "png", None)
    for made_up in ("000001.png", "000001-!!!.png", "000001-WyJ4IiwgWzAsIDFdXQ.png", "a.exe"):
        assert described(made_up) is None, made_up


@pytest.fixture(scope="module")
def workers() -> Iterator[str]:
    server, url = start_sandbox_process("--workers", "2", "--task-seconds", "1")
    yield url
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def test_any_worker_answers_for_a_task_another_took(workers: str) -> None:
    async def run() -> list[tuple[str, str, int]]:
        # A connection of its own per request, so the kernel hands them to either worker.
        async def one(n: int) -> tuple[str, str, int]:
            async with httpx.AsyncClient(base_url=workers) as http:
                submitted = await http.post(SUBMIT, json={"prompt": f"cat {n}"}, headers=AUTH)
            task_id = submitted.json()["id"]
            await asyncio.sleep(1.2)
            async with httpx.AsyncClient(base_url=workers) as http:
                polled = await http.get("/flux/v1/get_result", params={"id": task_id}, headers=AUTH)
            assert polled.json()["status"] == "Ready", polled.text
            return (
                submitted.headers[WORKER_HEADER],
                polled.headers[WORKER_HEADER],
                polled.status_code,
            )

        return await asyncio.gather(*(one(n) for n in range(60)))

    answered = asyncio.run(run())
    assert {status for _, _, status in answered} == {200}
    assert len({worker for pair in answered for worker in pair[:2]}) == 2
    assert any(took != polled for took, polled, _ in answered)


def test_tasks_run_to_their_files_across_workers(workers: str, tmp_path: Path) -> None:
    async def run() -> list[Path]:
        async with AsyncClient(
            api_key="sandbox-key-0123456789",
            base_url=workers,
            plugins=PluginHost(entry_points=False),
        ) as client:

            async def one(n: int) -> Path:
                task = await client.flux.generate(model="flux-dev", prompt=f"lighthouse {n}")
                result = await task.wait(timeout=60)
                return await result.asset.asave(tmp_path / f"{n}.jpeg")

            return await asyncio.gather(*(one(n) for n in range(40)))

    saved = asyncio.run(run())
    assert len(saved) == 40
    assert all(path.read_bytes().startswith(b"\xff\xd8\xff") for path in saved)  # JPEG


def test_faults_are_refused_with_several_workers() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "py302",
            "sandbox",
            "serve",
            "--workers",
            "2",
            "--fault",
            "flux.dev:status,status=500",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--fault needs --workers 1" in done.stderr


@pytest.mark.parametrize("stop", ["interrupt", "kill"])
def test_the_workers_stop_with_the_server(stop: str) -> None:
    """Stopped (Ctrl-C) or killed outright, the server takes its workers with it."""
    server, url = start_sandbox_process("--workers", "2")
    pids = {httpx.get(url + "/sandbox/files/none.png").headers[WORKER_HEADER] for _ in range(20)}
    if stop == "interrupt":
        server.send_signal(signal.SIGINT)
    else:
        server.kill()
    server.wait(timeout=15)
    deadline = time.monotonic() + 10
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in pids if Path(f"/proc/{pid}").exists()}
        time.sleep(0.1)
    assert not alive, f"worker processes left behind: {alive}"
