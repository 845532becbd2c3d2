"""What every benchmark section shares: medians of interleaved runs, the sandbox in a
process of its own, and a key as long as a real one."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
#: As long as a real key, so every client pays what it pays for one (py302 keeps a key
#: out of what it shows, which a five-letter stand-in would be too short to need).
BENCH_KEY = "sk-bench-" + "0123456789abcdef" * 3
AUTH = {"Authorization": f"Bearer {BENCH_KEY}"}


def rotated_medians(actions: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median seconds of each action, run in turn each round so drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeats):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def median_time(action: Callable[[], Any], repeats: int) -> float:
    """Median seconds of `action` over `repeats` runs."""
    return rotated_medians({"it": action}, repeats)["it"]


@contextmanager
def sandbox_process(*extra: str) -> Iterator[str]:
    """`py302 sandbox serve` in its own process: the server never competes for our GIL."""
    sys.path.insert(0, str(ROOT))
    from tests.support import start_sandbox_process

    server, url = start_sandbox_process(*extra)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
