"""The public Python API a spec tree compiles into: its "surface".

A tree (a folder of fragments, or a folder inside a git revision) is compiled in memory
by the generator itself, nothing is written to `generated/`, and reduced to an
`ApiSurface`: every operation's method, path, result type and keyword arguments, and
every component model's fields with which way the model travels (sent in requests,
received in responses). `py302.codegen._diff` compares two of them.
"""

from __future__ import annotations

import ast
import json
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from py302.payloads import json_type

from ._errors import SpecTreeError
from ._load import Fragment, load_fragments
from ._models import ModelIndex
from ._operations import _response_model
from ._render import render_fragment

__all__ = [
    "ApiSurface",
    "Member",
    "ModelSurface",
    "OperationSurface",
    "ProviderSurface",
    "load_tree",
    "surface_of",
]

DEFAULT_REVISION_PATH = "specs"


@attrs.frozen(kw_only=True)
class Member:
    """A keyword argument of an operation or a field of a model."""

    name: str  # the Python name
    wire: str
    required: bool
    type: str  # the JSON Schema type, compact: "string", "array[integer]", "Task | null"
    location: str  # path, query, body or option for arguments; "field" for model fields


@attrs.frozen(kw_only=True)
class OperationSurface:
    """What a caller sees of one operation."""

    method: str
    path: str
    returns: str  # the type of `Result.data`: model names, `bytes`, or `Any`
    arguments: Mapping[str, Member]


@attrs.frozen(kw_only=True)
class ModelSurface:
    """What a caller sees of one component model (one generated class)."""

    type: str  # "object" for classes with fields, else the schema's type (an enum, a union)
    fields: Mapping[str, Member]
    sent: bool  # a request body reaches it: callers construct it
    received: bool  # a response reaches it: callers read it


@attrs.frozen(kw_only=True)
class ProviderSurface:
    """One provider's operations (by operation id) and models (by class name)."""

    operations: Mapping[str, OperationSurface]
    models: Mapping[str, ModelSurface]


@attrs.frozen(kw_only=True)
class ApiSurface:
    """The public Python API a spec tree compiles into, by provider."""

    providers: Mapping[str, ProviderSurface]


def load_tree(spec: str | Path, *, repo: Path | None = None) -> ApiSurface:
    """The API surface of `spec`: an existing folder of fragments, or a git revision of
    the repository at `repo` (default: the current folder) as `REV` (its `specs/`) or
    `REV:path`. `SpecTreeError` when it is neither; `CodegenError` when it does not compile."""
    folder = Path(spec)
    if folder.is_dir():
        return _compiled(folder, folder.parent, str(spec))
    with tempfile.TemporaryDirectory(prefix="py302-specs-") as temp:
        root = Path(temp)
        inner = _export_revision(str(spec), root, repo or Path.cwd())
        return _compiled(root / inner, root, str(spec))


def _compiled(folder: Path, display_root: Path, spec: str) -> ApiSurface:
    if not any(folder.glob("*.yaml")) and not any(folder.glob("*/*.yaml")):
        raise SpecTreeError(
            f"{spec} holds no spec fragments (*.yaml); pass the folder that does, such as specs/"
        )
    return surface_of(load_fragments(folder, display_root=display_root))


def _export_revision(spec: str, root: Path, repo: Path) -> str:
    """Copy the folder a revision names into `root`; its path inside the revision."""
    revision, _, inner = spec.partition(":")
    inner = inner.strip("/") or DEFAULT_REVISION_PATH
    remedy = "pass a folder of fragments (specs/) or a git revision (HEAD~1, v0.1.0:specs)"
    commit = f"{revision}^{{commit}}"
    if (
        not revision
        or revision.startswith("-")  # git would read it as an option
        or _git(repo, "rev-parse", "--verify", "--quiet", commit) is None
    ):
        raise SpecTreeError(f"{spec!r} is neither a folder nor a git revision here; {remedy}")
    listing = _git(repo, "ls-tree", "-r", "-z", f"{revision}:{inner}")
    if listing is None:
        raise SpecTreeError(f"revision {revision} has no folder {inner!r}; name one as REV:path")
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        _mode, kind, blob = meta.split()
        if kind != "blob":
            continue  # a submodule has no files to read
        target = root / inner / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_git_bytes(repo, "cat-file", "blob", blob))
    return inner


def _git(repo: Path, *args: str) -> str | None:
    """Git's output, or None when git fails or is not installed."""
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError:
        return None
    return result.stdout.decode() if result.returncode == 0 else None


def _git_bytes(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True).stdout


def surface_of(fragments: Sequence[Fragment]) -> ApiSurface:
    """Compile fragments in memory and read their API surface from what is rendered."""
    providers = {}
    for fragment in fragments:
        rendered = {file.name: file.text for file in render_fragment(fragment, generator="")}
        registry = json.loads(rendered[f"{fragment.provider}.json"])
        module = rendered[f"{fragment.provider}.py"]
        providers[fragment.provider] = _provider_surface(
            registry, _python_names(module), _defined_names(module)
        )
    return ApiSurface(providers=providers)


def _provider_surface(
    registry: Mapping[str, Any], names: Mapping[str, Mapping[str, str]], defined: set[str]
) -> ProviderSurface:
    """`defined`: the models the module declares. A request body whose fields are its
    builder's keywords has no class, so it is no model here; its fields are arguments."""
    schemas: Mapping[str, Any] = registry["components"]["schemas"]
    operations = registry["operations"]
    sent = _reachable((op["request"] or {} for op in operations.values()), schemas)
    received = _reachable((op["responses"] for op in operations.values()), schemas)
    models = {}
    for name, schema in schemas.items():
        if name not in defined:
            continue
        properties, required = _object_schema(schema, schemas)
        renamed = names.get(name, {})
        fields = {
            renamed.get(wire, wire): Member(
                name=renamed.get(wire, wire),
                wire=wire,
                required=wire in required,
                type=_type(prop),
                location="field",
            )
            for wire, prop in properties.items()
        }
        models[name] = ModelSurface(
            type="object" if properties else _type(schema),
            fields=fields,
            sent=name in sent or name not in received,
            received=name in received or name not in sent,
        )
    return ProviderSurface(
        operations={op_id: _operation(op, schemas) for op_id, op in operations.items()},
        models=models,
    )


#: The surface names schemas as the document does (no read/write split).
_NO_MODELS = ModelIndex(classes={}, enums={}, aliases=frozenset())


def _operation(op: Mapping[str, Any], schemas: Mapping[str, Any]) -> OperationSurface:
    types: dict[tuple[str, str], str] = {
        (param["in"], param["name"]): _type(param.get("schema", {})) for param in op["parameters"]
    }
    for name, schema in op["extensions"].get("x-py302-options", {}).items():
        types["option", name] = _type(schema)
    if op["request"]:
        properties, _ = _object_schema(op["request"].get("schema", {}), schemas)
        types.update((("body", wire), _type(schema)) for wire, schema in properties.items())
    responses = {
        status: {"content": response.get("media_types", {})}
        for status, response in op["responses"].items()
    }
    return OperationSurface(
        method=op["method"],
        path=op["path"],
        returns=_response_model({"responses": responses}, _NO_MODELS),
        arguments={
            arg["name"]: Member(
                name=arg["name"],
                wire=arg["wire"],
                required=arg["required"],
                type=types.get((arg["in"], arg["wire"]), "any"),
                location=arg["in"],
            )
            for arg in op["arguments"]
        },
    )


def _python_names(module: str) -> dict[str, dict[str, str]]:
    """Per generated class, wire name -> Python name of the fields whose names differ
    (`field(metadata={"wire": ...})`), inherited ones included."""
    found: dict[str, dict[str, str]] = {}
    for node in ast.parse(module).body:
        if not isinstance(node, ast.ClassDef):
            continue
        names = {}
        for base in node.bases:
            if isinstance(base, ast.Name):
                names.update(found.get(base.id, {}))
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                call = stmt.value
                for keyword in call.keywords if isinstance(call, ast.Call) else ():
                    if keyword.arg == "metadata" and isinstance(keyword.value, ast.Dict):
                        wire = ast.literal_eval(keyword.value).get("wire")
                        if isinstance(wire, str):
                            names[wire] = stmt.target.id
        found[node.name] = names
    return found


def _defined_names(module: str) -> set[str]:
    """The classes and type aliases a generated module declares at its top level."""
    return {
        name
        for node in ast.parse(module).body
        for name in (
            [node.name]
            if isinstance(node, ast.ClassDef)
            else [node.target.id]
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
            else []
        )
    }


def _ref_name(schema: Mapping[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _object_schema(
    schema: Mapping[str, Any], schemas: Mapping[str, Any]
) -> tuple[dict[str, Any], set[str]]:
    """Properties and required names of an object schema, `$ref` and `allOf` followed."""
    name = _ref_name(schema)
    if name is not None:
        return _object_schema(schemas.get(name, {}), schemas)
    properties: dict[str, Any] = {}
    required: set[str] = set()
    for part in schema.get("allOf", []):
        more, needed = _object_schema(part, schemas)
        properties.update(more)
        required |= needed
    properties.update(schema.get("properties", {}))
    required |= set(schema.get("required", []))
    return properties, required


def _type(schema: Mapping[str, Any]) -> str:
    """A compact, order-independent name for a schema's JSON type (null last)."""
    return " | ".join(sorted(_types(schema), key=lambda name: (name == "null", name)))


def _types(schema: Mapping[str, Any]) -> set[str]:
    name = _ref_name(schema)
    if name is not None:
        return {name}
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return {member for part in schema[key] for member in _types(part)}
    if len(schema.get("allOf", [])) == 1:
        return _types(schema["allOf"][0])
    declared = schema.get("type")
    if declared is None and "const" in schema:
        declared = json_type(schema["const"])
    elif declared is None and "enum" in schema:
        declared = sorted({json_type(value) for value in schema["enum"]})
    elif declared is None:
        declared = "object" if "properties" in schema or "allOf" in schema else "any"
    kinds = [declared] if isinstance(declared, str) else list(declared)
    items = schema.get("items")
    return {
        f"array[{_type(items)}]" if kind == "array" and isinstance(items, Mapping) else kind
        for kind in kinds
    }


def _reachable(roots: Iterable[Any], schemas: Mapping[str, Any]) -> set[str]:
    """Names of the component schemas `roots` refer to, directly or through others."""
    found: set[str] = set()
    pending = list(roots)
    while pending:
        node = pending.pop()
        if isinstance(node, Mapping):
            name = _ref_name(node)
            if name is not None and name not in found:
                found.add(name)
                pending.append(schemas.get(name, {}))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found
