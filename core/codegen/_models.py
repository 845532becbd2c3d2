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
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ._errors import CodegenError
from ._load import iter_operations
from ._names import RESERVED_NAMES
from ._normalize import pointer

__all__ = [
    "FieldInfo",
    "ModelIndex",
    "docstring_source",
    "generate_models",
    "names_in",
    "prune_models",
]

TEMPLATES = Path(__file__).parent / "templates"
_DROPPED_IMPORTS = ("from dataclasses import", "from enum import Enum", "from __future__ import")


@attrs.frozen(kw_only=True)
class FieldInfo:
    """A field of a generated class, as the builders need it."""

    name: str
    wire: str
    annotation: str
    required: bool
    description: str | None
    #: Holds the keys the schema does not name (`additionalProperties`): not a wire
    #: field of its own.
    additional: bool = False


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
    #: Schemas with `readOnly`/`writeOnly` fields, split into the class a request
    #: sends and the class a response holds.
    variants: Mapping[str, tuple[str, str]] = attrs.field(factory=dict)

    def request_class(self, schema: str) -> str:
        """The class a request body of `schema` is built from."""
        return self.variants.get(schema, (schema, schema))[0]

    def response_class(self, schema: str) -> str:
        """The class an answer of `schema` is read into."""
        return self.variants.get(schema, (schema, schema))[1]

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
        return flat_union(ast.unparse(ast.fix_missing_locations(widened)))


def generate_models(document: Mapping[str, Any], name: str) -> tuple[str, ModelIndex]:
    """The models source (imports stripped) for a fragment, and its index."""
    from datamodel_code_generator import generate
    from datamodel_code_generator.enums import (
        DataModelType,
        InputFileType,
        NamingStrategy,
        ReadOnlyWriteOnlyModelType,
    )
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
        "components": {"schemas": {key: _free_form(value) for key, value in schemas.items()}},
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
                # readOnly fields only in answers, writeOnly ones only in requests.
                read_only_write_only_model_type=ReadOnlyWriteOnlyModelType.RequestResponse,
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
    # datamodel-code-generator escapes backslashes and triple quotes in docstrings, but
    # not a description's closing quote, which would run into the delimiter.
    body = re.sub(r'""""$', '\\\\""""', body, flags=re.MULTILINE)
    body = _unrolled(body)
    body = _pinned_members(body, _index(body, name))
    index = attrs.evolve(
        _index(body, name),
        schema_required={schema: _required(schemas, schema) for schema in schemas},
    )
    index = attrs.evolve(index, variants=_variants(schemas, index))
    problems = _lost_schemas(schemas, index)
    if problems:
        raise CodegenError([f"{name}: {problem}" for problem in problems])
    for enum_name, values in index.enums.items():
        if values and all(isinstance(value, str) for value in values):
            body = body.replace(f"class {enum_name}(OpenEnum):", f"class {enum_name}(OpenStrEnum):")
    return body, index


def _unrolled(source: str) -> str:
    """`source` with each alias that refers to itself (`Json = str | list["Json"]`)
    taking `Any` where it recurs: such aliases cannot be read into, while the JSON
    under `Any` is kept as it came."""
    tree = ast.parse(source)
    aliases = {
        node.target.id
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    lines = source.splitlines()
    for node in reversed(tree.body):
        if not (isinstance(node, ast.AnnAssign) and node.value is not None):
            continue
        before = ast.unparse(node.value)
        after = ast.unparse(_AnyForQuoted(aliases).visit(node.value))
        if after != before:
            head = f"{ast.unparse(node.target)}: {ast.unparse(node.annotation)}"
            lines[node.lineno - 1 : node.end_lineno] = [f"{head} = {after}"]
    return "\n".join(lines)


class _AnyForQuoted(ast.NodeTransformer):
    """Quoted names of aliases (forward references) become `Any`, and the `Union`
    written around them `|`."""

    def __init__(self, aliases: set[str]) -> None:
        self.aliases = aliases

    def visit_Constant(self, node: ast.Constant) -> ast.expr:
        if isinstance(node.value, str) and node.value in self.aliases:
            return ast.Name(id="Any", ctx=ast.Load())
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        """`Union[a, b]` (written for the quoted names) becomes `a | b` again."""
        self.generic_visit(node)
        if not (isinstance(node.value, ast.Name) and node.value.id == "Union"):
            return node
        members = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        union = members[0]
        for member in members[1:]:
            union = ast.BinOp(left=union, op=ast.BitOr(), right=member)
        return union


def _pinned_members(source: str, index: ModelIndex) -> str:
    """`source` with each discriminated member's pinned value written as the member of
    the enum its base declares (`Literal[SquareKind.SQUARE]`, not `Literal["square"]`),
    so that the member stays a subtype of its base."""
    lines = source.splitlines()
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        inherited = {
            field.name: field.annotation
            for base in node.bases
            for field in index.classes.get(ast.unparse(base), ())
        }
        for stmt in node.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            pinned = _literal_value(stmt.annotation)
            if stmt.target.id not in inherited or pinned is None:
                continue
            member = _enum_member(names_in(inherited[stmt.target.id]), pinned, source, index)
            if member is not None:
                old = ast.unparse(stmt.annotation)
                line = lines[stmt.lineno - 1]
                lines[stmt.lineno - 1] = line.replace(
                    ast.get_source_segment(source, stmt.annotation) or old, f"Literal[{member}]", 1
                )
    return "\n".join(lines)


def _literal_value(annotation: ast.expr) -> Any:
    if (
        isinstance(annotation, ast.Subscript)
        and ast.unparse(annotation.value) == "Literal"
        and isinstance(annotation.slice, ast.Constant)
    ):
        return annotation.slice.value
    return None


def _enum_member(names: set[str], value: Any, source: str, index: ModelIndex) -> str | None:
    """`Enum.MEMBER` for the enum among `names` that has `value`, if one does."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name in names & index.enums.keys():
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Assign)
                    and ast.literal_eval(stmt.value) == value
                    and isinstance(stmt.targets[0], ast.Name)
                ):
                    return f"{node.name}.{stmt.targets[0].id}"
    return None


def _variants(schemas: Mapping[str, Any], index: ModelIndex) -> dict[str, tuple[str, str]]:
    """The schemas split in two because of `readOnly`/`writeOnly` fields, with the
    classes they became: (what a request sends, what a response holds)."""
    return {
        schema: (f"{schema}Request", f"{schema}Response")
        for schema in schemas
        if schema not in index.classes
        and {f"{schema}Request", f"{schema}Response"} <= index.classes.keys()
    }


def _lost_schemas(schemas: Mapping[str, Any], index: ModelIndex) -> list[str]:
    """Component schemas that did not become a definition of their own name (or its
    request/response pair): nothing could name them, so refuse rather than guess."""
    defined = set(index.classes) | set(index.enums) | index.aliases
    problems = []
    for schema, body in schemas.items():
        wire = set(body.get("properties") or {}) if isinstance(body, Mapping) else set()
        if schema in index.variants:
            continue
        if schema in index.classes:
            fields = {f.wire for f in index.classes[schema]}
            if wire <= fields:
                continue
            problem = f"lost the properties {', '.join(sorted(wire - fields))}"
        elif schema in defined:
            continue  # an enum, or an alias (a union, a list, a scalar)
        else:
            near = sorted(other for other in defined - schemas.keys() if other.startswith(schema))
            problem = f"became {' or '.join(near)}" if near else "became no definition"
        problems.append(
            f"{pointer('components', 'schemas', schema)}: schema {schema} {problem}; rename "
            "it (datamodel-code-generator keeps a name free when it clashes with another)"
        )
    return problems


def docstring_source(text: str) -> str:
    """`text` written so that, between triple quotes in source, it reads back as `text`:
    backslashes and quote runs escaped, and a closing quote kept off the delimiter."""
    escaped = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return escaped[:-1] + '\\"' if escaped.endswith('"') else escaped


#: Keywords that give an object schema a shape of its own.
_SHAPING = ("properties", "patternProperties", "allOf", "anyOf", "oneOf", "$ref", "enum", "const")


def _free_form(schema: Any) -> Any:
    """A named object schema that names no property (`Meta: {type: object}`) as a
    mapping of anything: the model generator would make it a class with no fields,
    into which every key of an answer would vanish."""
    if (
        isinstance(schema, Mapping)
        and schema.get("type") == "object"
        and schema.get("additionalProperties", True) is True
        and not any(key in schema for key in _SHAPING)
    ):
        return {**schema, "additionalProperties": {}}
    return schema


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
        metadata: dict[str, Any] = {}
        if isinstance(stmt.value, ast.Call):
            for keyword in stmt.value.keywords:
                if keyword.arg == "metadata":
                    metadata = ast.literal_eval(keyword.value)
        wire = metadata.get("wire", stmt.target.id)
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
                additional=bool(metadata.get("additional")),
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
    """Models also take mappings, enums their plain values; an alias takes what its
    value takes (an alias of `bool` stays itself, an alias of an enum also takes the
    enum's values)."""

    def __init__(self, index: ModelIndex, expanding: frozenset[str] = frozenset()) -> None:
        self.index = index
        self.expanding = expanding

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        """`list[X]` takes any sequence (a tuple, or a list of a narrower type: lists are
        invariant, so `list[dict[str, str]]` is no `list[Tool | Mapping[str, Any]]`)."""
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "list":
            node.value = ast.Name(id="Sequence", ctx=ast.Load())
        return node

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.index.classes:
            return _either(node, "Mapping[str, Any]")
        if node.id in self.index.enums:
            values = ", ".join(repr(value) for value in self.index.enums[node.id])
            return _either(node, f"Literal[{values}]")
        value = self.index.alias_values.get(node.id)
        if value is None or node.id in self.expanding:
            return node
        tree = ast.parse(value, mode="eval")
        widened = _Widen(self.index, self.expanding | {node.id}).visit(tree)
        text = ast.unparse(ast.fix_missing_locations(widened))
        return node if text == value else _either(node, text)


def flat_union(annotation: str) -> str:
    """`annotation` with nested `|` unions flattened, repeats dropped, None last."""
    members: list[str] = []
    pending = [ast.parse(annotation, mode="eval").body]
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            pending[:0] = [node.left, node.right]
        else:
            members.append(ast.unparse(node))
    unique = list(dict.fromkeys(members))
    if "None" in unique:
        unique = [member for member in unique if member != "None"] + ["None"]
    return " | ".join(unique)


def _either(node: ast.expr, other: str) -> ast.expr:
    return ast.BinOp(left=node, op=ast.BitOr(), right=ast.parse(other, mode="eval").body)


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
    following = dict(zip(tree.body, tree.body[1:], strict=False))
    lines = source.splitlines()
    for node in sorted(dropped, key=lambda node: node.lineno, reverse=True):
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        last = node.end_lineno
        after = following.get(node)
        if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            last = after.end_lineno  # an alias's docstring goes with it
        del lines[first - 1 : last]
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
