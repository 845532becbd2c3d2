"""A fast "certainly valid" check for the plain schemas most requests meet.

jsonschema's validator walks a schema generically: about 8 microseconds for a body
of one field, most of a call's validation. Here a schema made of the common keywords
(types, properties, required fields, items, string enums, bounds, patterns, `allOf`,
`anyOf`, `$ref`s, and the union keywords of `py302._exclusive_unions`; `format` is not
checked by py302's validators, so it is not here either) is turned once into nested Python
checks. A check only ever *accepts*: when it says no, or when a schema uses a keyword
it does not know, jsonschema judges the value and names what is wrong, so errors and
every edge of the standard stay jsonschema's.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from ._exclusive_unions import BY_TYPE, DISPATCH, dispatch_key

__all__ = ["Check", "quick_check"]

Check = Callable[[Any], bool]

_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}
_NUMBER = _TYPES["number"]
#: The keywords the checks implement; any other keyword the validator knows makes a
#: schema one for jsonschema alone.
_IMPLEMENTED = frozenset(
    {
        "$ref", "type", "enum", "const", "properties", "required", "additionalProperties",
        "items", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "minLength", "maxLength", "minItems", "maxItems", "allOf", "anyOf", "pattern",
        "format", DISPATCH, BY_TYPE,
    }
)  # fmt: skip


def quick_check(
    schema: Any, document: Mapping[str, Any], keywords: Collection[str]
) -> Check | None:
    """A check that accepts only values valid for `schema` (whose `$ref`s point into
    `document`), or None when the schema uses a keyword of `keywords` (the validator's)
    that is not implemented here."""
    return _Compiler(document, frozenset(keywords) - _IMPLEMENTED).compile(schema, frozenset())


class _Compiler:
    def __init__(self, document: Mapping[str, Any], unsupported: frozenset[str]) -> None:
        self.document = document
        self.unsupported = unsupported

    def compile(self, schema: Any, refs: frozenset[str]) -> Check | None:  # noqa: PLR0912
        if schema is True:
            return _anything
        if not isinstance(schema, Mapping) or self.unsupported & schema.keys():
            return None
        if "$ref" in schema:
            return self._reference(schema, refs)
        checks: list[Check] = []
        kind = schema.get("type")
        if kind is not None:
            kinds = [kind] if isinstance(kind, str) else kind
            tests = [_TYPES.get(k) for k in kinds] if isinstance(kinds, list) else [None]
            if None in tests:
                return None
            checks.append(_any_type([test for test in tests if test is not None]))
        for key in ("enum", "const"):
            if key in schema:
                allowed = schema[key] if key == "enum" else [schema[key]]
                members = _members(allowed)
                if members is None:
                    return None  # equality across types is jsonschema's to judge
                checks.append(members)
        for part in schema.get("allOf", []):
            check = self.compile(part, refs)
            if check is None:
                return None
            checks.append(check)
        if "anyOf" in schema:
            options = [self.compile(part, refs) for part in schema["anyOf"]]
            if None in options:
                return None
            checks.append(_any_of([option for option in options if option is not None]))
        if "pattern" in schema:
            try:
                expression = re.compile(schema["pattern"])
            except (re.error, TypeError):
                return None
            checks.append(_matches(expression))
        bounds = _bounds(schema)
        if bounds is None:
            return None
        checks += bounds
        for part in (
            self._object(schema, refs),
            self._array(schema, refs),
            self._unions(schema, refs),
        ):
            if part is None:
                return None
            checks += part
        if not checks:
            return _anything
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(check(v) for check in checks)

    def _reference(self, schema: Mapping[str, Any], refs: frozenset[str]) -> Check | None:
        ref = schema["$ref"]
        if len(schema.keys() & (self.unsupported | _IMPLEMENTED)) > 1:
            return None  # a reference beside other rules
        if not isinstance(ref, str) or not ref.startswith("#/") or ref in refs:
            return None  # elsewhere, or recursive: jsonschema follows those
        target: Any = self.document
        for escaped in ref[2:].split("/"):
            part = escaped.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                return None
            target = target[part]
        return self.compile(target, refs | {ref})

    def _object(self, schema: Mapping[str, Any], refs: frozenset[str]) -> list[Check] | None:
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        extra = schema.get("additionalProperties", True)
        if not isinstance(properties, Mapping) or not isinstance(required, list):
            return None
        compiled: dict[str, Check] = {}
        for name, sub in properties.items():
            check = self.compile(sub, refs)
            if check is None:
                return None
            if check is not _anything:
                compiled[name] = check
        known = frozenset(properties)
        extra_check: Check | None = None
        if extra is False:
            extra_check = _only(known)
        elif extra is not True:
            each = self.compile(extra, refs)
            if each is None:
                return None
            extra_check = _others(known, each)
        if not compiled and not required and extra_check is None:
            return []
        needed = tuple(required)

        def check_object(v: Any) -> bool:
            if not isinstance(v, dict):
                return True  # these keywords apply to objects only
            if any(name not in v for name in needed):
                return False
            if extra_check is not None and not extra_check(v):
                return False
            return all(test(v[name]) for name, test in compiled.items() if name in v)

        return [check_object]

    def _array(self, schema: Mapping[str, Any], refs: frozenset[str]) -> list[Check] | None:
        if "items" not in schema:
            return []
        item = self.compile(schema["items"], refs)
        if item is None:
            return None
        return [lambda v: not isinstance(v, list) or all(item(x) for x in v)]

    def _unions(self, schema: Mapping[str, Any], refs: frozenset[str]) -> list[Check] | None:
        checks: list[Check] = []
        if DISPATCH in schema:
            rule = schema[DISPATCH]
            branches = {key: self.compile(branch, refs) for key, branch in rule["branches"].items()}
            if None in branches.values():
                return None
            name = rule["property"]

            def check_dispatch(v: Any) -> bool:
                if not isinstance(v, dict) or name not in v:
                    return not isinstance(v, dict)  # a missing discriminator: jsonschema's
                branch = branches.get(dispatch_key(v[name]))
                return branch is not None and branch(v)

            checks.append(check_dispatch)
        if BY_TYPE in schema:
            typed = [
                (_TYPES.get(kind), self.compile(branch, refs))
                for kind, branch in schema[BY_TYPE].items()
            ]
            if any(test is None or check is None for test, check in typed):
                return None

            def check_by_type(v: Any) -> bool:
                for test, check in typed:
                    if test(v):  # type: ignore[misc]
                        return check(v)  # type: ignore[misc]
                return False

            checks.append(check_by_type)
        return checks


def _bounds(schema: Mapping[str, Any]) -> list[Check] | None:
    """Checks for the numeric, length and size bounds `schema` sets (compared exactly:
    Python compares an int with a float without rounding either)."""
    checks: list[Check] = []
    for key, compare, applies, measure in (
        ("minimum", operator.ge, _NUMBER, _same),
        ("maximum", operator.le, _NUMBER, _same),
        ("exclusiveMinimum", operator.gt, _NUMBER, _same),
        ("exclusiveMaximum", operator.lt, _NUMBER, _same),
        ("minLength", operator.ge, _TYPES["string"], len),
        ("maxLength", operator.le, _TYPES["string"], len),
        ("minItems", operator.ge, _TYPES["array"], len),
        ("maxItems", operator.le, _TYPES["array"], len),
    ):
        if key not in schema:
            continue
        limit = schema[key]
        if not _NUMBER(limit) or not math.isfinite(limit):
            return None
        checks.append(_bound(limit, compare, applies, measure))
    return checks


def _bound(
    limit: float,
    compare: Callable[[Any, Any], Any],
    applies: Callable[[Any], bool],
    measure: Callable[[Any], Any],
) -> Check:
    return lambda v: not applies(v) or bool(compare(measure(v), limit))


def _members(allowed: Any) -> Check | None:
    """A check for an `enum` of strings only, or of integers only (a bool is never one
    of them, as in JSON Schema); None for any other list."""
    if not isinstance(allowed, list):
        return None
    if all(isinstance(a, str) for a in allowed):
        strings = frozenset(allowed)
        return lambda v: isinstance(v, str) and v in strings
    if all(isinstance(a, int) and not isinstance(a, bool) for a in allowed):
        numbers = frozenset(allowed)
        return lambda v: _NUMBER(v) and v in numbers
    return None


def _only(known: frozenset[str]) -> Check:
    return lambda v: v.keys() <= known


def _others(known: frozenset[str], each: Check) -> Check:
    return lambda v: all(each(item) for key, item in v.items() if key not in known)


def _same(value: Any) -> Any:
    return value


def _any_of(options: list[Check]) -> Check:
    return lambda v: any(option(v) for option in options)


def _matches(expression: re.Pattern[str]) -> Check:
    # jsonschema searches with Python's re too (not anchored, as JSON Schema says).
    return lambda v: not isinstance(v, str) or expression.search(v) is not None


def _any_type(tests: list[Callable[[Any], bool]]) -> Check:
    return lambda v: any(test(v) for test in tests)


def _anything(value: Any) -> bool:
    return True
