"""Hypothesis strategies for the JSON Schema subset the specs use.

hypothesis-jsonschema would be the library for this, but its last release calls
Hypothesis internals that current Hypothesis no longer has; this covers what our
fragments use, and every drawn value is checked with jsonschema by the test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from py302._registry import ProviderRegistry

__all__ = ["mutated", "values_for"]


def values_for(  # noqa: PLR0912 - one branch per schema keyword
    registry: ProviderRegistry, schema: Mapping[str, Any], depth: int = 0
) -> st.SearchStrategy[Any]:
    """Values that should satisfy `schema` (references resolved in `registry`)."""
    schema = registry.resolve(schema)
    if "const" in schema:
        return st.just(schema["const"])
    if schema.get("enum"):
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return st.one_of([values_for(registry, part, depth + 1) for part in schema[key]])
    if schema.get("allOf"):
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for raw in schema["allOf"]:
            part = registry.resolve(raw)
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
        return values_for(registry, merged, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([values_for(registry, {**schema, "type": k}, depth) for k in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(
            min_value=schema.get("minimum", -1000), max_value=schema.get("maximum", 10**6)
        )
    if kind == "number":
        low, high = schema.get("minimum", -1000.0), schema.get("maximum", 10**6)
        return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
    if kind == "string":
        return st.text(
            min_size=schema.get("minLength", 0),
            max_size=max(min(schema.get("maxLength", 20), 20), schema.get("minLength", 0)),
        )
    if kind == "array":
        items = (
            values_for(registry, schema.get("items", {}), depth + 1) if depth < 4 else st.just("x")
        )
        return st.lists(
            items,
            min_size=schema.get("minItems", 0),
            # Short lists, but never shorter than the schema's own minimum.
            max_size=max(min(schema.get("maxItems", 3), 3), schema.get("minItems", 0)),
        )
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        required = [name for name in schema.get("required", []) if name in properties]
        optional = [name for name in properties if name not in required]
        if depth > 4:
            return st.just(dict.fromkeys(required))
        return st.fixed_dictionaries(
            {name: values_for(registry, properties[name], depth + 1) for name in required},
            optional={name: values_for(registry, properties[name], depth + 1) for name in optional},
        )
    return st.one_of(st.integers(), st.text(max_size=10), st.booleans())


#: What a mutation puts in a value's place: other roles and types, bounds' edges, a
#: bool where a number goes, empty and long text.
_REPLACEMENTS: list[Any] = [
    "user", "tool", "text", "x", "", "a" * 300, 7, 3, -1, 0, 2.5, 10**12, True, None,
    [], [1], {}, {"type": "text"},
]  # fmt: skip


def drawn_request(registry: Any, schema: Any, data: st.DataObject) -> Any:
    """A value of `schema`, and half the time one change to it (see `mutated`)."""
    value = data.draw(values_for(registry, schema))
    return mutated(value, data) if data.draw(st.booleans()) else value


def mutated(value: Any, data: st.DataObject) -> Any:
    """`value` with one change somewhere: a key dropped, a value of another type, or a
    string swapped for another (a role, a part's type)."""
    if isinstance(value, dict) and value:
        key = data.draw(st.sampled_from(sorted(value)))
        how = data.draw(st.sampled_from(["drop", "inside", "replace"]))
        if how == "drop":
            return {k: v for k, v in value.items() if k != key}
        if how == "inside":
            return {**value, key: mutated(value[key], data)}
        return {**value, key: data.draw(st.sampled_from(_REPLACEMENTS))}
    if isinstance(value, list) and value:
        index = data.draw(st.integers(0, len(value) - 1))
        return [*value[:index], mutated(value[index], data), *value[index + 1 :]]
    return data.draw(st.sampled_from(_REPLACEMENTS))
