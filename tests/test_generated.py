"""generated/ matches specs/, and the Flux fragment covers its inventory rows."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from py302._registry import load_registry

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = {"recorded", "doc", "sdk", "upstream", "inferred"}


def inventory(group: str) -> set[str]:
    with (ROOT / "specs" / "doc-inventory.tsv").open(newline="") as handle:
        return {
            row["id"] for row in csv.DictReader(handle, delimiter="\t") if row["group"] == group
        }


def test_generated_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/generate.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def test_every_flux_inventory_row_is_covered() -> None:
    registry = load_registry("py302.generated.flux")
    covered = {doc for spec in registry.operations.values() for doc in spec.doc_ids}
    assert len(inventory("flux")) == 29
    assert inventory("flux") <= covered


def test_every_flux_operation_states_its_evidence() -> None:
    registry = load_registry("py302.generated.flux")
    for spec in registry.operations.values():
        assert spec.evidence in EVIDENCE, spec.qualified_name
        if spec.evidence != "inferred":
            assert spec.sources, spec.qualified_name
        if spec.evidence in {"upstream", "inferred"}:
            assert spec.notes, spec.qualified_name


def test_every_flux_operation_has_a_binding() -> None:
    from py302.generated.flux import FluxOperations

    registry = load_registry("py302.generated.flux")
    for op_id in registry.operations:
        assert callable(getattr(FluxOperations, op_id, None)) or hasattr(FluxOperations, op_id), (
            op_id
        )
