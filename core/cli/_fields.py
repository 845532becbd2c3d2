"""Command-line options made from an operation's schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from py302._registry import ArgumentSpec, OperationSpec, ProviderRegistry

__all__ = ["JSON_VALUE", "field_options"]


class JsonValue(click.ParamType):  # type: ignore[type-arg]
    """A JSON value on the command line (objects and lists); plain text is a string."""

    name = "json"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            self.fail(
                f"{value!r} is not valid JSON (objects and lists are given as JSON)", param, ctx
            )


JSON_VALUE = JsonValue()


def field_options(registry: ProviderRegistry, spec: OperationSpec) -> list[click.Option]:
    """One option per keyword argument of the binding, typed and described by the spec."""
    body = registry.body_properties(spec)
    params = {p.name: registry.resolve(p.schema) for p in spec.parameters}
    binary = spec.binary_fields
    encoded = set(spec.extensions.get("x-py302-file-fields", {}))
    options = []
    for argument in spec.arguments:
        if argument.location == "body":
            schema = body.get(argument.wire, {})
        elif argument.location == "option":
            schema = spec.options.get(argument.wire, {})
        else:
            schema = params.get(argument.wire, {})
        option = _option(argument, schema, argument.wire in binary, registry)
        if argument.location == "body" and argument.wire in encoded:
            option.help = f"{option.help} [a URL, or a file path: py302 encodes the file]"
        options.append(option)
    return options


def _option(
    argument: ArgumentSpec, schema: Mapping[str, Any], is_file: bool, registry: ProviderRegistry
) -> click.Option:
    flag = "--" + argument.name.rstrip("_").replace("_", "-")
    kind: Any
    if is_file:
        kind = click.Path(exists=True, dir_okay=False, path_type=Path)
    else:
        kind = _type(schema, registry)
    description = " ".join(str(schema.get("description", "")).split())
    extras = []
    if "default" in schema:
        extras.append(f"server default: {schema['default']}")
    if is_file:
        extras.append("a file path")
    elif kind is JSON_VALUE:
        extras.append("JSON")
    help_text = " ".join(
        part for part in [description, f"[{'; '.join(extras)}]" if extras else ""] if part
    )
    return click.Option(
        [flag, argument.name],
        type=kind,
        required=argument.required,
        help=help_text or "(undocumented)",
        show_default=False,
    )


def _type(schema: Mapping[str, Any], registry: ProviderRegistry) -> Any:
    schema = registry.resolve(schema)
    if "enum" in schema and all(isinstance(v, str) for v in schema["enum"]):
        return click.Choice([str(v) for v in schema["enum"]])
    for variant in schema.get("anyOf", []):  # open enums: anyOf [{enum}, {type: string}]
        if registry.resolve(variant).get("type") == "string" and "enum" not in variant:
            return str
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    return {"string": str, "integer": int, "number": float, "boolean": click.BOOL}.get(
        str(kind), JSON_VALUE
    )
