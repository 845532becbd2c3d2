"""Models: datamodel-code-generator's output, made into attrs classes.

datamodel-code-generator has no attrs output, so it is driven with our own
`dataclass.jinja2` and `Enum.jinja2` templates (attrs classes, open enums); this module
runs it on a fragment's component schemas and reads the result back with `ast`, so the
operation builders can reuse each field's type and description. Once the builders are
known, `prune_models` drops the classes nothing reaches (a request body whose fields are
its builder's keywords, chiefly).
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ._errors import CodegenError
from ._load import iter_operations
from ._normalize import pointer

__all__ = ["FieldInfo", "ModelIndex", "generate_models", "names_in", "prune_models"]

TEMPLATES = Path(__file__).parent / "templates"
#: Names the generated module imports or defines besides the models: a schema of one of
#: these names would shadow it and break every builder.
RESERVED_NAMES = frozenset(
    {
        "Any", "Literal", "Mapping", "TypeAlias", "annotations", "field", "frozen",
        "Call", "FileInput", "ModeT", "Namespace", "OpenEnum", "OpenStrEnum", "StreamCall",
        "TaskCall", "drop_none", "operation", "streamable", "streaming", "task",
    }
)  # fmt: skip
_DROPPED_IMPORTS = ("from dataclasses import", "from enum import Enum", "from __future__ import")


@attrs.frozen(kw_only=True)
class FieldInfo:
    """A field of a generated class, as the builders need it."""

    name: str
    wire: str
    annotation: str
    required: bool
    description: str | None


@attrs.frozen(kw_only=True)
class ModelIndex:
    """What the generated models module defines, by kind."""

    classes: Mapping[str, tuple[FieldInfo, ...]]
    enums: Mapping[str, tuple[Any, ...]]
    aliases: frozenset[str]
    #: What each alias stands for, as source (`InitImage` -> `bytes`).
    alias_values: Mapping[str, str] = attrs.field(factory=dict)
    #: The wire names each schema lists as `required` (its `allOf` parts included):
    #: a required-but-nullable field has a default in its class, so that answers
    #: leaving it out still read, yet stays a required argument of a builder.
    schema_required: Mapping[str, frozenset[str]] = attrs.field(factory=dict)

    def expand(self, annotation: str) -> str:
        """`annotation` with aliases replaced by what they stand for, recursively (a
        field typed by a `$ref` to `{type: string, format: binary}` is still bytes)."""
        seen: set[str] = set()
        while True:
            names = names_in(annotation) & self.alias_values.keys() - seen
            if not names:
                return annotation
            for alias in names:
                tree = _Substitute(alias, self.alias_values[alias]).visit(
                    ast.parse(annotation, mode="eval")
                )
                annotation = ast.unparse(ast.fix_missing_locations(tree))
            seen |= names

    def fields_of(self, name: str) -> tuple[FieldInfo, ...]:
        """The fields of class `name`, required ones first (declaration order kept)."""
        fields = self.classes[name]
        return tuple(f for f in fields if f.required) + tuple(f for f in fields if not f.required)

    def widen(self, annotation: str) -> str:
        """An annotation for a builder parameter: models also accept mappings, enums
        also accept their plain values."""
        tree = ast.parse(annotation, mode="eval")
        widened = _Widen(self).visit(tree)
        return ast.unparse(ast.fix_missing_locations(widened))


def generate_models(document: Mapping[str, Any], name: str) -> tuple[str, ModelIndex]:
    """The models source (imports stripped) for a fragment, and its index."""
    from datamodel_code_generator import generate
    from datamodel_code_generator.enums import DataModelType, InputFileType, NamingStrategy
    from datamodel_code_generator.format import PythonVersion

    schemas = document.get("components", {}).get("schemas", {})
    if not schemas:
        return "", ModelIndex(classes={}, enums={}, aliases=frozenset())
    taken = sorted(set(schemas) & RESERVED_NAMES)
    if taken:
        raise CodegenError(
            [
                f"{name}: {pointer('components', 'schemas', schema)}: {schema!r} is a name the "
                "generated module imports; rename the schema (the wire format does not change)"
                for schema in taken
            ]
        )
    models_only = {
        "openapi": document["openapi"],
        "info": document["info"],
        "paths": {},
        "components": {"schemas": schemas},
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            source = generate(
                dict(models_only),
                input_file_type=InputFileType.OpenAPI,
                output_model_type=DataModelType.DataclassesDataclass,
                target_python_version=PythonVersion.PY_310,
                custom_template_dir=TEMPLATES,
                use_union_operator=True,
                use_standard_collections=True,
                use_schema_description=True,
                use_field_description=True,
                capitalise_enum_members=True,
                disable_timestamp=True,
                # Inline models are named after their parents (WalkStartedWalk), so a
                # component schema always keeps its own name.
                naming_strategy=NamingStrategy.FullPath,
                formatters=[],
            )
        except Exception as exc:
            raise CodegenError([f"{name}: datamodel-code-generator failed: {exc}"]) from exc
    loud = [w for w in caught if not issubclass(w.category, (DeprecationWarning, FutureWarning))]
    if loud:
        raise CodegenError([f"{name}: datamodel-code-generator warned: {w.message}" for w in loud])
    if not isinstance(source, str):
        raise CodegenError([f"{name}: datamodel-code-generator split the models into modules"])
    body = "\n".join(
        line
        for line in source.splitlines()
        if not line.startswith("#") and not line.startswith(_DROPPED_IMPORTS)
    ).strip()
    index = attrs.evolve(
        _index(body, name),
        schema_required={schema: _required(schemas, schema) for schema in schemas},
    )
    defined = set(index.classes) | set(index.enums) | index.aliases
    renamed = sorted(
        schema
        for schema in schemas
        if schema not in defined
        or not set(schemas[schema].get("properties", {}))
        <= {f.wire for f in index.classes.get(schema, ())}
    )
    if renamed:
        raise CodegenError(
            [f"{name}: schema {schema} did not become a class of that name" for schema in renamed]
        )
    for enum_name, values in index.enums.items():
        if values and all(isinstance(value, str) for value in values):
            body = body.replace(f"class {enum_name}(OpenEnum):", f"class {enum_name}(OpenStrEnum):")
    return body, index


def _required(
    schemas: Mapping[str, Any], name: str, seen: frozenset[str] = frozenset()
) -> frozenset[str]:
    """The `required` names of schema `name`, through its `allOf` parts."""
    schema = schemas.get(name)
    if not isinstance(schema, Mapping) or name in seen:
        return frozenset()
    found = set(schema.get("required") or ())
    for part in schema.get("allOf") or ():
        if isinstance(part, Mapping) and isinstance(part.get("$ref"), str):
            found |= _required(schemas, part["$ref"].rsplit("/", 1)[-1], seen | {name})
        elif isinstance(part, Mapping):
            found |= set(part.get("required") or ())
    return frozenset(found)


def _index(source: str, name: str) -> ModelIndex:
    tree = ast.parse(source)
    classes: dict[str, tuple[FieldInfo, ...]] = {}
    enums: dict[str, tuple[Any, ...]] = {}
    aliases: set[str] = set()
    alias_values: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = [ast.unparse(base) for base in node.bases]
            if "OpenEnum" in bases or "OpenStrEnum" in bases:
                enums[node.name] = tuple(
                    ast.literal_eval(stmt.value)
                    for stmt in node.body
                    if isinstance(stmt, ast.Assign)
                )
            else:
                own = _fields(node, source)
                overridden = {f.wire for f in own}  # an allOf part may redefine a field
                inherited = [
                    f
                    for base in bases
                    if base in classes
                    for f in classes[base]
                    if f.wire not in overridden
                ]
                classes[node.name] = tuple(inherited) + own
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            aliases.add(node.target.id)
            if node.value is not None:
                alias_values[node.target.id] = ast.unparse(node.value)
        elif isinstance(node, ast.Assign):
            raise CodegenError(
                [f"{name}: unexpected statement in models: {ast.unparse(node)[:80]}"]
            )
    return ModelIndex(
        classes=classes, enums=enums, aliases=frozenset(aliases), alias_values=alias_values
    )


def _fields(node: ast.ClassDef, source: str) -> tuple[FieldInfo, ...]:
    found = []
    body = node.body
    for index, stmt in enumerate(body):
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        wire = stmt.target.id
        if isinstance(stmt.value, ast.Call):
            for keyword in stmt.value.keywords:
                if keyword.arg == "metadata" and isinstance(keyword.value, ast.Dict):
                    wire = ast.literal_eval(keyword.value.values[0])
        description = None
        following = body[index + 1] if index + 1 < len(body) else None
        if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
            description = str(following.value.value).strip()
        required = stmt.value is None or (
            isinstance(stmt.value, ast.Call)
            and not any(k.arg in {"default", "factory"} for k in stmt.value.keywords)
        )
        found.append(
            FieldInfo(
                name=stmt.target.id,
                wire=wire,
                annotation=ast.unparse(stmt.annotation),
                required=required,
                description=description,
            )
        )
    return tuple(found)


class _Substitute(ast.NodeTransformer):
    def __init__(self, alias: str, value: str) -> None:
        self.alias = alias
        self.value = value

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id == self.alias:
            return ast.parse(f"({self.value})", mode="eval").body
        return node


class _Widen(ast.NodeTransformer):
    def __init__(self, index: ModelIndex) -> None:
        self.index = index

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.index.classes or node.id in self.index.aliases:
            mapping = ast.parse("Mapping[str, Any]", mode="eval").body
            return ast.BinOp(left=node, op=ast.BitOr(), right=mapping)
        if node.id in self.index.enums:
            values = ", ".join(repr(value) for value in self.index.enums[node.id])
            literal = ast.parse(f"Literal[{values}]", mode="eval").body
            return ast.BinOp(left=node, op=ast.BitOr(), right=literal)
        return node


def names_in(annotation: str) -> set[str]:
    """The names an annotation (or any expression) mentions."""
    return {
        node.id
        for node in ast.walk(ast.parse(annotation, mode="eval"))
        if isinstance(node, ast.Name)
    }


def prune_models(source: str, document: Mapping[str, Any], used: Iterable[str]) -> str:
    """`source` without the classes no caller can reach.

    A request body's fields are its builder's keywords, so a class for the body itself
    would be read by no one. What is kept: the classes the builders name (parameter
    types, results, events), the schemas an operation names outside its request body
    (responses, error bodies included, and parameters), and whatever those need (field
    types, base classes). So a request body stays when a kept model or a response
    names it, and a schema no operation reaches becomes no class.
    """
    elsewhere = [
        {key: value for key, value in op.items() if key != "requestBody"}
        for _path, _method, op in iter_operations(document)
    ]
    tree = ast.parse(source)
    definitions = {name: node for node in tree.body for name in [_defined(node)] if name}
    needs = {name: _mentions(node) & definitions.keys() for name, node in definitions.items()}
    kept: set[str] = set()
    pending = [name for name in {*used, *_refs(elsewhere)} if name in definitions]
    while pending:
        name = pending.pop()
        if name not in kept:
            kept.add(name)
            pending.extend(needs[name] - kept)
    dropped = [node for name, node in definitions.items() if name not in kept]
    lines = source.splitlines()
    for node in sorted(dropped, key=lambda node: node.lineno, reverse=True):
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        del lines[first - 1 : node.end_lineno]
    return "\n".join(lines).strip()


def _refs(node: Any) -> set[str]:
    """The component names every `$ref` inside `node` points to."""
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, Mapping):
            ref = item.get("$ref")
            if isinstance(ref, str):
                found.add(ref.rsplit("/", 1)[-1])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _defined(node: ast.stmt) -> str | None:
    if isinstance(node, ast.ClassDef):
        return node.name
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _mentions(node: ast.stmt) -> set[str]:
    """The names a model definition uses: base classes, field annotations, alias values
    (enum members and field defaults are left out: they name no model)."""
    if isinstance(node, ast.AnnAssign):
        parts: list[ast.expr] = [node.value] if node.value is not None else []
    elif isinstance(node, ast.ClassDef):
        parts = [*node.bases] + [
            stmt.annotation for stmt in node.body if isinstance(stmt, ast.AnnAssign)
        ]
    else:
        parts = []
    found: set[str] = set()
    pending: list[ast.AST] = list(parts)
    while pending:
        sub = pending.pop()
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found |= _quoted(sub.value)  # a forward reference written as a string
        elif isinstance(sub, ast.Subscript) and ast.unparse(sub.value) == "Literal":
            continue  # Literal["Dog"] holds a value, not a reference to class Dog
        else:
            pending.extend(ast.iter_child_nodes(sub))
    return found


def _quoted(text: str) -> set[str]:
    try:
        return names_in(text)
    except SyntaxError:
        return set()
