"""pytest support for testing code built on py302, provider plugins above all.

Load it with `-p py302.testing` (in `addopts`) or `pytest_plugins = ["py302.testing"]`
in a conftest. Needs the `testing` extra (`pip install 'py302[testing]'`: pytest,
pytest-recording, vcrpy; the sandbox fixtures also need the `sandbox` extra).

Fixtures:

* `py302_client`, `py302_async_client` — clients for cassette tests
  (`@pytest.mark.vcr`). Replaying, they use a dummy key and never sleep between
  polls; recording (`--record-mode=once` or `all` with `AI302_API_KEY` set) they
  talk to the real API with your key.
* `py302_sandbox` — a local sandbox built from every installed provider's specs,
  third-party plugins included, on a simulated clock;
  `py302_sandbox_client` / `py302_sandbox_async_client` — clients of it whose
  waiting moves that clock instead of sleeping, so a task that "takes" minutes
  finishes at once.
* `py302_secrets` — strings that must never reach a cassette (the keys in the
  environment by default); override it to add your own.
* `py302_base_url` — where cassette clients send requests (`AI302_BASE_URL`, else
  https://api.302.ai); `py302_recording` — whether this test records; `py302_clock`
  — the sandbox fixtures' simulated clock.

Behaviour:

* Every cassette recorded in the session is saved through py302's scrubber:
  credentials in headers, query strings, JSON and multipart bodies and signed-URL
  parameters become `REDACTED`, binary bodies their sha256 and size, repeated polls
  collapse to one per state, and the file is written atomically.
* After each `vcr`-marked test, every interaction must have been played and must
  agree with the specs (`assert_contract`); recorded cassettes are checked strictly
  (no field, value or status the spec does not declare). Set the ini option
  `py302_contract = off` to turn this off.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from py302._constants import DEFAULT_BASE_URL

from ._recording import ambient_secrets, configure_vcr, record_cassette, save_recording

if TYPE_CHECKING:
    from py302 import AsyncClient, Client
    from py302._registry import ProviderRegistry
    from py302.sandbox import Sandbox

__all__ = [
    "REPLAY_KEY",
    "SimulatedClock",
    "assert_contract",
    "record_cassette",
    "save_recording",
]

#: The key clients use when replaying (cassettes never hold the real one).
REPLAY_KEY = "py302-replay-key"


class SimulatedClock:
    """A monotonic clock that only moves when told to (thread-safe)."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds` (negative values are ignored)."""
        with self._lock:
            self._now += max(0.0, seconds)

    async def advance_async(self, seconds: float) -> None:
        """`advance` for an async client's `sleep`; yields to the loop once."""
        self.advance(seconds)
        await asyncio.sleep(0)


def assert_contract(
    path: str | os.PathLike[str],
    registries: Sequence[ProviderRegistry] | None = None,
    *,
    strict: bool | None = None,
) -> None:
    """Fail unless every interaction of the cassette at `path` agrees with the specs.

    `strict` (default: whether the cassette says it was recorded) also fails on
    drift: fields, values or statuses the spec does not declare.
    """
    from py302.contracts import check_cassette

    reports = check_cassette(Path(path), registries, strict=strict)
    failures = [report.line() for report in reports if not report.ok]
    if failures:
        raise AssertionError(
            f"{len(failures)} interaction(s) of {path} disagree with the specs:\n"
            + "\n".join(failures)
        )


# -- pytest hooks -------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ini option that turns the contract check off."""
    parser.addini(
        "py302_contract",
        "check every vcr-marked test's cassette against the specs: on (default) or off",
        default="on",
    )


_SAVE_FAILURES = pytest.StashKey[list[Exception]]()


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    """Every cassette pytest-recording saves goes through py302's scrubber."""
    configure_vcr(vcr, ambient_secrets(), config.stash.setdefault(_SAVE_FAILURES, []))


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def py302_secrets() -> list[str]:
    """Strings that must never be written to a cassette (the environment's keys)."""
    return ambient_secrets()


@pytest.fixture
def py302_recording(request: pytest.FixtureRequest) -> bool:
    """Whether this test records real traffic (a record mode other than `none`)."""
    if request.node.get_closest_marker("vcr") is None:
        return False
    mode = request.getfixturevalue("record_mode")
    return mode not in (None, "none")


@pytest.fixture
def py302_base_url() -> str:
    """Where cassette tests' clients send requests: `AI302_BASE_URL`, else the real API.
    Cassettes replay against the base URL they were recorded with."""
    return os.environ.get("AI302_BASE_URL") or DEFAULT_BASE_URL


def _client_settings(recording: bool, secrets: list[str], base_url: str) -> dict[str, Any]:
    if not recording:
        return {"api_key": REPLAY_KEY, "base_url": base_url}
    if not secrets:
        pytest.fail(
            "recording needs a real key: set AI302_API_KEY (it is scrubbed from cassettes)",
            pytrace=False,
        )
    return {"api_key": secrets[0], "base_url": base_url}


@pytest.fixture
def py302_client(
    py302_recording: bool, py302_secrets: list[str], py302_base_url: str
) -> Iterator[Client]:
    """A client for cassette tests: replays without sleeping, records with your key."""
    from py302 import Client

    settings = _client_settings(py302_recording, py302_secrets, py302_base_url)
    sleep = time.sleep if py302_recording else _no_sleep
    client = Client(**settings, journal=False, sleep=sleep)
    yield client
    client.close()


@pytest.fixture
def py302_async_client(
    py302_recording: bool, py302_secrets: list[str], py302_base_url: str
) -> Iterator[AsyncClient]:
    """The async twin of `py302_client`: `async with py302_async_client as client:`
    inside the test's event loop, so it is closed in that loop."""
    from py302 import AsyncClient

    settings = _client_settings(py302_recording, py302_secrets, py302_base_url)
    sleep = None if py302_recording else _no_sleep_async
    client = AsyncClient(**settings, journal=False, sleep=sleep)
    yield client
    _close_async(client)


@pytest.fixture
def py302_clock() -> SimulatedClock:
    """The simulated clock the sandbox fixtures share."""
    return SimulatedClock()


@pytest.fixture
def py302_sandbox(py302_clock: SimulatedClock) -> Iterator[Sandbox]:
    """A sandbox of every installed provider on the simulated clock (tasks take 10 s)."""
    from py302.sandbox import Sandbox

    with Sandbox(task_seconds=10.0, clock=py302_clock) as sandbox:
        yield sandbox


@pytest.fixture
def py302_sandbox_client(py302_sandbox: Sandbox, py302_clock: SimulatedClock) -> Iterator[Client]:
    """A client of `py302_sandbox` whose waits move the simulated clock."""
    from py302 import Client

    client = Client(
        api_key=REPLAY_KEY,
        base_url=py302_sandbox.base_url,
        sleep=py302_clock.advance,
        journal=False,
    )
    yield client
    client.close()


@pytest.fixture
def py302_sandbox_async_client(
    py302_sandbox: Sandbox, py302_clock: SimulatedClock
) -> Iterator[AsyncClient]:
    """The async twin of `py302_sandbox_client` (`async with` it inside the test's loop)."""
    from py302 import AsyncClient

    client = AsyncClient(
        api_key=REPLAY_KEY,
        base_url=py302_sandbox.base_url,
        sleep=py302_clock.advance_async,
        journal=False,
    )
    yield client
    _close_async(client)


_CASSETTE = pytest.StashKey[Any]()


@pytest.fixture(autouse=True)
def _py302_contract(request: pytest.FixtureRequest) -> None:
    """Note a vcr-marked test's cassette, to be checked once it is closed (see below)."""
    enabled = str(request.config.getini("py302_contract")).lower() not in {"off", "false", "0"}
    if enabled and request.node.get_closest_marker("vcr") is not None:
        request.node.stash[_CASSETTE] = request.getfixturevalue("vcr")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """After the test's fixtures are gone, so its cassette is saved and closed: the save
    succeeded, every replayed interaction was played, and all agree with the specs."""
    result = yield
    cassette = item.stash.get(_CASSETTE, None)
    if cassette is None:
        return result
    failures = item.config.stash.setdefault(_SAVE_FAILURES, [])
    if failures:
        error = failures[-1]
        failures.clear()
        pytest.fail(f"the cassette {cassette._path} could not be saved: {error}", pytrace=False)
    path = Path(cassette._path)
    if not path.is_file():
        return result  # nothing was recorded or replayed: the test itself says what happened
    if cassette.record_mode == "none" and not cassette.all_played:
        pytest.fail(f"interactions of {path} were never played", pytrace=False)
    assert_contract(path)
    return result


def _close_async(client: AsyncClient) -> None:
    """Close a client the test did not close itself (`async with client:` in the test's
    own loop is the better way: connections belong to the loop that opened them)."""
    if client._http.is_closed:
        return
    with contextlib.suppress(RuntimeError):  # its loop is gone; so are its connections
        asyncio.run(client.aclose())


def _no_sleep(seconds: float) -> None:
    """Replayed answers need no waiting."""


async def _no_sleep_async(seconds: float) -> None:
    """Replayed answers need no waiting (async)."""
