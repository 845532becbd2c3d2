"""Faults the sandbox can be told to inject, per operation."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, Literal

import attrs

__all__ = ["FAULT_KINDS", "STREAM_KINDS", "Fault", "FaultPlan", "parse_fault"]

FaultKind = Literal[
    "latency",  # wait `seconds`, then answer normally
    "status",  # answer `status` (with Retry-After if `retry_after`), the provider's error body
    "html",  # answer `status` with an HTML error page, as a proxy in front would
    "reset",  # start the answer, then drop the connection
    "truncate",  # promise a body, send half of it, close
    "malformed",  # 200 with a body that is not JSON
    "body",  # answer `status` with the JSON `body` given (an in-band error envelope, say)
    "task_fails",  # the submitted task ends in the provider's failed state
    "task_never_finishes",  # the submitted task stays running
    "poll_not_found",  # polls answer 404 (the provider's not-found body) a while after submit
    "stream_cut",  # an event stream drops the connection after `events` events
    "stream_stall",  # an event stream falls silent for `seconds` after `events` events
]
FAULT_KINDS: tuple[str, ...] = FaultKind.__args__  # type: ignore[attr-defined]
_TASK_KINDS = frozenset({"task_fails", "task_never_finishes", "poll_not_found"})
STREAM_KINDS = frozenset({"stream_cut", "stream_stall"})


@attrs.define(kw_only=True)
class Fault:
    """One injected misbehaviour.

    `route` is a qualified operation name (`acme.draw`), a provider (`acme.*`),
    `files` (downloads of result files) or `*`; `times` limits how many matching
    requests it affects (None: all of them).
    """

    kind: FaultKind
    route: str = "*"
    times: int | None = None
    status: int = 500
    retry_after: float | None = None
    seconds: float = 0.0
    body: Any = None
    events: int = 1
    used: int = 0

    def matches(self, operation: str) -> bool:
        """Whether this fault applies to `operation` (not counting uses)."""
        if self.route == "*":
            return True
        if self.route.endswith(".*"):
            return operation.startswith(self.route[:-1])
        return operation == self.route

    @property
    def exhausted(self) -> bool:
        """Whether it has been used `times` times already."""
        return self.times is not None and self.used >= self.times

    @property
    def task_level(self) -> bool:
        """Whether it shapes a task's lifecycle rather than one answer."""
        return self.kind in _TASK_KINDS


class FaultPlan:
    """The faults of one sandbox; thread-safe, since the server runs in its own thread."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._faults = list(faults)
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        """Inject `fault` from now on."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def take(self, operation: str, *, task_level: bool) -> Fault | None:
        """The first live fault for `operation` of the given level, counted as used."""
        with self._lock:
            for fault in self._faults:
                if (
                    fault.task_level == task_level
                    and fault.matches(operation)
                    and not fault.exhausted
                ):
                    fault.used += 1
                    return fault
        return None


def parse_fault(text: str) -> Fault:
    """`ROUTE:KIND[,key=value...]`, e.g. `acme.draw:status,status=429,retry_after=1,times=2`."""
    route, _, rest = text.partition(":")
    if not rest:
        raise ValueError(
            f"fault {text!r}: write ROUTE:KIND[,key=value...], kinds: {', '.join(FAULT_KINDS)}"
        )
    kind, *pairs = rest.split(",")
    if kind not in FAULT_KINDS:
        raise ValueError(f"fault {text!r}: unknown kind {kind!r}; kinds: {', '.join(FAULT_KINDS)}")
    values: dict[str, float | int | None] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key in {"times", "status", "events"}:
            values[key] = int(value)
        elif key in {"retry_after", "seconds"}:
            values[key] = float(value)
        else:
            raise ValueError(
                f"fault {text!r}: unknown setting {key!r} "
                "(times, status, retry_after, seconds, events)"
            )
    return Fault(kind=kind, route=route or "*", **values)  # type: ignore[arg-type]
