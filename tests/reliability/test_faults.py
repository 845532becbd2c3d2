"""Every task pattern under every fault, against the sandbox over real loopback sockets.

For each scenario the suite checks the documented outcome (a result, or the right typed
error within the deadline), that the number of requests is bounded, and that a submit
the server may have accepted is never sent twice. A table of all scenarios is printed
at the end of the run (see conftest.py).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml

from py302 import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    Client,
    InternalServerError,
    PluginHost,
    TaskFailedError,
    TaskTimeoutError,
)
from py302._registry import OperationSpec
from py302.contracts import with_sample_files
from py302.sandbox import Fault, Sandbox
from tests.sandbox.conftest import ManualClock
from tests.support import project_registries

EXAMPLES = Path(__file__).resolve().parent.parent / "cassettes" / "test_examples"
GATEWAY_ERROR = {
    "error": {"err_code": -10012, "message": "insufficient balance", "type": "api_error"}
}

# label -> (provider, submit operation, the provider's in-band error answer under HTTP 200).
# The label is the pattern's name; `declared@provider` for patterns read from the spec.
PATTERNS: dict[str, tuple[str, str, Any]] = {
    "flux.bfl": ("flux", "generate", GATEWAY_ERROR),
    "flux.submit_fetch": ("flux", "lora_training", GATEWAY_ERROR),
    "declared@kling": (
        "kling",
        "images_generations",
        {"code": 1102, "message": "insufficient balance"},
    ),
    "stability.async": ("stability", "upscale_creative", GATEWAY_ERROR),
    "declared@gongji": ("gongji", "create_flux_dev_task", GATEWAY_ERROR),
}


@attrs.frozen
class Scenario:
    name: str
    phase: str  # "submit", "poll" or "client"
    fault: Callable[[], Fault] | None
    expected: type[BaseException] | None  # None: a result
    may_have_been_accepted: bool = False  # the server may have started the task
    timeout: float = 5.0


def status_fault(status: int, **extra: Any) -> Callable[[], Fault]:
    return lambda: Fault(kind="status", status=status, **extra)


SCENARIOS = [
    Scenario("429 + Retry-After", "submit", status_fault(429, retry_after=2, times=1), None),
    Scenario("429, no Retry-After", "submit", status_fault(429, times=1), None),
    *(
        Scenario(
            f"{code} on submit",
            "submit",
            status_fault(code),
            InternalServerError,
            may_have_been_accepted=True,
        )
        for code in (500, 502, 503, 504)
    ),
    *(
        Scenario(f"{code} on poll", "poll", status_fault(code, times=2), None)
        for code in (500, 502, 503, 504)
    ),
    Scenario("connection refused", "client", None, APIConnectionError),
    Scenario(
        "reset mid-body, submit", "submit", lambda: Fault(kind="reset"), APIConnectionError, True
    ),
    Scenario("reset mid-body, poll", "poll", lambda: Fault(kind="reset", times=1), None),
    Scenario(
        "read timeout, submit",
        "submit",
        lambda: Fault(kind="latency", seconds=0.6),
        APITimeoutError,
        True,
        0.25,
    ),
    Scenario(
        "read timeout, poll",
        "poll",
        lambda: Fault(kind="latency", seconds=0.6, times=1),
        None,
        timeout=0.25,
    ),
    Scenario(
        "truncated JSON, submit", "submit", lambda: Fault(kind="truncate"), APIConnectionError, True
    ),
    Scenario("truncated JSON, poll", "poll", lambda: Fault(kind="truncate", times=1), None),
    Scenario(
        "HTML 502 page, submit",
        "submit",
        lambda: Fault(kind="html", status=502),
        InternalServerError,
        True,
    ),
    Scenario("HTML 502 page, poll", "poll", lambda: Fault(kind="html", status=502, times=1), None),
    Scenario("malformed JSON, poll", "poll", lambda: Fault(kind="malformed", times=1), None),
    Scenario("200 with error envelope", "submit", lambda: Fault(kind="body"), APIStatusError, True),
    Scenario("task fails", "submit", lambda: Fault(kind="task_fails"), TaskFailedError),
    Scenario(
        "task never finishes", "submit", lambda: Fault(kind="task_never_finishes"), TaskTimeoutError
    ),
    Scenario(
        "poll 404 for a while", "submit", lambda: Fault(kind="poll_not_found", seconds=3), None
    ),
]


def arguments_for(provider: str, op_id: str) -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / provider / f"{op_id}.yaml").read_text(encoding="utf-8"))
    arguments: dict[str, Any] = data["provenance"]["call"]["arguments"]
    return with_sample_files(arguments)


def spec_of(provider: str, op_id: str) -> OperationSpec:
    registry = next(r for r in project_registries() if r.provider == provider)
    return registry.get(op_id)


def count(requests: list[str], spec: OperationSpec) -> int:
    pattern = spec.path_pattern()
    return sum(
        1
        for line in requests
        if line.split(" ", 1)[0] == spec.method and pattern.match(line.split(" ", 1)[1])
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[Sandbox]:
    with Sandbox(task_seconds=6.0, clock=clock) as running:
        yield running


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
@pytest.mark.parametrize("pattern", sorted(PATTERNS))
def test_fault(
    pattern: str,
    scenario: Scenario,
    sandbox: Sandbox,
    clock: ManualClock,
    fault_rows: list[dict[str, Any]],
) -> None:
    provider, op_id, envelope = PATTERNS[pattern]
    submit = spec_of(provider, op_id)
    assert submit.task is not None
    assert submit.task.pattern == pattern.split("@", maxsplit=1)[0]
    poll = spec_of(provider, submit.task.poll)
    if scenario.fault is not None:
        fault = scenario.fault()
        fault.route = (poll if scenario.phase == "poll" else submit).qualified_name
        if fault.kind == "body":
            fault.body, fault.status = envelope, 200
        sandbox.faults.add(fault)
    base_url = (
        f"http://127.0.0.1:{closed_port()}" if scenario.phase == "client" else sandbox.base_url
    )
    client = Client(
        api_key="k",
        base_url=base_url,
        plugins=PluginHost(entry_points=False),
        sleep=clock.sleep,
        timeout=scenario.timeout,
    )

    outcome: BaseException | None = None
    with client:
        try:
            task = getattr(client.provider(provider), op_id)(**arguments_for(provider, op_id))
            result = task.wait(timeout=120)
            assert result.assets, "a result without its files is not a result"
        except Exception as exc:
            outcome = exc

    submits, polls = count(sandbox.state.requests, submit), count(sandbox.state.requests, poll)
    duplicates = submits - 1 if scenario.may_have_been_accepted and submits > 1 else 0
    survived = (
        outcome is None if scenario.expected is None else isinstance(outcome, scenario.expected)
    )
    fault_rows.append(
        {
            "pattern": pattern,
            "fault": scenario.name,
            "expected": scenario.expected.__name__ if scenario.expected else "result",
            "survived": survived,
            "requests": len(sandbox.state.requests),
            "submits": submits,
            "polls": polls,
            "duplicates": duplicates,
        }
    )
    assert survived, f"expected {scenario.expected or 'a result'}, got {outcome!r}"
    assert duplicates == 0
    # Bounded: one submit, at most the 120 s deadline over the smallest poll interval
    # (2 s, Kling's), and a few retries.
    assert len(sandbox.state.requests) <= 70, "requests must stay bounded"
    if scenario.name.startswith("429"):
        assert submits == 2
        first_wait = clock.slept[0]
        if scenario.name == "429 + Retry-After":
            assert first_wait == 2.0
        else:
            assert 0.375 <= first_wait <= 0.5
    if scenario.name == "task never finishes":
        assert 120 <= sum(clock.slept) <= 121
    if scenario.phase == "poll" and scenario.expected is None:
        assert polls >= 2, "the faulty poll was retried or polled again"
