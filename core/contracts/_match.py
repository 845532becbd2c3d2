"""Which operation of the specs a recorded request was sent to.

Shared by the contract check (`_contract`) and drift (`_drift`): both start from a
recorded method and URL, and neither depends on the other for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from py302._registry import OperationSpec, ProviderRegistry

__all__ = ["find_operation"]


def find_operation(
    registries: Sequence[ProviderRegistry], method: str, url: str, *, named: str | None = None
) -> tuple[ProviderRegistry, OperationSpec] | None:
    """The registry and operation that serve `method url`.

    Several operations may share a method and path (302's async chat is chat with
    `?async=true`): one whose required constant query parameters the URL carries wins
    over one without, an operation whose constants the URL lacks is no match, then
    literal paths come before templates. `named` (a cassette's own record of what it
    called) decides between operations that still tie.
    """
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    matches = [
        (registry, spec)
        for registry in registries
        for spec in registry.matches(method.upper(), parts.path)
        if _constants_fit(spec, query)
    ]
    matches.sort(
        key=lambda pair: (
            -len(_constants(pair[1])),
            pair[1].qualified_name != named,
            pair[1].path.count("{"),
            pair[1].qualified_name,
        )
    )
    return matches[0] if matches else None


def _constants(spec: OperationSpec) -> dict[str, Any]:
    """The required query parameters that allow one value (`const`), by name."""
    return {
        param.name: param.schema["const"]
        for param in spec.parameters
        if param.location == "query" and param.required and "const" in param.schema
    }


def _constants_fit(spec: OperationSpec, query: Mapping[str, str]) -> bool:
    return all(query.get(name) == _as_text(value) for name, value in _constants(spec).items())


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
