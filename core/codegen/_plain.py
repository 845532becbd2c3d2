"""Plain OpenAPI: a vendor's published document, compiled as it is.

The project's own fragments carry `x-py302-*` annotations (evidence, sources, the
inventory ids they cover) and follow stricter rules than OpenAPI does. A document
without `x-py302-provider` is taken for a plain one and given the annotations'
documented defaults here, before the usual checks run:

- the provider is named after the file (`petstore.yaml` -> `petstore`);
- every operation gets evidence `upstream`, the document as its source, a note saying
  nothing was checked against traffic, the doc id `<provider>/<operation>`, and the
  provider as its one tag; a missing summary becomes the method and path;
- an operation without an `operationId` gets one from its method and path
  (`GET /pets/{id}` -> `get_pets_id`), and a camelCase one is made snake_case;
- schema names become PascalCase (every `$ref` follows), and inline request and 2xx
  JSON response schemas move into `components` under names made from the operation
  (`CreatePetRequest`, `CreatePetResponse`);
- an OpenAPI 3.0 document is converted to 3.1 (`nullable`, boolean
  `exclusiveMinimum`/`exclusiveMaximum`);
- its examples are not required to validate against its schemas (a project fragment's
  must): they are the vendor's, and often leave out required-but-nullable fields.

Everything here is deterministic: the same document always gives the same names.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["PLAIN_MARK", "PLAIN_NOTE", "adopt", "is_plain"]

#: Set on an adopted document: its examples are the vendor's, and are not held to its
#: schemas (vendors' examples often leave out required-but-nullable fields).
PLAIN_MARK = "x-py302-plain"

PLAIN_NOTE = (
    "Compiled from a plain OpenAPI document without py302 annotations: the shapes are the "
    "document's own, nothing here was checked against traffic."
)
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_WORD = re.compile(r"[A-Za-z0-9]+")


def is_plain(document: Mapping[str, Any]) -> bool:
    """Whether `document` is a plain OpenAPI document rather than a py302 fragment."""
    return isinstance(document, Mapping) and "x-py302-provider" not in document


def adopt(document: Mapping[str, Any], provider: str, source: str) -> dict[str, Any]:
    """`document` as a fragment of `provider`, annotated with the defaults above."""
    out: dict[str, Any] = copy.deepcopy(dict(document))
    if str(out.get("openapi", "")).startswith("3.0"):
        out = _from_30(out)
    out["x-py302-provider"] = provider
    out[PLAIN_MARK] = True
    out["tags"] = [{"name": provider}]
    _rename_schemas(out)
    taken: set[str] = set()
    for path, method, op in _operations(out):
        op_id = _snake(op.get("operationId") or f"{method} {path}")
        while op_id in taken:
            op_id += "_"
        taken.add(op_id)
        op["operationId"] = op_id
        op["tags"] = [provider]
        op.setdefault("summary", f"{method.upper()} {path}")
        op.setdefault("x-py302-doc", [f"{provider}/{op_id}"])
        op.setdefault("x-py302-evidence", "upstream")
        op.setdefault("x-py302-sources", [source])
        op.setdefault("x-py302-notes", PLAIN_NOTE)
        _hoist(out, op, op_id)
    return out


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in (document.get("paths") or {}).items():
        for method in _METHODS:
            if isinstance(item, dict) and isinstance(item.get(method), dict):
                yield path, method, item[method]


def _snake(text: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    name = "_".join(word.lower() for word in _WORD.findall(spaced)) or "operation"
    return name if name[0].isalpha() else f"op_{name}"


def _pascal(text: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    name = "".join(word[:1].upper() + word[1:] for word in _WORD.findall(spaced)) or "Schema"
    return name if name[0].isalpha() else f"Schema{name}"


def _rename_schemas(document: dict[str, Any]) -> None:
    """Schema names made PascalCase; every `$ref` to them rewritten to follow."""
    schemas = (document.get("components") or {}).get("schemas") or {}
    renamed: dict[str, str] = {}
    used: set[str] = set()
    for name in schemas:
        new = _pascal(name)
        while new in used:
            new += "X"
        used.add(new)
        renamed[name] = new
    if all(old == new for old, new in renamed.items()):
        return
    document["components"]["schemas"] = {renamed[k]: v for k, v in schemas.items()}
    prefix = "#/components/schemas/"
    for node in _mappings(document):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(prefix) and ref[len(prefix) :] in renamed:
            node["$ref"] = prefix + renamed[ref[len(prefix) :]]


def _mappings(node: Any) -> Iterator[dict[str, Any]]:
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            yield item
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _hoist(document: dict[str, Any], op: dict[str, Any], op_id: str) -> None:
    """Inline request and 2xx JSON response schemas moved into `components`."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    base = _pascal(op_id)
    bodies = [("Request", (op.get("requestBody") or {}).get("content") or {})]
    successes = sorted(s for s in (op.get("responses") or {}) if str(s).startswith("2"))
    for status in successes:
        suffix = "Response" if len(successes) == 1 else f"Response{status}"
        bodies.append((suffix, (op["responses"][status] or {}).get("content") or {}))
    for suffix, contents in bodies:
        for media, content in contents.items():
            schema = content.get("schema") if isinstance(content, dict) else None
            if not isinstance(schema, dict) or "$ref" in schema:
                continue
            if suffix != "Request" and "json" not in media:
                continue  # a binary answer keeps its inline `format: binary`
            name = base + suffix
            while name in schemas and schemas[name] != schema:
                name += "X"
            schemas[name] = schema
            content["schema"] = {"$ref": f"#/components/schemas/{name}"}


def _from_30(document: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 document rewritten as 3.1: schemas only differ in a few keywords."""
    document["openapi"] = "3.1.0"
    for node in _mappings(document):
        if node.pop("nullable", False) is True:
            kind = node.get("type")
            if isinstance(kind, str):
                node["type"] = [kind, "null"]
                if isinstance(node.get("enum"), list) and None not in node["enum"]:
                    node["enum"] = [*node["enum"], None]
            else:
                inner = {key: node.pop(key) for key in list(node) if key != "description"}
                node["anyOf"] = [inner, {"type": "null"}]
        for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if node.get(bound) is True and limit in node:
                node[bound] = node.pop(limit)
            elif node.get(bound) is False:
                del node[bound]
    return document
