"""Which operation of the specs a recorded request was sent to.

Shared by the contract check (`_contract`) and drift (`_drift`): both start from a
recorded method and URL, and neither depends on the other for it.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        if spec.constants_fit(query)
    ]
    matches.sort(
        key=lambda pair: (
            -len(pair[1].query_constants),
            pair[1].qualified_name != named,
            pair[1].path.count("{"),
            pair[1].qualified_name,
        )
    )
    return matches[0] if matches else None
