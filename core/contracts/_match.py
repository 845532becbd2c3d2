"""Which operation of the specs a recorded request was sent to.

Shared by the contract check (`_contract`) and drift (`_drift`): both start from a
recorded method and URL, and neither depends on the other for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from py302._registry import OperationSpec, ProviderRegistry

__all__ = ["find_operation"]


def find_operation(
    registries: Sequence[ProviderRegistry], method: str, url: str
) -> tuple[ProviderRegistry, OperationSpec] | None:
    """The registry and operation that serve `method url` (literal paths first)."""
    method, path = method.upper(), urlsplit(url).path
    matches = [
        (registry, spec) for registry in registries if (spec := registry.match(method, path))
    ]
    matches.sort(key=lambda pair: (pair[1].path.count("{"), pair[1].qualified_name))
    return matches[0] if matches else None
