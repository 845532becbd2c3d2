"""A canary key goes through every path; nothing written anywhere may contain it.

Paths: synchronous calls, tasks that succeed, fail and time out, error answers
(401, 429, 5xx), validation errors, downloads, the async client, the CLI (output,
errors, --debug tracebacks), the journal, recorded cassettes, and logs at DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import vcr

from py302 import AsyncClient, Client, Journal, PluginHost, Py302Error
from py302.sandbox import Fault, Sandbox
from tests.sandbox.conftest import ManualClock

CANARY = "sk-canary-7f3a9c1e5b2d4f60"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(task_seconds=2.0, clock=ManualClock()) as running:
        yield running


def exercise(client: Client, sandbox: Sandbox, out: Path, seen: list[Any]) -> None:
    """Every path a key could leak through, each outcome kept for inspection."""
    clock = sandbox.tasks.clock
    assert isinstance(clock, ManualClock)
    seen.append(client)
    result = client.flux.dev(prompt="ok")
    seen += [result, *result.assets, result.save(out / "dev")]
    task = client.kling.images_generations(model_name="kling-v2", prompt="cat")
    seen += [task, task.wait(), task.snapshot]
    calls: list[tuple[Fault | None, Callable[[], Any]]] = [
        (
            Fault(kind="status", status=401, route="flux.dev", times=1),
            lambda: client.flux.dev(prompt="x"),
        ),
        (Fault(kind="status", status=429, route="flux.dev"), lambda: client.flux.dev(prompt="x")),
        (
            Fault(kind="status", status=502, route="flux.generate", times=1),
            lambda: client.flux.generate(model="m", prompt="x"),
        ),
        (
            Fault(kind="task_fails", route="gongji.*", times=1),
            lambda: client.gongji.create_flux_dev_task(prompt="x").wait(),
        ),
        (
            Fault(kind="task_never_finishes", route="gongji.*", times=1),
            lambda: client.gongji.create_flux_dev_task(prompt="x").wait(timeout=30),
        ),
        (None, lambda: client.flux.dev(prompt=1)),  # type: ignore[arg-type]
    ]
    for fault, call in calls:
        if fault is not None:
            sandbox.faults.add(fault)
        with pytest.raises(Py302Error) as caught:
            call()
        seen.append(caught.value)
        sandbox.faults.clear()


def scan(text: str, where: str) -> None:
    assert CANARY not in text, f"the key leaked into {where}"
    assert CANARY[-12:] not in text, f"part of the key leaked into {where}"


def test_canary_key_never_written(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "py302", "uvicorn", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    journal = tmp_path / "journal.sqlite3"
    seen: list[Any] = []
    clock = sandbox.tasks.clock
    assert isinstance(clock, ManualClock)
    with Client(
        api_key=CANARY,
        base_url=sandbox.base_url,
        journal=journal,
        plugins=PluginHost(entry_points=False),
        sleep=clock.sleep,
    ) as client:
        exercise(client, sandbox, tmp_path / "out", seen)

    async def async_paths() -> None:
        async with AsyncClient(
            api_key=CANARY, base_url=sandbox.base_url, sleep=clock.async_sleep
        ) as client:
            seen.append(client)
            task = await client.stability.upscale_creative(image=b"\x89PNG", prompt="x")
            result = await task.wait()
            seen.extend([task, result, await result.asave(tmp_path / "async")])

    asyncio.run(async_paths())

    for index, thing in enumerate(seen):
        scan(repr(thing), f"repr of {type(thing).__name__} #{index}")
        scan(str(thing), f"str of {type(thing).__name__} #{index}")
        for arg in getattr(thing, "args", ()):
            scan(repr(arg), f"args of {type(thing).__name__}")
    scan(caplog.text, "the logs")
    for record in caplog.records:
        scan(repr(record.args), "log record arguments")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            scan(path.read_bytes().decode("latin-1"), str(path))
    assert Journal(journal).entries(), "the journal was written"
    downloads = sandbox.state.file_headers
    assert downloads, "files were downloaded"
    assert all("authorization" not in headers for headers in downloads), (
        "the key went to a file host"
    )


def test_recorded_cassettes_hold_no_key(
    sandbox: Sandbox, tmp_path: Path, vcr_config: dict[str, Any]
) -> None:
    """Recording with the project's settings filters credentials by construction."""
    cassette = tmp_path / "recorded.yaml"
    recorder = vcr.VCR(**{**vcr_config, "record_mode": "all"})
    with (
        recorder.use_cassette(str(cassette)),
        Client(
            api_key=CANARY, base_url=sandbox.base_url, plugins=PluginHost(entry_points=False)
        ) as client,
    ):
        client.flux.dev(prompt="recorded")
    text = cassette.read_text()
    assert "/302/submit/flux-dev" in text
    scan(text, "a recorded cassette")


def test_cli_never_prints_the_key(sandbox: Sandbox, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI302_", "302AI_"))}
    env.update(
        {
            "AI302_API_KEY": CANARY,
            "AI302_BASE_URL": sandbox.base_url,
            "PY302_JOURNAL": str(tmp_path / "j.sqlite3"),
        }
    )
    sandbox.faults.add(Fault(kind="status", status=401, route="flux.schnell"))
    runs = [
        ["run", "flux.dev", "--prompt", "x", "--out", str(tmp_path / "o"), "--json"],
        ["run", "flux.schnell", "--prompt", "x"],
        ["--debug", "run", "flux.schnell", "--prompt", "x"],
        ["run", "flux.dev", "--prompt", "x", "--image-size", '{"width": "w"}'],
        ["tasks", "list", "--json"],
        ["plugins"],
    ]
    for args in runs:
        done = subprocess.run(
            [sys.executable, "-m", "py302", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        scan(done.stdout + done.stderr, f"py302 {' '.join(args)}")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            scan(path.read_bytes().decode("latin-1"), str(path))


def _hostile_paths(tmp_path: Path, seen: list[Any]) -> list[str]:
    """The paths hostile servers open: every outcome is kept in `seen`; returns what
    the CLI printed."""
    import json as _json

    from tests.reliability.hostile import header_auth_host, hostile, json_answer

    def echo(request: Any) -> tuple[int, dict[str, str], bytes]:
        return json_answer(401, _json.dumps({"error": {"message": str(request.headers)}}).encode())

    plugin_auth = header_auth_host("mj-api-secret")
    for bad in (f"{CANARY[:9]}{char}{CANARY[9:]}" for char in ("\n", "\0", "é")):
        with pytest.raises(Py302Error) as caught:
            Client(api_key=bad)
        seen.append(caught.value)
    with hostile(echo) as api:
        for host in (PluginHost(entry_points=False), plugin_auth):
            with Client(api_key=CANARY, base_url=api.url, plugins=host) as client:
                with pytest.raises(Py302Error) as caught:
                    client.flux.dev(prompt="x")
                seen.extend([caught.value, pickle.dumps(caught.value).decode("latin-1")])
                response = getattr(caught.value, "response", None)
                assert response is not None
                seen.append(response.request.headers)
    with hostile(lambda request: json_answer(200, b"{}")) as elsewhere:
        target = f"{elsewhere.url}/x"
        with (
            hostile(lambda request: (307, {"location": target}, b"")) as api,
            Client(api_key=CANARY, base_url=api.url, plugins=plugin_auth) as client,
            pytest.raises(Py302Error) as caught,
        ):
            client.flux.dev(prompt="x")
        seen.append(caught.value)
        assert elsewhere.seen == [], "a redirect carried the plugin's credential elsewhere"
    with hostile(lambda request: json_answer(200, b'{"status": "Ready"}')) as squatter:
        journal = Journal(tmp_path / "hostile.sqlite3")
        entry = journal.begin("flux.generate", squatter.url, out_dir=str(tmp_path / "o"))
        journal.submitted(entry, "sbx-1", "running", None)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AI302_", "302AI_"))}
        env |= {"AI302_API_KEY": CANARY, "PY302_JOURNAL": str(journal.path)}
        done = subprocess.run(
            [sys.executable, "-m", "py302", "tasks", "resume"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert squatter.seen == [], "the key went to whatever listens on a dead sandbox's port"
    return [done.stdout + done.stderr]


def test_canary_key_never_written_on_hostile_paths(tmp_path: Path) -> None:
    """Bad-character keys, keys echoed by a server (in errors, their pickles, their
    responses' requests), redirects with a plugin's credential header, and `tasks
    resume` against a dead sandbox's port."""
    seen: list[Any] = []
    printed = _hostile_paths(tmp_path, seen)
    assert len(seen) == 10
    for index, thing in enumerate(seen):
        scan(thing if isinstance(thing, str) else repr(thing), f"hostile outcome #{index}")
        scan(str(thing), f"str of hostile outcome #{index}")
    for output in printed:
        scan(output, "py302 tasks resume")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            scan(path.read_bytes().decode("latin-1"), str(path))
