"""Checking requests (before sending) and bodies (in contract tests) against the spec.

jsonschema is imported on first use, not with `import py302`.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._errors import RequestValidationError
from ._exclusive_unions import BY_TYPE, DISPATCH, by_type, dispatch, with_exclusive_unions
from ._quick_check import Check, quick_check
from ._registry import OperationSpec, ParameterSpec, ProviderRegistry

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

__all__ = [
    "coerce_text",
    "iter_refs",
    "rebase_refs",
    "schema_problems",
    "validate_request",
    "validator_class",
    "validator_for",
]

BINARY_PLACEHOLDER = "<binary>"
#: Which way a body travels: see `schema_problems`.
Direction = Literal["request", "response"]


def validate_request(
    registry: ProviderRegistry,
    spec: OperationSpec,
    *,
    path: Mapping[str, Any],
    query: Mapping[str, Any],
    body: Any,
    options: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
    cookies: Mapping[str, Any] | None = None,
    plain_json: bool = False,
) -> None:
    """Raise `RequestValidationError` naming every field of the request that is wrong.

    `headers` are the caller's; only those the operation declares as header
    parameters are checked (any other header may be sent as it is). `plain_json` says
    the body is known to hold only JSON values (it serialised as strict JSON): no file
    and no NaN, so the walks that look for those are skipped.
    """
    options = options or {}
    given = {"path": path, "query": query, "cookie": cookies or {}}
    problems = _parameter_problems(registry, spec, {**given, "header": _declared(spec, headers)})
    parameters = {**query, **path}
    loose = [*_non_finite(query), *_non_finite(path)] if parameters else []
    if plain_json:
        files = _misplaced_files(spec, parameters, None) if parameters else []
    else:
        loose.extend(_non_finite(body))
        files = _misplaced_files(spec, parameters, body)
        files.extend(_missing_files(spec, body))
    problems.extend(
        (field, "must be a finite number: JSON has no NaN or Infinity") for field in loose
    )
    problems.extend(files)
    names = spec.parameter_names
    for location, values in given.items():
        for name in values:
            if name not in names[location]:
                allowed = ", ".join(sorted(names[location])) or "none"
                problems.append((name, f"is not a {location} parameter (allowed: {allowed})"))
    declared_options = spec.options
    for name, value in options.items():
        if name not in declared_options:
            allowed = ", ".join(sorted(declared_options)) or "none"
            problems.append((name, f"is not an option of this operation (allowed: {allowed})"))
            continue
        problems.extend(
            (name, rule) for _, rule in schema_problems(registry, declared_options[name], value)
        )
    if spec.request_schema is not None:
        if body is None and _is_object(registry, spec.request_schema):
            body = {}  # no fields given: the required ones are named below
        if body is not None:  # a body of one value that was left out is not sent
            shown = body if plain_json else _with_placeholders(body)
            problems.extend(schema_problems(registry, spec.request_schema, shown))
    elif body:
        problems.append(("(body)", "this operation takes no request body"))
    if problems:
        raise RequestValidationError(spec.qualified_name, problems)


def _is_object(registry: ProviderRegistry, schema: Mapping[str, Any]) -> bool:
    """Whether a request body of `schema` is an object of fields (not one value)."""
    resolved = registry.resolve(schema)
    kind = resolved.get("type")
    return kind == "object" or "properties" in resolved or "allOf" in resolved


def _declared(spec: OperationSpec, headers: Mapping[str, Any] | None) -> dict[str, Any]:
    """The caller's values of the header parameters `spec` declares, by declared name."""
    declared = spec.header_parameters
    return {
        declared[name.lower()].name: value
        for name, value in (headers or {}).items()
        if name.lower() in declared
    }


def _parameter_problems(
    registry: ProviderRegistry, spec: OperationSpec, given: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """What is wrong with the path, query and header values given for the declared
    parameters."""
    problems: list[tuple[str, str]] = []
    for param in spec.parameters:
        values = given[param.location]
        if param.name not in values:
            if param.required:
                problems.append((param.name, f"is required ({param.location} parameter)"))
            continue
        problems.extend(
            (param.name if sub == "(body)" else f"{param.name}.{sub}", rule)
            for sub, rule in schema_problems(registry, param.schema, values[param.name])
        )
        if param.location == "path":
            problems.extend(_path_value_problems(param, str(values[param.name])))
    return problems


def _path_value_problems(param: ParameterSpec, text: str) -> list[tuple[str, str]]:
    """A path value that would change which URL is asked: `.`, `..`, and with
    slashes allowed, an empty segment or a `.`/`..` one."""
    if not param.allow_slashes:
        if text in {".", ".."}:
            return [(param.name, "cannot be '.' or '..': it would change the URL's path")]
        return []
    if any(segment in {"", ".", ".."} for segment in text.split("/")):
        return [
            (
                param.name,
                f"{text!r} has an empty, '.' or '..' segment; give a path such as "
                "'vendor/model' (no leading, trailing or doubled slash)",
            )
        ]
    return []


def schema_problems(
    registry: ProviderRegistry,
    schema: Mapping[str, Any],
    instance: Any,
    *,
    direction: Direction = "request",
) -> list[tuple[str, str]]:
    """`(field, rule)` for each way `instance` breaks `schema`, sorted by field.

    `direction` says which way the instance travels: a request need not carry the
    required properties marked `readOnly` (the server assigns them), nor an answer
    the `writeOnly` ones (the server never returns them), as OpenAPI says.
    """
    quick = _quick_for(registry, schema)
    if quick is not None and quick(instance):
        return []
    validator = validator_for(registry, schema, direction)
    found = [_describe(error, direction) for error in validator.iter_errors(instance)]
    return sorted(set(found))


_QUICK: dict[tuple[int, int], tuple[Mapping[str, Any], Check | None]] = {}


def _quick_for(registry: ProviderRegistry, schema: Mapping[str, Any]) -> Check | None:
    """The quick check of `schema` (see `py302._quick_check`), made once; by identity,
    as `validator_for` keeps its validators."""
    key = (id(registry), id(schema))
    found = _QUICK.get(key)
    if found is not None and found[0] is schema:
        return found[1]
    keywords = validator_class("request").VALIDATORS
    check = quick_check(_checked_schema(registry, schema), _checked_document(registry), keywords)
    if len(_QUICK) < 4096:
        _QUICK[key] = (schema, check)
    return check


@functools.lru_cache(maxsize=2)
def validator_class(direction: Direction) -> Any:
    """Draft 2020-12, with `required` waiving what OpenAPI's `readOnly` (in a request)
    or `writeOnly` (in an answer) lets a body leave out."""
    from jsonschema import Draft202012Validator, validators

    waived = "readOnly" if direction == "request" else "writeOnly"
    check_required = Draft202012Validator.VALIDATORS["required"]

    def required(validator: Any, names: Any, instance: Any, schema: Any) -> Any:
        properties = schema.get("properties") if isinstance(schema, Mapping) else None
        if isinstance(properties, Mapping) and isinstance(names, list):
            names = [
                name
                for name in names
                if not (isinstance(properties.get(name), Mapping) and properties[name].get(waived))
            ]
        return check_required(validator, names, instance, schema)

    return validators.extend(
        Draft202012Validator, {"required": required, DISPATCH: dispatch, BY_TYPE: by_type}
    )


@functools.lru_cache(maxsize=1024)
def _validator_cached(
    registry: ProviderRegistry, schema_key: str, direction: Direction
) -> Validator:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    # Follow a top-level reference once here, not on every validation.
    schema = _checked_schema(registry, json.loads(schema_key))
    resource = Resource.from_contents(
        _checked_document(registry), default_specification=DRAFT202012
    )
    store = Registry().with_resource(registry.schema_uri, resource)
    rooted = {"$id": registry.schema_uri + "/request", **rebase_refs(schema, registry.schema_uri)}
    validator: Validator = validator_class(direction)(rooted, registry=store, format_checker=None)
    return validator


def _checked_schema(registry: ProviderRegistry, schema: Mapping[str, Any]) -> Any:
    """`schema` as validators see it: a top-level reference followed once, its
    exclusive unions rewritten (see `py302._exclusive_unions`)."""
    return with_exclusive_unions(registry.resolve(schema), registry.document)


@functools.lru_cache(maxsize=64)
def _checked_document(registry: ProviderRegistry) -> dict[str, Any]:
    """The registry's document as validators see it (see `py302._exclusive_unions`)."""
    checked: dict[str, Any] = with_exclusive_unions(registry.document, registry.document)
    return checked


_BY_IDENTITY: dict[tuple[int, int, str], tuple[Mapping[str, Any], Validator]] = {}


def validator_for(
    registry: ProviderRegistry, schema: Mapping[str, Any], direction: Direction = "request"
) -> Validator:
    """A cached 2020-12 validator for a schema that may refer into `registry`'s document.

    Registry schemas live as long as their registry, so the hot path looks them up by
    identity (the schema is kept in the entry, so its id cannot be reused) and only
    new schemas pay for serialising a cache key.
    """
    key = (id(registry), id(schema), direction)
    found = _BY_IDENTITY.get(key)
    if found is not None and found[0] is schema:
        return found[1]
    validator = _validator_cached(registry, json.dumps(schema, sort_keys=True), direction)
    if len(_BY_IDENTITY) < 4096:
        _BY_IDENTITY[key] = (schema, validator)
    return validator


def rebase_refs(schema: Any, uri: str) -> Any:
    """Point local `#/components/...` references at the provider's document."""
    if isinstance(schema, dict):
        return {
            key: (
                uri + value if key == "$ref" and value.startswith("#") else rebase_refs(value, uri)
            )
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [rebase_refs(item, uri) for item in schema]
    return schema


def _describe(error: Any, direction: Direction = "request") -> tuple[str, str]:
    location = [str(part) for part in error.absolute_path]
    validator = error.validator
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return (".".join([*location, missing]), "is required")
    if validator == "additionalProperties":
        return (".".join(location) or "(body)", error.message)
    if (
        direction == "request"
        and validator == "type"
        and error.instance is None
        and len(location) == 1
    ):
        # A builder sends a required keyword as given: None there means "left out".
        return (location[0], "is required (got None, which this field does not allow)")
    field = ".".join(location) or "(body)"
    return (field, _rule(error))


def _rule(error: Any) -> str:
    value = error.instance
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    expected = {
        "type": lambda: f"must be of type {_types(schema.get('type'))}, got {shown}",
        "enum": lambda: f"must be one of {schema.get('enum')}, got {shown}",
        "minimum": lambda: f"must be >= {schema.get('minimum')}, got {shown}",
        "maximum": lambda: f"must be <= {schema.get('maximum')}, got {shown}",
        "exclusiveMinimum": lambda: f"must be > {schema.get('exclusiveMinimum')}, got {shown}",
        "exclusiveMaximum": lambda: f"must be < {schema.get('exclusiveMaximum')}, got {shown}",
        "minLength": lambda: f"must have at least {schema.get('minLength')} characters",
        "maxLength": lambda: f"must have at most {schema.get('maxLength')} characters",
        "minItems": lambda: f"must have at least {schema.get('minItems')} items",
        "maxItems": lambda: f"must have at most {schema.get('maxItems')} items",
        "pattern": lambda: f"must match {schema.get('pattern')!r}, got {shown}",
        "const": lambda: f"must be {schema.get('const')!r}, got {shown}",
    }.get(error.validator)
    return expected() if expected else str(error.message)


def _types(value: Any) -> str:
    if isinstance(value, list):
        return " or ".join(str(item) for item in value)
    return str(value)


def _with_placeholders(body: Any) -> Any:
    """Stand files in a multipart body in for strings, so `format: binary` fields check."""
    if isinstance(body, Mapping):
        return {key: _with_placeholders(value) for key, value in body.items()}
    if isinstance(body, list | tuple):
        return [_with_placeholders(item) for item in body]
    if isinstance(body, bytes | bytearray) or hasattr(body, "read") or _is_path(body):
        return BINARY_PLACEHOLDER
    return body


def _misplaced_files(
    spec: OperationSpec, parameters: Mapping[str, Any], body: Any
) -> list[tuple[str, str]]:
    """Files (bytes, a file object, a path) given where the operation takes text: only
    the multipart fields its spec declares binary carry files."""
    binary = spec.binary_fields
    found = [*_files(parameters), *(_files(body) if body is not None else [])]
    return [
        (
            field,
            f"is a file ({kind}), but this field takes text: pass a str (for an image, its "
            "URL, or see the field's description)",
        )
        for field, kind in found
        if field.split(".")[0] not in binary or field in parameters
    ]


def _missing_files(spec: OperationSpec, body: Any) -> list[tuple[str, str]]:
    """Paths given for files (in the binary fields, or as a body that is one file)
    that name no file: refused here, before anything is sent."""
    binary = spec.binary_fields
    if "(body)" in binary:
        given = [("(body)", body)]
    elif isinstance(body, Mapping):
        given = [(name, value) for name, value in body.items() if name in binary]
    else:
        given = []
    problems = []
    for field, value in given:
        for item in value if isinstance(value, list | tuple) else [value]:
            if item == BINARY_PLACEHOLDER:
                continue  # the sandbox's stand-in for a file it received
            if isinstance(item, str | PathLike) and not Path(item).is_file():
                problems.append(
                    (
                        field,
                        f"no file at {str(item)!r}: pass the path of an existing file, "
                        "its bytes, or an open file",
                    )
                )
    return problems


def _files(value: Any, where: str = "") -> list[tuple[str, str]]:
    """The dotted fields of `value` holding a file, with the kind of file."""
    if isinstance(value, bytes | bytearray) or hasattr(value, "read") or _is_path(value):
        return [(where or "(body)", type(value).__name__)]
    if isinstance(value, Mapping):
        return [
            found
            for key, item in value.items()
            for found in _files(item, f"{where}.{key}".strip(".") if key else where)
        ]
    if isinstance(value, list | tuple):
        return [found for i, item in enumerate(value) for found in _files(item, f"{where}.{i}")]
    return []


def _non_finite(value: Any, where: str = "") -> list[str]:
    """The dotted fields of `value` that hold NaN or an infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return [where or "(body)"]
    if isinstance(value, Mapping):
        return [
            found
            for key, item in value.items()
            for found in _non_finite(item, f"{where}.{key}".strip(".") if key else where)
        ]
    if isinstance(value, list | tuple):
        return [
            found for i, item in enumerate(value) for found in _non_finite(item, f"{where}.{i}")
        ]
    return []


def _is_path(value: Any) -> bool:
    from os import PathLike

    return isinstance(value, PathLike)


def iter_refs(schema: Any) -> Iterable[str]:
    """Every `$ref` inside `schema` (used by the generator's checks)."""
    if isinstance(schema, Mapping):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from iter_refs(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from iter_refs(item)


def coerce_text(value: str, schema: Mapping[str, Any]) -> Any:
    """A query, path or form value (always text on the wire) as its schema's type."""
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    try:
        if "integer" in kinds:
            return int(value)
        if "number" in kinds:
            return float(value)
    except ValueError:
        return value
    if "boolean" in kinds:
        return {"true": True, "false": False}.get(value.lower(), value)
    if "object" in kinds or "array" in kinds:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
