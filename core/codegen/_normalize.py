"""One shape for what OpenAPI lets a document say several ways.

Parameters may sit on the path item or on the operation, inline or as a `$ref` into
`components/parameters`; a request body or a response may be a `$ref` into
`components/requestBodies` or `components/responses`. Later steps read only the
operation-level, inline form, so each of those spellings is rewritten into it here,
once; none of them can be dropped further on. A path's `{placeholders}` and its path
parameters are checked against each other on the way. Problems name the JSON
pointer of what is wrong and say what to change.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["invalid_defaults", "normalize", "pointer"]

_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")


def pointer(*parts: str | int) -> str:
    """The JSON pointer of `parts` (`#/paths/~1pets~1{id}/get`), escaped as RFC 6901 says."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return "#/" + "/".join(escaped)


#: The keywords a schema's `default` is checked against: the ones that need no `$ref`.
_LOCAL_KEYWORDS = ("type", "enum", "const")


def invalid_defaults(node: Any, where: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Where a schema's `default` breaks the schema's own `type`, `enum` or `const`
    (the OpenAPI validator finds these, but cannot say where they are)."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(node, Mapping):
        local = {key: node[key] for key in _LOCAL_KEYWORDS if key in node}
        schema_like = isinstance(node.get("type", ""), str | list) and isinstance(
            node.get("enum", []), list
        )
        if "default" in node and local and schema_like and not _fits(node["default"], local):
            found.append((*where, "default"))
        for key, value in node.items():
            if key not in {"default", "example", "examples", "enum", "const"}:
                found += invalid_defaults(value, (*where, key))
    elif isinstance(node, list):
        for position, item in enumerate(node):
            found += invalid_defaults(item, (*where, position))
    return found


def _fits(value: Any, schema: Mapping[str, Any]) -> bool:
    from jsonschema import Draft202012Validator

    try:
        return bool(Draft202012Validator(schema).is_valid(value))
    except Exception:  # an unknown type: the OpenAPI validator reports that itself
        return True


def normalize(document: Mapping[str, Any], name: str) -> tuple[dict[str, Any], list[str]]:
    """A copy of `document` in the one shape, and what could not be put into it."""
    out: dict[str, Any] = copy.deepcopy(dict(document))
    problems: list[str] = []
    components = out.get("components", {}) or {}
    for path, item in (out.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        found = _Resolver(components, name, problems)
        shared = found.parameters(item.get("parameters", []), ("paths", path, "parameters"))
        item.pop("parameters", None)
        for method in _HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            where = ("paths", path, method)
            own = found.parameters(op.get("parameters", []), (*where, "parameters"))
            merged = {(p.get("name"), p.get("in")): p for p in [*shared, *own]}
            problems.extend(_placeholder_problems(path, list(merged.values()), name, where))
            if merged:
                op["parameters"] = list(merged.values())
            if "requestBody" in op:
                op["requestBody"] = found.resolve(
                    op["requestBody"], "requestBodies", (*where, "requestBody")
                )
            for status, response in list((op.get("responses") or {}).items()):
                op["responses"][status] = found.resolve(
                    response, "responses", (*where, "responses", str(status))
                )
    return out, problems


class _Resolver:
    """Follows `$ref`s into one document's components, noting what it cannot follow."""

    def __init__(self, components: Mapping[str, Any], name: str, problems: list[str]) -> None:
        self._components = components
        self._name = name
        self._problems = problems

    def parameters(self, raw: Any, where: tuple[str, ...]) -> list[dict[str, Any]]:
        """The parameters of a path item or an operation, each one inline."""
        if not isinstance(raw, list):
            return []
        resolved = [
            self.resolve(param, "parameters", (*where, str(index)))
            for index, param in enumerate(raw)
        ]
        return [param for param in resolved if param]  # an unresolved one is reported

    def resolve(self, value: Any, section: str, where: tuple[str, ...]) -> Any:
        """`value`, or what its `$ref` into `components/<section>` names (followed
        through chains of such refs); `{}` and a problem when it names nothing."""
        seen: set[str] = set()
        prefix = f"#/components/{section}/"
        while isinstance(value, Mapping) and "$ref" in value:
            ref = str(value["$ref"])
            target = (self._components.get(section) or {}).get(ref[len(prefix) :])
            if not ref.startswith(prefix) or ref in seen or target is None:
                why = (
                    "refers to itself"
                    if ref in seen
                    else "names nothing"
                    if ref.startswith(prefix)
                    else f"does not point into {prefix}"
                )
                self._problems.append(
                    f"{self._name}: {pointer(*where)}: $ref {ref} {why}; "
                    f"point it at an entry under {prefix}"
                )
                return {}
            seen.add(ref)
            value = target
        return copy.deepcopy(value)


def _placeholder_problems(
    path: str, parameters: list[dict[str, Any]], name: str, where: tuple[str, ...]
) -> list[str]:
    """Every `{placeholder}` needs a path parameter, and every path parameter a place."""
    placeholders = set(_PLACEHOLDER.findall(path))
    declared = {p.get("name") for p in parameters if p.get("in") == "path"}
    problems = [
        f"{name}: {pointer(*where)}: the path's {{{missing}}} has no parameter; declare "
        f"`- {{name: {missing}, in: path, required: true, schema: {{type: string}}}}` "
        "on the operation or the path"
        for missing in sorted(placeholders - declared)
    ]
    problems.extend(
        f"{name}: {pointer(*where)}: path parameter {extra!r} has no {{{extra}}} in the path "
        f"{path}; rename it or move it to the query"
        for extra in sorted(str(e) for e in declared - placeholders)
    )
    return problems
