"""OpenAPI security: which headers carry the key for an operation.

An operation's `security` (or the document's) names schemes of
`components.securitySchemes`; py302 sends the key in every header the first
requirement names (some of 302's routes want a key header such as `mj-api-secret` beside the usual
Bearer). The registry keeps the result as a list of `{header, prefix}`; an operation
with no declared security has no entry, and gets `Authorization: Bearer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["declared_auth"]


def declared_auth(
    op: Mapping[str, Any], document: Mapping[str, Any], where: str, problems: list[str]
) -> list[dict[str, str]] | None:
    """The headers that carry the key for `op`, or None for the default (Bearer).

    An empty requirement list (`security: []`) means the operation takes no key.
    Alternatives (several requirement objects) are tried in order: the first that
    py302 can send is used, so a document may offer a scheme py302 cannot send as long
    as it also offers one it can."""
    requirements = op.get("security", document.get("security"))
    if requirements is None:
        return None
    if not isinstance(requirements, list):
        problems.append(f"{where}: security must be a list of requirement objects")
        return None
    if not requirements:
        return []
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    refusals: list[str] = []
    for requirement in requirements:
        if not isinstance(requirement, Mapping):
            problems.append(f"{where}: security lists {requirement!r}, not a mapping")
            return None
        if not requirement:
            return []  # `{}` among the alternatives: the key is optional
        headers, why = _headers_of(requirement, schemes)
        if headers is not None:
            return headers
        refusals.append(why)
    problems.append(f"{where}: no security requirement py302 can send: {'; '.join(refusals)}")
    return None


def _headers_of(
    requirement: Mapping[str, Any], schemes: Mapping[str, Any]
) -> tuple[list[dict[str, str]] | None, str]:
    headers = []
    for name in requirement:
        scheme = schemes.get(name)
        if not isinstance(scheme, Mapping):
            return None, f"{name!r} is not in components.securitySchemes"
        kind = scheme.get("type")
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            headers.append({"header": "Authorization", "prefix": "Bearer "})
        elif kind == "apiKey" and scheme.get("in") == "header" and scheme.get("name"):
            headers.append({"header": str(scheme["name"]), "prefix": ""})
        else:
            return None, (
                f"{name!r} is {kind} {scheme.get('scheme') or scheme.get('in') or ''}".rstrip()
                + " (py302 sends http bearer and apiKey headers)"
            )
    return headers, ""
