"""`oneOf` unions whose branches cannot both match, checked branch by branch.

A validator must try every branch of a `oneOf` (to refuse a value two branches
accept), and a chat request's message list is a `oneOf` of five message kinds, some
with `oneOf`s inside: one short message cost a quarter of a millisecond. Where no
value can match two branches, the one branch a value can match is known from the
value, and only that one is checked; its errors are the ones reported ("content is
required", not "valid under none of the given schemas"). Two kinds of union:

- object branches that each fix one required property to a value of their own (a
  message's `role`, a part's `type`; `$ref`s followed into the document): the
  property's value picks the branch (`DISPATCH`);
- branches of different JSON types (a string, or an array of parts): the value's
  type picks it (`BY_TYPE`).

Both accept and refuse exactly the values the `oneOf` did. Anything else stays a
`oneOf`. The two keywords are py302's own, known only to its validators
(`py302._validation.validator_class`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ._registry import resolve_ref

__all__ = ["BY_TYPE", "DISPATCH", "by_type", "dispatch", "dispatch_key", "with_exclusive_unions"]

DISPATCH = "x-py302-dispatch"
BY_TYPE = "x-py302-by-type"

#: JSON types no value has two of (`integer` is left out: every integer is a number).
_DISJOINT_TYPES = frozenset({"string", "array", "object", "boolean", "null", "number"})


def with_exclusive_unions(schema: Any, document: Mapping[str, Any]) -> Any:
    """A copy of `schema` (which may be `document` itself) with each exclusive `oneOf`
    replaced by `DISPATCH` or `BY_TYPE`; `$ref`s are followed into `document` to judge
    a branch."""
    if isinstance(schema, Mapping):
        copied = {key: with_exclusive_unions(value, document) for key, value in schema.items()}
        branches = copied.get("oneOf")
        if not isinstance(branches, list) or len(branches) < 2:
            return copied
        resolved = [resolve_ref(document, branch) for branch in branches]
        if (name := _discriminator(resolved)) is not None:
            del copied["oneOf"]
            values = [_fixed_properties(branch)[name] for branch in resolved]
            copied["allOf"] = [
                *copied.get("allOf", []),
                {"type": "object", "required": [name], "properties": {name: {"enum": values}}},
            ]
            copied[DISPATCH] = {
                "property": name,
                "branches": {
                    dispatch_key(value): branch
                    for value, branch in zip(values, branches, strict=True)
                },
            }
        elif _by_type(resolved):
            del copied["oneOf"]
            copied[BY_TYPE] = {
                branch["type"]: original
                for branch, original in zip(resolved, branches, strict=True)
            }
        return copied
    if isinstance(schema, list):
        return [with_exclusive_unions(item, document) for item in schema]
    return schema


def dispatch(validator: Any, rule: Mapping[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
    """The `DISPATCH` keyword: check the branch the discriminating property names (an
    object without it, or naming no branch, is refused by the `enum` beside it)."""
    if not isinstance(instance, Mapping) or rule["property"] not in instance:
        return
    branch = rule["branches"].get(dispatch_key(instance[rule["property"]]))
    if branch is not None:
        yield from validator.descend(instance, branch)


def by_type(
    validator: Any, branches: Mapping[str, Any], instance: Any, schema: Any
) -> Iterator[Any]:
    """The `BY_TYPE` keyword: check the branch of the value's JSON type."""
    from jsonschema.exceptions import ValidationError

    for kind, branch in branches.items():
        if validator.is_type(instance, kind):
            yield from validator.descend(instance, branch)
            return
    shown = repr(instance) if len(repr(instance)) <= 60 else repr(instance)[:57] + "..."
    yield ValidationError(f"must be of type {' or '.join(branches)}, got {shown}")


def dispatch_key(value: Any) -> str:
    """How `DISPATCH` names the branch of a discriminating value."""
    return json.dumps(value, sort_keys=True)


def _by_type(branches: list[Mapping[str, Any]]) -> bool:
    kinds = [branch.get("type") for branch in branches]
    return all(isinstance(kind, str) and kind in _DISJOINT_TYPES for kind in kinds) and len(
        set(kinds)
    ) == len(kinds)


def _discriminator(branches: list[Mapping[str, Any]]) -> str | None:
    """A property every branch requires and fixes to a value no other branch fixes it
    to (the first by name, when there are several), or None."""
    fixed = [_fixed_properties(branch) for branch in branches]
    for name in sorted(set.intersection(*(set(values) for values in fixed))):
        values = [values[name] for values in fixed]
        if len({repr(value) for value in values}) == len(values):
            return name
    return None


def _fixed_properties(branch: Mapping[str, Any]) -> dict[str, Any]:
    """The required properties `branch` allows one value for (`const`, or an `enum` of
    one), by name."""
    properties = branch.get("properties")
    required = branch.get("required")
    if not isinstance(properties, Mapping) or not isinstance(required, list):
        return {}
    fixed = {}
    for name in required:
        prop = properties.get(name)
        if not isinstance(prop, Mapping):
            continue
        if "const" in prop:
            fixed[name] = prop["const"]
        elif isinstance(prop.get("enum"), list) and len(prop["enum"]) == 1:
            fixed[name] = prop["enum"][0]
    return fixed
