"""The operation registry: what the generator wrote down about every operation.

Each generated bindings module `pkg.provider` has a sibling `provider.json` holding
the provider's operations (method, path, content types, JSON Schemas, task pattern,
doc ids, evidence) and the component schemas they refer to. It is read the first time
an operation of that provider is used, never at import.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .payloads import dig, scalar_text

if TYPE_CHECKING:
    from ._declared import ResultDeclaration, StreamDeclaration

__all__ = [
    "ArgumentSpec",
    "AuthHeader",
    "OperationSpec",
    "ParameterSpec",
    "ProviderRegistry",
    "TaskSpec",
    "WebhookSpec",
    "load_registry",
    "media_type",
    "object_properties",
    "registry_from_data",
    "registry_path",
    "resolve_ref",
]


@attrs.frozen(kw_only=True)
class ParameterSpec:
    """A path, query or header parameter of an operation.

    `style` and `explode` say how an array or object value is written (OpenAPI's
    serialization rules); None means the location's default (`form` and exploded in
    the query, `simple` elsewhere).
    """

    name: str
    location: str  # "path", "query", "header" or "cookie"
    required: bool
    schema: Mapping[str, Any]
    example: Any = None
    style: str | None = None
    explode: bool | None = None
    allow_slashes: bool = False
    """A path parameter whose value's `/` separate path segments
    (`x-py302-allow-slashes`: a model path such as `vendor/model`)."""


@attrs.frozen(kw_only=True)
class ArgumentSpec:
    """A keyword argument of an operation's binding and where its value goes."""

    name: str  # the Python keyword
    wire: str  # the name on the wire
    location: str  # path, query, body or option
    required: bool


@attrs.frozen(kw_only=True)
class AuthHeader:
    """A header that carries the API key: `Authorization` with the prefix `Bearer `,
    or a key header such as `mj-api-secret` with none (the spec's `security`)."""

    header: str
    prefix: str = ""


@attrs.frozen(kw_only=True)
class WebhookSpec:
    """An operation's callback (OpenAPI `callbacks`): where the caller gives its URL
    (`{$request.query.webhook}`, `{$request.body#/notifyHook}`), the schema of the
    body posted to it, and the path of the task id in that body."""

    name: str
    expression: str
    schema: Mapping[str, Any]
    task_id: str | None = None

    def url_in(self, query: Mapping[str, Any], body: Any) -> str | None:
        """The callback URL a request gives, or None when it gives none."""
        inner = self.expression[len("{$request.") : -1]
        if inner.startswith("query."):
            value = query.get(inner[len("query.") :])
        else:
            pointer = inner[len("body#") :].strip("/")
            value = dig(body, pointer.replace("/", ".")) if pointer else body
        return value if isinstance(value, str) and value else None


@attrs.frozen(kw_only=True)
class TaskSpec:
    """`x-py302-task`: the polling pattern and the operation that polls."""

    pattern: str
    poll: str
    cancel: str | None = None
    id_path: str = "id"
    id_param: str | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict)
    """Any other keys of the block, for the pattern's plugin to read."""


@attrs.frozen(kw_only=True)
class OperationSpec:
    """Everything known about one operation, as the generator recorded it."""

    provider: str
    operation_id: str
    method: str
    path: str
    summary: str
    doc_ids: tuple[str, ...]
    evidence: str
    sources: tuple[str, ...]
    notes: str | None
    parameters: tuple[ParameterSpec, ...]
    request_content_type: str | None
    request_schema: Mapping[str, Any] | None
    request_examples: Mapping[str, Any]
    responses: Mapping[str, Mapping[str, Any]]
    task: TaskSpec | None
    extensions: Mapping[str, Any]
    arguments: tuple[ArgumentSpec, ...] = ()
    #: Every request media type, when there are several (the first is the default):
    #: media type -> its schema and examples.
    request_media: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    is_poll: bool = False
    """Whether some task operation polls (or cancels) its tasks with this operation."""
    webhook: WebhookSpec | None = None
    """The callback the operation may post to, when it declares one."""
    auth: tuple[AuthHeader, ...] | None = None
    """The headers that carry the key, as the spec's `security` declares them; None
    when it declares none (then `Authorization: Bearer`), empty when it takes no key."""

    def for_media(self, content_type: str) -> OperationSpec:
        """This operation as sent with the request media type `content_type`, one of
        those it declares; `ValueError` names them otherwise."""
        if content_type == self.request_content_type:
            return self
        chosen = self.request_media.get(content_type)
        if chosen is None:
            declared = ", ".join(repr(kind) for kind in self.request_media)
            raise ValueError(f"must be one of {declared}, got {content_type!r}")
        return attrs.evolve(
            self,
            request_content_type=content_type,
            request_schema=chosen.get("schema"),
            request_examples={k: chosen[k] for k in ("example", "examples") if k in chosen},
        )

    @property
    def answers_whole(self) -> bool:
        """Whether some 2xx answer is not an event stream (else the operation only
        streams)."""
        return any(
            media_type(media) != "text/event-stream"
            for status, response in self.responses.items()
            if status.startswith("2")
            for media in response.get("media_types", {})
        )

    @functools.cached_property
    def constants(self) -> Mapping[tuple[str, str], Any]:
        """The required parameters that allow one value (`const`), by (location, name):
        what a binding sends itself, and what tells apart operations sharing a path."""
        return {
            (param.location, param.name): param.schema["const"]
            for param in self.parameters
            if param.required and "const" in param.schema
        }

    @functools.cached_property
    def query_constants(self) -> Mapping[str, str]:
        """The constant query parameters, by name, as a URL writes them."""
        return {
            name: scalar_text(value)
            for (location, name), value in self.constants.items()
            if location == "query"
        }

    def constants_fit(self, query: Mapping[str, str]) -> bool:
        """Whether a URL's query carries this operation's constant query parameters."""
        return all(query.get(name) == value for name, value in self.query_constants.items())

    @functools.cached_property
    def path_defaults(self) -> Mapping[str, Any]:
        """The path parameters' default values: what fills the path when the call
        leaves them out."""
        return {
            param.name: param.schema["default"]
            for param in self.parameters
            if param.location == "path" and "default" in param.schema
        }

    def path_values(self, path: str) -> dict[str, str] | None:
        """The values a concrete URL path gives this operation's placeholders, or None
        when the path is not this operation's."""
        found = self.path_pattern().match(path)
        if found is None:
            return None
        names = re.findall(r"\{([^}]+)\}", self.path)
        return dict(zip(names, found.groups(), strict=True))

    @functools.cached_property
    def qualified_name(self) -> str:
        """`provider.operation`, the name used by the CLI and in messages."""
        return f"{self.provider}.{self.operation_id}"

    @functools.cached_property
    def parameter_at(self) -> Mapping[tuple[str, str], ParameterSpec]:
        """The declared parameters by (location, name)."""
        return {(param.location, param.name): param for param in self.parameters}

    @functools.cached_property
    def parameter_names(self) -> Mapping[str, frozenset[str]]:
        """The declared parameters' names, by location (every location present)."""
        return {
            location: frozenset(p.name for p in self.parameters if p.location == location)
            for location in ("path", "query", "header", "cookie")
        }

    @functools.cached_property
    def header_parameters(self) -> Mapping[str, ParameterSpec]:
        """The declared header parameters, by lower-case name (headers have no case)."""
        return {p.name.lower(): p for p in self.parameters if p.location == "header"}

    @functools.cached_property
    def option_defaults(self) -> Mapping[str, Any]:
        """The declared options' default values."""
        return {
            name: schema["default"] for name, schema in self.options.items() if "default" in schema
        }

    @functools.cached_property
    def binary_fields(self) -> frozenset[str]:
        """`x-py302-binary-fields`: the multipart fields that take files."""
        return frozenset(self.extensions.get("x-py302-binary-fields", ()))

    @functools.cached_property
    def idempotent(self) -> bool:
        """Whether sending it twice is harmless (safe methods, or marked so in the spec)."""
        marked = self.extensions.get("x-py302-idempotent")
        if isinstance(marked, bool):
            return marked
        return self.method in {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}

    @functools.cached_property
    def options(self) -> Mapping[str, Mapping[str, Any]]:
        """`x-py302-options`: per-call choices that are not sent but read by plugins."""
        declared = self.extensions.get("x-py302-options")
        return declared if isinstance(declared, Mapping) else {}

    @functools.cached_property
    def result_declaration(self) -> ResultDeclaration | None:
        """`x-py302-result`, read once: where answers keep files, text, usage, errors."""
        from ._declared import ResultDeclaration

        return ResultDeclaration.of(self.extensions)

    @functools.cached_property
    def stream_declaration(self) -> StreamDeclaration:
        """`x-py302-stream`, read once (empty for an operation that does not stream)."""
        from ._declared import StreamDeclaration

        return StreamDeclaration.of(self.extensions)

    def response_key(self, status: int) -> str | None:
        """The key under `responses` that declares `status`: the exact code, then `2XX`
        (and so on), then `default`."""
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if self.responses.get(key):
                return key
        return None

    def response_for(self, status: int) -> Mapping[str, Any] | None:
        """The declared response for `status` (see `response_key`)."""
        key = self.response_key(status)
        return self.responses[key] if key is not None else None

    def media_for(self, status: int, content_type: str) -> Mapping[str, Any] | None:
        """The declared schema and examples for an answer's status and media type."""
        declared = self.response_for(status)
        if declared is None:
            return None
        kind = media_type(content_type)
        media_types: Mapping[str, Any] = declared.get("media_types", {})
        for media, entry in media_types.items():
            if media == kind or (media.endswith("/*") and kind.startswith(media[:-1])):
                found: Mapping[str, Any] = entry
                return found
        return None

    def path_pattern(self) -> re.Pattern[str]:
        """A regex that matches concrete URL paths of this operation."""
        slashes = {p.name for p in self.parameters if p.location == "path" and p.allow_slashes}
        return _path_regex(self.path, frozenset(slashes))


def resolve_ref(document: Mapping[str, Any], schema: Any) -> Mapping[str, Any]:
    """`schema` with top-level local `$ref`s into `document` followed (at most 16)."""
    seen = 0
    while isinstance(schema, Mapping) and "$ref" in schema and seen < 16:
        pointer = str(schema["$ref"]).lstrip("#/").split("/")
        target: Any = document
        for part in pointer:
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        schema = target
        seen += 1
    return schema if isinstance(schema, Mapping) else {}


def object_properties(document: Mapping[str, Any], schema: Any) -> dict[str, Mapping[str, Any]]:
    """An object schema's properties by name, each resolved, `allOf` parts merged in."""
    schema = resolve_ref(document, schema)
    merged = {
        name: resolve_ref(document, value) for name, value in schema.get("properties", {}).items()
    }
    for part in schema.get("allOf", []):
        merged.update(object_properties(document, part))
    return merged


def media_type(content_type: str) -> str:
    """The media type of a `Content-Type` value, without parameters, in lower case."""
    return content_type.split(";", maxsplit=1)[0].strip().lower()


@functools.cache
def _path_regex(template: str, slashes: frozenset[str] = frozenset()) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    body = "".join(
        ("(.+?)" if part[1:-1] in slashes else "([^/]+)")
        if part.startswith("{")
        else re.escape(part)
        for part in parts
    )
    return re.compile(f"^{body}/?$")


@attrs.frozen(kw_only=True, eq=False)
class ProviderRegistry:
    """The operations of one provider and the JSON document their schemas live in."""

    provider: str
    fragment: str
    document: Mapping[str, Any]
    operations: Mapping[str, OperationSpec]

    @property
    def schema_uri(self) -> str:
        """The URI under which `document` is known to the schema validator."""
        return f"urn:py302:{self.provider}"

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """`schema` with a top-level `$ref` into this document followed."""
        return resolve_ref(self.document, schema)

    def body_properties(self, spec: OperationSpec) -> dict[str, Mapping[str, Any]]:
        """The request body's fields by wire name, each schema resolved (allOf merged)."""
        if spec.request_schema is None:
            return {}
        return object_properties(self.document, spec.request_schema)

    def get(self, operation_id: str) -> OperationSpec:
        """The operation called `operation_id`; KeyError names the ones that exist."""
        try:
            return self.operations[operation_id]
        except KeyError:
            known = ", ".join(sorted(self.operations))
            raise KeyError(
                f"{self.provider} has no operation {operation_id!r}; known: {known}"
            ) from None

    def match(self, method: str, path: str) -> OperationSpec | None:
        """The operation that serves `method path`, preferring literal paths to templates."""
        candidates = self.matches(method, path)
        return candidates[0] if candidates else None

    def matches(self, method: str, path: str) -> list[OperationSpec]:
        """Every operation whose method and path template fit `method path`, literal
        paths first (several may share one: 302's async chat is chat with a query)."""
        candidates = [
            spec
            for spec in self.operations.values()
            if spec.method == method.upper() and spec.path_pattern().match(path)
        ]
        candidates.sort(key=lambda spec: (spec.path.count("{"), spec.operation_id))
        return candidates


_TASK_KEYS = frozenset({"pattern", "poll", "cancel", "id_path", "id_param"})


def registry_path(bindings: str) -> Path:
    """Where the registry of the bindings module `bindings` is, without importing it."""
    found = importlib.util.find_spec(bindings)
    if found is None or found.origin is None:
        raise ModuleNotFoundError(f"no bindings module {bindings!r}")
    return Path(found.origin).with_suffix(".json")


@functools.cache
def load_registry(bindings: str) -> ProviderRegistry:
    """Read (once) the registry that belongs to the bindings module `bindings`."""
    data = json.loads(registry_path(bindings).read_text(encoding="utf-8"))
    return registry_from_data(data)


def registry_from_data(data: Mapping[str, Any]) -> ProviderRegistry:
    """Build a registry from its JSON form (as written by the generator)."""
    provider = data["provider"]
    polls = {
        raw["task"][key]
        for raw in data["operations"].values()
        if raw.get("task")
        for key in ("poll", "cancel")
        if raw["task"].get(key)
    }
    operations = {
        op_id: attrs.evolve(_operation_from_data(provider, op_id, raw), is_poll=op_id in polls)
        for op_id, raw in data["operations"].items()
    }
    return ProviderRegistry(
        provider=provider,
        fragment=data["fragment"],
        document={"components": data.get("components", {})},
        operations=operations,
    )


def _operation_from_data(provider: str, op_id: str, raw: Mapping[str, Any]) -> OperationSpec:
    task = raw.get("task")
    request = raw.get("request") or {}
    return OperationSpec(
        provider=provider,
        operation_id=op_id,
        method=raw["method"],
        path=raw["path"],
        summary=raw.get("summary", ""),
        doc_ids=tuple(raw.get("doc", ())),
        evidence=raw.get("evidence", "inferred"),
        sources=tuple(raw.get("sources", ())),
        notes=raw.get("notes"),
        parameters=tuple(
            ParameterSpec(
                name=param["name"],
                location=param["in"],
                required=bool(param.get("required", False)),
                schema=param.get("schema", {}),
                example=param.get("example"),
                style=param.get("style"),
                explode=param.get("explode"),
                allow_slashes=param.get("x-py302-allow-slashes") is True,
            )
            for param in raw.get("parameters", ())
        ),
        request_content_type=request.get("content_type"),
        request_schema=request.get("schema"),
        request_examples={k: request[k] for k in ("example", "examples") if k in request},
        request_media=request.get("media_types", {}),
        responses=raw.get("responses", {}),
        task=TaskSpec(
            pattern=task["pattern"],
            poll=task["poll"],
            cancel=task.get("cancel"),
            id_path=task.get("id_path", "id"),
            id_param=task.get("id_param"),
            options={key: value for key, value in task.items() if key not in _TASK_KEYS},
        )
        if task
        else None,
        extensions=raw.get("extensions", {}),
        webhook=None
        if raw.get("webhook") is None
        else WebhookSpec(
            name=raw["webhook"]["name"],
            expression=raw["webhook"]["expression"],
            schema=raw["webhook"]["schema"],
            task_id=raw["webhook"].get("task_id"),
        ),
        auth=None
        if raw.get("auth") is None
        else tuple(AuthHeader(header=a["header"], prefix=a.get("prefix", "")) for a in raw["auth"]),
        arguments=tuple(
            ArgumentSpec(
                name=arg["name"], wire=arg["wire"], location=arg["in"], required=arg["required"]
            )
            for arg in raw.get("arguments", ())
        ),
    )
