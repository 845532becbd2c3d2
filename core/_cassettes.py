"""Reading VCR cassettes: their interactions and the JSON in their bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._errors import CassetteError

__all__ = [
    "NOT_JSON",
    "CassetteError",
    "is_recorded",
    "json_body",
    "read_cassette",
    "read_interactions",
]

NOT_JSON: Any = object()
"""What `json_body` returns for a body that is not JSON."""


def read_cassette(path: Path) -> dict[str, Any]:
    """The cassette at `path` as a mapping with an `interactions` list."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CassetteError(f"{path}: not a readable cassette: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{path}: not a cassette (no `interactions` list)")
    return data


def read_interactions(path: Path) -> list[dict[str, Any]]:
    """The interactions of the cassette at `path`, in recorded order."""
    interactions: list[dict[str, Any]] = read_cassette(path)["interactions"]
    return interactions


def is_recorded(cassette: dict[str, Any]) -> bool:
    """Whether the cassette says it holds real recorded traffic (`provenance.recorded`)."""
    provenance = cassette.get("provenance")
    return isinstance(provenance, dict) and provenance.get("recorded") is True


def json_body(raw: Any) -> Any:
    """A recorded body decoded from JSON; None if empty, `NOT_JSON` if it is not JSON."""
    if raw is None or raw in ("", b""):
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return NOT_JSON
