"""`py302 specs report`: how much of the documentation the specs cover, and how well."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from py302._registry import ProviderRegistry

__all__ = ["EVIDENCE_ORDER", "ProviderReport", "evidence_report", "inventory_rows"]

EVIDENCE_ORDER = ("recorded", "doc", "sdk", "upstream", "inferred")


@attrs.frozen(kw_only=True)
class ProviderReport:
    """Operation counts per evidence level, and the inventory rows covered."""

    provider: str
    evidence: dict[str, int]
    operations: int
    rows_covered: int

    def as_json(self) -> dict[str, Any]:
        """The report as plain data."""
        return attrs.asdict(self)


def evidence_report(registries: Sequence[ProviderRegistry]) -> list[ProviderReport]:
    """One report per provider, in name order."""
    reports = []
    for registry in sorted(registries, key=lambda r: r.provider):
        counts = Counter(spec.evidence for spec in registry.operations.values())
        rows = {doc for spec in registry.operations.values() for doc in spec.doc_ids}
        reports.append(
            ProviderReport(
                provider=registry.provider,
                evidence={level: counts.get(level, 0) for level in EVIDENCE_ORDER},
                operations=len(registry.operations),
                rows_covered=len(rows),
            )
        )
    return reports


def inventory_rows(path: Path) -> set[str]:
    """The ids of a `doc-inventory.tsv`."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["id"] for row in csv.DictReader(handle, delimiter="\t")}
