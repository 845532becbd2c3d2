"""Operations: what each builder method and registry entry is made of."""

from __future__ import annotations

import keyword
import textwrap
from collections.abc import Mapping
from typing import Any

import attrs

from py302._registry import resolve_ref

from ._errors import CodegenError
from ._extensions import event_model, merged_result, stream_block
from ._load import iter_operations
from ._models import ModelIndex, flat_union, names_in
from ._security import declared_auth
from ._webhooks import declared_webhook

__all__ = ["OperationData", "Param", "collect_operations", "registry_entry"]

_SIMPLE_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
_RESERVED = {"self", "extra_body", "extra_headers"}
#: Header parameters OpenAPI says to ignore: py302 sets them itself.
IGNORED_HEADERS = frozenset({"content-type", "authorization"})
#: A path parameter whose value's slashes separate path segments (a model path).
ALLOW_SLASHES = "x-py302-allow-slashes"


@attrs.frozen(kw_only=True)
class Param:
    """One keyword parameter of a builder method."""

    name: str
    wire: str
    annotation: str
    required: bool
    description: str | None
    location: str  # path, query, header, cookie, body, content, media or option
    #: A required parameter that allows one value (`const`) is no keyword: the builder
    #: sends this value (Python source) itself.
    constant: str | None = None


@attrs.frozen(kw_only=True)
class OperationData:
    """Everything the templates and the registry need about one operation."""

    operation_id: str
    method: str
    path: str
    raw: Mapping[str, Any]
    params: tuple[Param, ...]
    has_body: bool
    model: str
    task: Mapping[str, Any] | None
    task_model: str | None
    event_model: str | None
    stream_flag: str | None
    result: Mapping[str, Any] | None  # x-py302-result, the document's default merged in
    docstring: str
    #: The headers that carry the key (`security`), or None for `Authorization: Bearer`.
    auth: list[dict[str, str]] | None = None
    #: Where a callback URL is given and what its body is (`callbacks`), if any.
    webhook: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        """The decorator of the builder, which says how the client carries it out:
        `task` (submit, then poll), `streamable` (whole, or streamed on request),
        `streaming` (always an event stream) or `operation` (answers at once)."""
        if self.task:
            return "task"
        if self.event_model is None:
            return "operation"
        return "streaming" if self.model == "Any" else "streamable"

    @property
    def call_class(self) -> str:
        """The class of the `Call` the builder returns."""
        if self.kind == "task":
            return "TaskCall"
        return "Call" if self.event_model is None else "StreamCall"

    @property
    def returns(self) -> str:
        """The builder's return annotation."""
        if self.kind == "task":
            return f"TaskCall[{self.model}, {self.task_model}]"
        if self.event_model is not None:
            return f"StreamCall[{self.model}, {self.event_model}]"
        return f"Call[{self.model}]"

    @property
    def name(self) -> str:
        """The method name on the namespace."""
        return self.operation_id

    @property
    def path_params(self) -> list[Param]:
        """Parameters that fill the URL path."""
        return [p for p in self.params if p.location == "path"]

    @property
    def query_params(self) -> list[Param]:
        """Parameters sent in the query string."""
        return [p for p in self.params if p.location == "query"]

    @property
    def header_params(self) -> list[Param]:
        """Parameters sent as request headers."""
        return [p for p in self.params if p.location == "header"]

    @property
    def cookie_params(self) -> list[Param]:
        """Parameters sent in the `Cookie` header."""
        return [p for p in self.params if p.location == "cookie"]

    @property
    def body_params(self) -> list[Param]:
        """Parameters that are fields of the request body."""
        return [p for p in self.params if p.location == "body"]

    @property
    def content_param(self) -> Param | None:
        """The `body` keyword of a body that is one value (a file, a JSON array), if so."""
        return next((p for p in self.params if p.location == "content"), None)

    @property
    def media_param(self) -> Param | None:
        """The `content_type` keyword, when the body may be sent several ways."""
        return next((p for p in self.params if p.location == "media"), None)

    @property
    def option_params(self) -> list[Param]:
        """Per-call choices for plugins (`x-py302-options`), never sent."""
        return [p for p in self.params if p.location == "option"]


def collect_operations(
    document: Mapping[str, Any], index: ModelIndex, fragment: str
) -> list[OperationData]:
    """The operations of a fragment, sorted by operation id."""
    problems: list[str] = []
    found: list[OperationData] = []
    models = {
        op["operationId"]: _response_model(op, index) for _, _, op in iter_operations(document)
    }
    for path, method, op in iter_operations(document):
        op_id = op["operationId"]
        flag = stream_block(op).get("flag")
        params = (
            _parameters(op, index, fragment, problems)
            + _body_params(op, index, fragment, problems, skip=flag, document=document)
            + _option_params(op, fragment, problems)
        )
        params = _distinct(params)
        names = [p.name for p in params]
        for clash in sorted({n for n in names if names.count(n) > 1}):
            problems.append(
                f"{fragment}: {op_id}: two parameters become the keyword {clash!r}; rename one"
            )
        params.sort(key=lambda p: not p.required)
        task = op.get("x-py302-task")
        found.append(
            OperationData(
                operation_id=op_id,
                method=method,
                path=path,
                raw=op,
                params=tuple(params),
                has_body="requestBody" in op,
                model=models[op_id],
                task=task,
                task_model=models.get(task["poll"]) if task else None,
                event_model=_event_class(op, index),
                stream_flag=flag,
                result=merged_result(document.get("x-py302-result"), op.get("x-py302-result")),
                docstring=_docstring(op, method, path, params),
                auth=declared_auth(op, document, f"{fragment}: {op_id}", problems),
                webhook=declared_webhook(op, document, f"{fragment}: {op_id}", problems),
            )
        )
    if problems:
        raise CodegenError(problems)
    return sorted(found, key=lambda op: op.operation_id)


def _distinct(params: list[Param]) -> list[Param]:
    """OpenAPI tells parameters apart by name and location (`id` in the path and `id`
    in the query): a keyword taken already gets its location appended (`id_query`)."""
    seen: set[str] = set()
    out = []
    for param in params:
        name = f"{param.name}_{param.location}" if param.name in seen else param.name
        seen.add(name)
        out.append(attrs.evolve(param, name=name))
    return out


def _event_class(op: Mapping[str, Any], index: ModelIndex) -> str | None:
    name = event_model(op)
    return None if name is None else index.response_class(name)


def _python_name(wire: str) -> str:
    name = "".join(ch if ch.isalnum() else "_" for ch in wire)
    if name[:1].isdigit():
        name = "_" + name
    if keyword.iskeyword(name) or name in _RESERVED:
        name += "_"
    return name


def _parameters(
    op: Mapping[str, Any], index: ModelIndex, fragment: str, problems: list[str]
) -> list[Param]:
    params = []
    for raw in op.get("parameters", []):
        location = raw.get("in")
        if location == "header" and str(raw.get("name", "")).lower() in IGNORED_HEADERS:
            continue  # py302 sets these itself; OpenAPI says to ignore such parameters
        if location not in {"path", "query", "header", "cookie"}:
            problems.append(
                f"{fragment}: {op['operationId']}: parameter {raw.get('name')!r} is in "
                f"{location!r}; OpenAPI's locations are path, query, header and cookie"
            )
            continue
        schema = raw.get("schema") or {}
        python_type = _parameter_type(schema, index)
        # A path parameter with a default fills the path itself when left out.
        required = bool(raw.get("required")) or location == "path"
        if location == "path" and "default" in schema:
            required = False
        wire = raw["name"]
        constant = repr(schema["const"]) if required and "const" in schema else None
        params.append(
            Param(
                name=_python_name(wire.lower() if location == "header" else wire),
                wire=wire,
                annotation=python_type if required else f"{python_type} | None",
                required=required,
                description=raw.get("description"),
                location=location,
                constant=constant,
            )
        )
    return params


def _parameter_type(schema: Mapping[str, Any], index: ModelIndex) -> str:
    """The annotation of a parameter of `schema`: an enum's values as a `Literal`,
    `type` lists (`[string, "null"]`) and `anyOf`/`oneOf` as unions, arrays by their
    items, a `$ref` as the model it names (widened as a body field's would be)."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        defined = name in index.classes or name in index.enums or name in index.aliases
        return index.widen(name) if defined else "Any"
    if "const" in schema:
        return f"Literal[{schema['const']!r}]" if schema["const"] is not None else "None"
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list) and branches:
        union = [
            _parameter_type(branch, index) for branch in branches if branch != {"type": "null"}
        ]
        return " | ".join(dict.fromkeys(union)) or "Any"
    if isinstance(schema.get("enum"), list):
        values = [value for value in schema["enum"] if value is not None]
        if values:
            return "Literal[" + ", ".join(repr(value) for value in values) + "]"
    kinds = schema.get("type")
    members: list[str] = []
    for kind in kinds if isinstance(kinds, list) else [kinds]:
        if kind == "null":
            continue
        if kind == "array":
            members.append(f"Sequence[{_parameter_type(schema.get('items') or {}, index)}]")
        else:
            members.append(_SIMPLE_TYPES.get(kind, "Any") if isinstance(kind, str) else "Any")
    return " | ".join(dict.fromkeys(members)) or "Any"


def request_media(op: Mapping[str, Any]) -> list[tuple[str, str]]:
    """`(media type, schema name)` of each request media type, in document order."""
    content = (op.get("requestBody") or {}).get("content") or {}
    return [(media, body["schema"]["$ref"].rsplit("/", 1)[-1]) for media, body in content.items()]


def whole_body(op: Mapping[str, Any], index: ModelIndex) -> bool:
    """Whether the request body is one value (a file, a JSON array or string) rather
    than an object whose fields are the builder's keywords."""
    return any(
        index.request_class(schema) not in index.classes for _media, schema in request_media(op)
    )


def _body_params(
    op: Mapping[str, Any],
    index: ModelIndex,
    fragment: str,
    problems: list[str],
    *,
    skip: str | None = None,
    document: Mapping[str, Any] | None = None,
) -> list[Param]:
    """The body as keywords: an object's fields, or one `body` keyword for a body that
    is a single value; a `content_type` keyword when several media types are declared.
    `skip` is the stream flag, which the runtime sets. A text field marked
    `x-py302-file` also takes a file (`FileInput`), which the runtime encodes."""
    media = request_media(op)
    encoded = file_fields(op, document or {})
    problems.extend(
        f"{fragment}: {op['operationId']}: x-py302-file of {wire!r} must be one of "
        f"{', '.join(FILE_ENCODINGS)}, got {encoding!r}"
        for wire, encoding in encoded.items()
        if encoding not in FILE_ENCODINGS
    )
    if not media:
        return []
    choice = []
    if len(media) > 1:
        kinds = ", ".join(repr(kind) for kind, _ in media)
        choice = [
            Param(
                name="content_type",
                wire="content_type",
                annotation=f"Literal[{kinds}] | None",
                required=False,
                description=f"How the body is sent: one of {kinds} (default {media[0][0]!r}).",
                location="media",
            )
        ]
    if whole_body(op, index):
        return _content_param(op, index, media) + choice
    binary = set(binary_fields(op, index))
    merged: dict[str, Param] = {}
    for _kind, schema in media:
        class_name = index.request_class(schema)
        for field in index.fields_of(class_name):
            if field.wire == skip or field.additional:
                continue
            annotation = (
                _file_annotation(index.expand(field.annotation))
                if field.wire in binary
                else _encoded_file_annotation(index.widen(field.annotation))
                if field.wire in encoded
                else index.widen(field.annotation)
            )
            required = field.required or field.wire in index.schema_required.get(schema, ())
            param = Param(
                name=field.name,
                wire=field.wire,
                annotation=annotation,
                required=required,
                description=field.description,
                location="body",
            )
            known = merged.get(field.wire)
            if known is not None:  # a field of several media types: whichever is sent
                param = attrs.evolve(
                    known, annotation=flat_union(f"{known.annotation} | {annotation}")
                )
            merged[field.wire] = param
    # Required only if every media type requires it; the chosen one is checked on sending.
    common = frozenset.intersection(
        *(
            frozenset(
                f.wire
                for f in index.fields_of(index.request_class(schema))
                if f.required or f.wire in index.schema_required.get(schema, ())
            )
            for _kind, schema in media
        )
    )
    params = [p if p.wire in common or not p.required else _loosened(p) for p in merged.values()]
    return params + choice


def _content_param(
    op: Mapping[str, Any], index: ModelIndex, media: list[tuple[str, str]]
) -> list[Param]:
    """The one `body` keyword of a body that is a single value."""
    members = []
    for kind, schema in media:
        name = index.request_class(schema)
        annotation = index.widen(name)
        if not kind.startswith(("application/json", "text/")) and "json" not in kind:
            annotation = _file_annotation(index.expand(name))
        members.append(annotation)
    required = bool((op.get("requestBody") or {}).get("required"))
    annotation = flat_union(" | ".join(members))
    return [
        Param(
            name="body",
            wire="(body)",
            annotation=annotation if required else _optional(annotation),
            required=required,
            description=(op.get("requestBody") or {}).get("description") or "The request body.",
            location="content",
        )
    ]


def _loosened(param: Param) -> Param:
    return attrs.evolve(param, required=False, annotation=_optional(param.annotation))


def _optional(annotation: str) -> str:
    return flat_union(f"{annotation} | None")


def _option_params(op: Mapping[str, Any], fragment: str, problems: list[str]) -> list[Param]:
    options = op.get("x-py302-options") or {}
    if not isinstance(options, Mapping):
        problems.append(f"{fragment}: {op['operationId']}: x-py302-options must be a mapping")
        return []
    params = []
    for name, schema in options.items():
        if not isinstance(schema, Mapping) or not name.isidentifier():
            problems.append(
                f"{fragment}: {op['operationId']}: option {name!r} needs a name and a schema"
            )
            continue
        if "enum" in schema:
            annotation = "Literal[" + ", ".join(repr(v) for v in schema["enum"]) + "]"
        else:
            annotation = _SIMPLE_TYPES.get(schema.get("type", ""), "Any")
        description = schema.get("description", "")
        if "default" in schema:
            description = f"{description} Default: {schema['default']!r}.".strip()
        params.append(
            Param(
                name=_python_name(name),
                wire=name,
                annotation=f"{annotation} | None",
                required=False,
                description=description or None,
                location="option",
            )
        )
    return params


def binary_fields(op: Mapping[str, Any], index: ModelIndex) -> list[str]:
    """Body fields that carry files (multipart `format: binary` fields)."""
    content = op.get("requestBody", {}).get("content", {})
    fields: list[str] = []
    for media, body in content.items():
        if not media.startswith("multipart/"):
            continue
        schema_name = body["schema"]["$ref"].rsplit("/", 1)[-1]
        fields.extend(
            f.wire
            for f in index.classes.get(index.request_class(schema_name), ())
            if "bytes" in names_in(index.expand(f.annotation))
        )
    return sorted(fields)


#: How a file given for a text field is written into it (`x-py302-file`): as base64, as
#: a data URI, or (`url`) as the URL it gets once uploaded, when the caller allows that.
FILE_ENCODINGS = ("base64", "data-uri", "url")


def file_fields(op: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, str]:
    """The text fields of the request body that also take a file, with the encoding the
    file is sent in (`x-py302-file` on the property, or on its items). A top-level
    field is named by its wire name; a nested one by its path, `[]` where it goes
    through a list (`contents[].parts[].inline_data.data`, `file.url`)."""
    found: dict[str, str] = {}
    for _media, name in request_media(op):
        schema = {"$ref": f"#/components/schemas/{name}"}
        _marked_fields(document, schema, "", found, frozenset())
    return found


def _marked_fields(
    document: Mapping[str, Any],
    schema: Any,
    prefix: str,
    found: dict[str, str],
    seen: frozenset[str],
) -> None:
    """Walk `schema`'s properties (through `$ref`s, `allOf`, `anyOf`/`oneOf` branches
    and list items) and record every field marked `x-py302-file` under its path."""
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    if isinstance(ref, str):
        if ref in seen:
            return  # a recursive schema: walked once already
        seen = seen | {ref}
    resolved = resolve_ref(document, schema)
    properties = dict(resolved.get("properties") or {})
    for part in resolved.get("allOf") or []:
        properties.update(resolve_ref(document, part).get("properties") or {})
    for wire, raw in properties.items():
        path = f"{prefix}{wire}"
        prop = resolve_ref(document, raw)
        items = prop.get("items") or {}
        marked = prop.get("x-py302-file") or resolve_ref(document, items).get("x-py302-file")
        if isinstance(marked, str):
            found[path] = marked
            continue
        for branch in [raw, *(prop.get("anyOf") or []), *(prop.get("oneOf") or [])]:
            shape = resolve_ref(document, branch)
            if shape.get("type") == "array" or "items" in shape:
                _marked_fields(document, shape.get("items") or {}, f"{path}[].", found, seen)
            elif shape.get("properties") or shape.get("allOf"):
                _marked_fields(document, branch, f"{path}.", found, seen)


def _encoded_file_annotation(annotation: str) -> str:
    """A text field's annotation that also takes a file (`str` stays, files join it)."""
    return flat_union(annotation.replace("str", "FileInput"))


def _file_annotation(annotation: str) -> str:
    return annotation.replace("bytes", "FileInput")


_BINARY_MEDIA = ("image/", "video/", "audio/", "model/", "application/octet-stream")


def _response_model(op: Mapping[str, Any], index: ModelIndex) -> str:
    """The type of the success body: every 2xx JSON model, and `bytes` for binary ones."""
    members: list[str] = []
    statuses = sorted(s for s in op.get("responses", {}) if str(s).startswith("2"))
    for status in statuses:
        for media, content in op["responses"][status].get("content", {}).items():
            if "json" in media and "$ref" in content.get("schema", {}):
                member = index.response_class(str(content["schema"]["$ref"].rsplit("/", 1)[-1]))
            elif media.startswith(_BINARY_MEDIA):
                member = "bytes"
            else:
                continue
            if member not in members:
                members.append(member)
    if "bytes" in members:  # keep `bytes` last: `Model | bytes`
        members.remove("bytes")
        members.append("bytes")
    return " | ".join(members) or "Any"


def _docstring(op: Mapping[str, Any], method: str, path: str, params: list[Param]) -> str:
    lines = [*textwrap.wrap(" ".join(op["summary"].split()), 88), ""]
    description = op.get("description")
    if description:
        lines += [*textwrap.wrap(" ".join(description.split()), 88), ""]
    lines.append(f"{method} {path} · evidence: {op['x-py302-evidence']}")
    if op.get("x-py302-task"):
        task = op["x-py302-task"]
        lines.append(f"Submits a task (pattern {task['pattern']}, polled by {task['poll']}).")
    events = event_model(op)
    if events and stream_block(op).get("flag"):
        lines.append(f"Answers whole, or as a stream of {events} events with `.stream(...)`.")
    elif events:
        lines.append(f"Answers with a stream of {events} events.")
    sources = op.get("x-py302-sources") or []
    if sources:
        lines.append(f"Docs: {sources[0]}")
    lines += ["", "Args:"]
    for param in (p for p in params if p.constant is None):
        text = " ".join((param.description or "").split()) or (
            "Required." if param.required else "Optional."
        )
        wrapped = textwrap.wrap(f"{param.name}: {text}", 84)
        lines += ["    " + wrapped[0]] + ["        " + more for more in wrapped[1:]]
    if "requestBody" in op and not any(p.location == "content" for p in params):
        lines.append("    extra_body: Body fields the spec does not list, sent as given.")
    lines.append("    extra_headers: Headers added to this request (they win over py302's).")
    body = "\n        ".join(line.rstrip() for line in lines)
    return body.replace("\n        \n", "\n\n").rstrip() + "\n        "


def _media_entry(body: Mapping[str, Any]) -> dict[str, Any]:
    """Schema and examples of one media type, as the registry keeps them."""
    return {key: body[key] for key in ("schema", "example", "examples") if key in body}


def registry_entry(
    op: OperationData, index: ModelIndex, document: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON the core reads about one operation (see `py302._registry`)."""
    raw = op.raw
    document = document or {}
    content = raw.get("requestBody", {}).get("content", {})
    request = None
    if content:
        media, body = next(iter(content.items()))
        request = {"content_type": media, **_media_entry(body)}
        if len(content) > 1:
            request["media_types"] = {kind: _media_entry(entry) for kind, entry in content.items()}
    responses = {}
    for status, response in raw.get("responses", {}).items():
        media_types = {
            media: _media_entry(body) for media, body in response.get("content", {}).items()
        }
        entry: dict[str, Any] = {"description": response.get("description", "")}
        if media_types:
            media, first = next(iter(media_types.items()))
            entry["content_type"] = media
            if "schema" in first:
                entry["schema"] = first["schema"]
            entry["media_types"] = media_types
        responses[str(status)] = entry
    extensions = {
        key: value
        for key, value in raw.items()
        if key.startswith("x-")
        and key
        not in {
            "x-py302-doc",
            "x-py302-evidence",
            "x-py302-sources",
            "x-py302-notes",
            "x-py302-task",
            "x-py302-result",  # replaced by the merged block below
        }
    }
    if op.result is not None:
        extensions["x-py302-result"] = op.result
    encoded = file_fields(raw, document)
    if encoded:
        extensions["x-py302-file-fields"] = encoded
    binary = binary_fields(raw, index)
    content_param = op.content_param
    if content_param is not None and "FileInput" in names_in(content_param.annotation):
        binary.append("(body)")  # the body is one file
    if binary:
        extensions["x-py302-binary-fields"] = binary
    parameters = [
        {
            k: v
            for k, v in param.items()
            if k
            in {"name", "in", "required", "schema", "example", "style", "explode", ALLOW_SLASHES}
        }
        for param in raw.get("parameters", [])
        if param.get("in") in {"path", "query", "cookie"}
        or (param.get("in") == "header" and param["name"].lower() not in IGNORED_HEADERS)
    ]
    return {
        "arguments": [
            {"name": p.name, "wire": p.wire, "in": p.location, "required": p.required}
            for p in op.params
            if p.constant is None
        ],
        "method": op.method,
        "path": op.path,
        "summary": raw["summary"],
        "doc": raw["x-py302-doc"],
        "evidence": raw["x-py302-evidence"],
        "sources": raw.get("x-py302-sources", []),
        "notes": " ".join(raw["x-py302-notes"].split()) if raw.get("x-py302-notes") else None,
        "parameters": parameters,
        "request": request,
        "responses": responses,
        "task": op.task,
        "extensions": extensions,
        **({"auth": op.auth} if op.auth is not None else {}),
        **({"webhook": op.webhook} if op.webhook is not None else {}),
    }
