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
  (`CreatePetRequest`, `CreatePetResponse`; `EditRequestFormData` and
  `EditRequestJson` for a request of two media types);
- an operation answering `text/event-stream` streams: each event's data follows the
  stream's schema (hoisted as `<Operation>Event`; any JSON when there is none), a
  `[DONE]` data line ends it if one comes (not required), and when the operation may
  also answer whole, a boolean `stream` field of its request body asks for it;
- an OpenAPI 3.0 document is converted to 3.1 (`nullable`, boolean
  `exclusiveMinimum`/`exclusiveMaximum`, `allowEmptyValue` outside the query);
  `nullable: true` is read as 3.0 meant it in a 3.1 document too (vendors publish
  such documents, and 3.1 would silently ignore it);
- a `default` that breaks its own schema's `type`/`enum` is dropped (it is an
  annotation; a project fragment's is refused instead);
- a schema named like a Python keyword or a name the generated module imports
  (`None`, `Call`) gets `Model` appended;
- its examples are not required to validate against its schemas (a project fragment's
  must): they are the vendor's, and often leave out required-but-nullable fields.

Everything here is deterministic: the same document always gives the same names.
"""

from __future__ import annotations

import copy
import keyword
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ._extensions import is_boolean_body_field
from ._names import RESERVED_NAMES
from ._normalize import invalid_defaults

__all__ = ["PLAIN_MARK", "PLAIN_NOTE", "adopt", "is_plain"]

#: Set on an adopted document: its examples are the vendor's, and are not held to its
#: schemas (vendors' examples often leave out required-but-nullable fields).
PLAIN_MARK = "x-py302-plain"

PLAIN_NOTE = (
    "Compiled from a plain OpenAPI document without py302 annotations: the shapes are the "
    "document's own, nothing here was checked against traffic."
)
EVENT_STREAM = "text/event-stream"
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
    _nullable_as_type(out)
    for where in invalid_defaults(out):
        parent: Any = out
        for part in where[:-1]:
            parent = parent[part]
        del parent["default"]
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
        _stream_defaults(out, op)
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
        if keyword.iskeyword(new) or new in RESERVED_NAMES:
            new += "Model"
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
    """Inline request, 2xx JSON and event-stream schemas moved into `components`."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    base = _pascal(op_id)
    bodies = [("Request", (op.get("requestBody") or {}).get("content") or {})]
    successes = sorted(s for s in (op.get("responses") or {}) if str(s).startswith("2"))
    for status in successes:
        suffix = "Response" if len(successes) == 1 else f"Response{status}"
        bodies.append((suffix, (op["responses"][status] or {}).get("content") or {}))
    for suffix, contents in bodies:
        inline = []
        for media, content in contents.items():
            schema = content.get("schema") if isinstance(content, dict) else None
            if not isinstance(schema, dict) or "$ref" in schema:
                continue
            streamed = media.split(";")[0].strip().lower() == EVENT_STREAM
            if suffix != "Request" and "json" not in media and not streamed:
                continue  # a binary answer keeps its inline `format: binary`
            kind = suffix.replace("Response", "Event") if streamed else suffix
            inline.append((kind, media, content, schema))
        kinds = [kind for kind, *_ in inline]
        for kind, media, content, schema in inline:
            name = base + kind
            if kinds.count(kind) > 1:  # EditRequestFormData, EditRequestJson
                name += _pascal(media.split(";")[0].rsplit("/", 1)[-1])
            while name in schemas and schemas[name] != schema:
                name += "X"
            schemas[name] = schema
            content["schema"] = {"$ref": f"#/components/schemas/{name}"}


def _stream_defaults(document: dict[str, Any], op: dict[str, Any]) -> None:
    """An operation that answers with an event stream: each event's data follows its
    schema (any JSON when none is given); when it may also answer whole, a boolean
    `stream` field of the request body selects the stream. A `[DONE]` data line (the
    common convention) ends the stream if it comes, but is not required of it."""
    streamed = [
        content
        for status, response in (op.get("responses") or {}).items()
        if str(status).startswith("2") and isinstance(response, dict)
        for media, content in (response.get("content") or {}).items()
        if media.split(";")[0].strip().lower() == EVENT_STREAM and isinstance(content, dict)
    ]
    if not streamed:
        return
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for content in streamed:
        if "schema" not in content:
            name = _pascal(op["operationId"]) + "Event"
            schemas.setdefault(name, {})
            content["schema"] = {"$ref": f"#/components/schemas/{name}"}
    if "x-py302-stream" not in op:
        block: dict[str, Any] = {"done": "[DONE]", "done_required": False}
        if is_boolean_body_field(document, op, "stream"):
            block["flag"] = "stream"
        op["x-py302-stream"] = block


def _from_30(document: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 document rewritten as 3.1: schemas only differ in a few keywords."""
    document["openapi"] = "3.1.0"
    for node in _mappings(document):
        if node.get("in") in {"path", "header", "cookie"} and "allowEmptyValue" in node:
            del node["allowEmptyValue"]  # 3.1 allows it on query parameters only
        for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if node.get(bound) is True and limit in node:
                node[bound] = node.pop(limit)
            elif node.get(bound) is False:
                del node[bound]
    return document


def _nullable_as_type(document: dict[str, Any]) -> None:
    """`nullable: true` (OpenAPI 3.0) as a `null` type or branch."""
    for node in _mappings(document):
        if node.get("nullable") is True:  # (a property may be named "nullable")
            del node["nullable"]
            kind = node.get("type")
            if isinstance(kind, str | list):
                kinds = [kind] if isinstance(kind, str) else kind
                node["type"] = kinds if "null" in kinds else [*kinds, "null"]
                if isinstance(node.get("enum"), list) and None not in node["enum"]:
                    node["enum"] = [*node["enum"], None]
            else:
                inner = {key: node.pop(key) for key in list(node) if key != "description"}
                node["anyOf"] = [inner, {"type": "null"}]
        elif node.get("nullable") is False:
            del node["nullable"]
