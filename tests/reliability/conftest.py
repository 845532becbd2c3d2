"""The fault suite's summary table, printed at the end of the run."""

from __future__ import annotations

from typing import Any

import pytest

#: One row per fault scenario, filled in by test_faults.py.
FAULT_ROWS: list[dict[str, Any]] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FAULT_ROWS:
        return
    write = terminalreporter.write_line
    write("")
    write(
        "fault suite: pattern / fault -> outcome, requests sent (submits, polls), duplicate submits"
    )
    header = (
        f"{'pattern':18} {'fault':26} {'expected':22} {'survived':8} "
        f"{'requests':>8} {'submits':>7} {'polls':>5} {'dupes':>5}"
    )
    write(header)
    write("-" * len(header))
    for row in sorted(FAULT_ROWS, key=lambda r: (r["pattern"], r["fault"])):
        survived = "yes" if row["survived"] else "NO"
        write(
            f"{row['pattern']:18} {row['fault']:26} {row['expected']:22} {survived:8} "
            f"{row['requests']:>8} {row['submits']:>7} {row['polls']:>5} {row['duplicates']:>5}"
        )
    survived = sum(row["survived"] for row in FAULT_ROWS)
    duplicates = sum(row["duplicates"] for row in FAULT_ROWS)
    write(f"faults tried: {len(FAULT_ROWS)}, survived: {survived}, duplicate submits: {duplicates}")


@pytest.fixture
def fault_rows() -> list[dict[str, Any]]:
    return FAULT_ROWS
