"""Example cassettes: the spec's own examples, laid out as the traffic of one call.

`py302 cassette examples` writes, for every operation, a VCR cassette built from the
examples in its fragment (request, answer, and for a task the poll answers `running`
then `succeeded`), with a `provenance` block that says it is *not* recorded traffic
and where each body came from. An operation that can answer with an event stream
(`x-py302-stream`) gets a second cassette, `<operation>.stream.yaml`: the same request
with the stream flag set, answered by the spec's `text/event-stream` example as sent
(a stream-only operation gets only that one, as `<operation>.yaml`). Replaying them
through the client is a contract test of every binding, plugin pattern and example
at once. Where a fragment has no example, one is made from the schema (required
fields only) and marked `synthesized`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import attrs

from py302._registry import OperationSpec, ProviderRegistry, media_type
from py302._tasks import TaskPattern
from py302._transport import fill_path, is_json_type
from py302.payloads import dig

from ._events import EVENT_STREAM

__all__ = [
    "FILE_MARKER",
    "PNG_2X2",
    "STREAM_SUFFIX",
    "Body",
    "ExampleError",
    "answer_when",
    "example_cassette",
    "example_cassettes",
    "final_answer",
    "media_example",
    "named_answer",
    "request_arguments",
    "stream_answer",
    "synthesize",
    "with_sample_files",
]

API = "https://api.302.ai"
FILE_MARKER = "<file:png>"
#: A real 2x2 PNG: what binary answers and file uploads carry in example cassettes.
PNG_2X2 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR4nGM4sMAAghgwWAAAcjgI8YpH5OsAAAAASUVORK5CYII="
)
_BINARY = ("image/", "video/", "audio/", "model/", "application/octet-stream")
#: What a streamed example cassette's name adds to the operation's: `completions.stream`
#: (an operation id is an identifier, so no operation's own cassette can be called so).
STREAM_SUFFIX = ".stream"


def with_sample_files(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """`arguments` (from `request_arguments`) with each file marker, alone or in a
    list, replaced by the bytes of a real PNG: what a call can send."""

    def sample(value: Any) -> Any:
        if isinstance(value, list):
            return [sample(item) for item in value]
        return PNG_2X2 if value == FILE_MARKER else value

    return {key: sample(value) for key, value in arguments.items()}


class ExampleError(ValueError):
    """Raised when an operation's examples cannot make a cassette (says what is missing)."""


@attrs.frozen
class Body:
    """An example answer: its value (JSON, bytes, or the text of an event stream), where
    it came from, status, type."""

    value: Any
    source: str
    status: int = 200
    media: str = "application/json"


def example_cassettes(registry: ProviderRegistry, spec: OperationSpec) -> dict[str, dict[str, Any]]:
    """Every example cassette of `spec` (as YAML-ready data) by file name without
    `.yaml`: the operation's id for the call, and for an operation that answers whole
    or streamed also `<id>.stream` for the streamed call. A stream-only operation's
    call is its stream."""
    name = spec.operation_id
    if stream_answer(registry, spec) is None:
        return {name: example_cassette(registry, spec)}
    streamed = example_cassette(registry, spec, stream=True)
    if not spec.answers_whole:
        return {name: streamed}
    return {name: example_cassette(registry, spec), name + STREAM_SUFFIX: streamed}


def example_cassette(
    registry: ProviderRegistry, spec: OperationSpec, *, stream: bool = False
) -> dict[str, Any]:
    """The cassette (as YAML-ready data) of one call of `spec`, built from examples;
    with `stream`, of the streamed call: the body's stream flag set, the answer the
    spec's event-stream example (`stream_answer`)."""
    arguments, request_source, body = request_arguments(registry, spec)
    flag = spec.stream_declaration.flag
    if flag is not None and isinstance(body, dict):
        # As the binding sends it: the flag set for the stream, left out otherwise.
        body = {key: value for key, value in body.items() if key != flag}
        if stream:
            body[flag] = True
            request_source = f"{request_source}, with {flag}: true"
    interactions = [_interaction(registry, spec, arguments)]
    content_type = spec.request_content_type or ""
    if body is not None and "json" in content_type:
        interactions[0]["request"]["body"] = json.dumps(body, ensure_ascii=False)
        interactions[0]["request"]["headers"] = {"Content-Type": [content_type]}
    sources = {"request": request_source}
    call: dict[str, Any] = {"arguments": arguments}
    if stream:
        streamed = stream_answer(registry, spec)
        if streamed is None:
            raise ExampleError(f"{spec.qualified_name}: no {EVENT_STREAM} answer to stream")
        interactions[0]["response"] = _response(streamed)
        sources["response"] = streamed.source
        call["stream"] = True
    elif spec.task is None:
        answer = final_answer(registry, spec)
        interactions[0]["response"] = _response(answer)
        sources["response"] = answer.source
    else:
        submitted = media_example(registry, spec, names=("default", "succeeded"))
        interactions[0]["response"] = _response(submitted)
        sources["submit answer"] = submitted.source
        task_id = dig(submitted.value, spec.task.id_path)
        if task_id is None:
            raise ExampleError(
                f"{spec.qualified_name}: no task id at {spec.task.id_path} in its example"
            )
        poll = registry.get(spec.task.poll)
        params = TaskPattern().poll_params(str(task_id), poll, spec.task)
        poll_args = {**params.path, **params.query}

        def poll_request() -> dict[str, Any]:
            asked = _interaction(registry, poll, poll_args, wire=True)
            if params.body is not None:  # a poll that names the task in its JSON body
                asked["request"]["body"] = json.dumps(dict(params.body), ensure_ascii=False)
                asked["request"]["headers"] = {"Content-Type": ["application/json"]}
            return asked

        running = named_answer(registry, poll, "running")
        if running is not None:
            interactions.append({**poll_request(), "response": _response(running)})
            sources["poll answer (running)"] = running.source
        finished = final_answer(registry, poll)
        interactions.append({**poll_request(), "response": _response(finished)})
        sources["poll answer (succeeded)"] = finished.source
    return {
        "provenance": {
            "recorded": False,
            "summary": (
                f"Built by `py302 cassette examples` from the examples in {registry.fragment}; "
                "not recorded traffic."
            ),
            "operation": spec.qualified_name,
            "evidence": spec.evidence,
            "sources": sources,
            "call": call,
        },
        "interactions": interactions,
        "version": 1,
    }


def request_arguments(
    registry: ProviderRegistry, spec: OperationSpec
) -> tuple[dict[str, Any], str, Any]:
    """Keyword arguments of the binding (by Python name), their source, the wire body."""
    body: Any = {}
    source = "none"
    if spec.request_schema is not None:
        example = _pick(spec.request_examples)
        if example is None:
            body = synthesize(registry, spec.request_schema) or {}
            source = "synthesized from the request schema"
        else:
            body, source = example
    whole = next((a for a in spec.arguments if a.location == "content"), None)
    if whole is not None:  # a body that is one value (a file, a JSON array)
        values: dict[tuple[str, str], Any] = {("content", whole.wire): body}
    else:
        values = {("body", key): value for key, value in (body or {}).items()}
    for param in spec.parameters:
        example = param.example if param.example is not None else param.schema.get("example")
        if example is None and param.required:
            example = synthesize(registry, param.schema)
        if example is not None:
            values[(param.location, param.name)] = example
    binary = spec.binary_fields
    arguments: dict[str, Any] = {}
    for argument in spec.arguments:
        key = (argument.location, argument.wire)
        if key in values:
            value = values.pop(key)
            if argument.wire in binary:  # a file, or a list of files, stands for its marker
                value = [FILE_MARKER] * len(value) if isinstance(value, list) else FILE_MARKER
            arguments[argument.name] = value
    flag = spec.stream_declaration.flag  # the binding sets it, per form
    extra = {
        wire: value
        for (location, wire), value in values.items()
        if location == "body" and wire != flag
    }
    if extra:
        arguments["extra_body"] = extra
    return arguments, source, body if spec.request_schema is not None else None


def _pick(content: Mapping[str, Any]) -> tuple[Any, str] | None:
    if "example" in content:
        return content["example"], "spec example"
    examples = content.get("examples") or {}
    for name in ("default", "succeeded", *examples):
        if name in examples and "value" in examples[name]:
            entry = examples[name]
            return entry["value"], str(entry.get("x-py302-source", "spec example"))
    return None


def _interaction(
    registry: ProviderRegistry,
    spec: OperationSpec,
    arguments: Mapping[str, Any],
    *,
    wire: bool = False,
) -> dict[str, Any]:
    by_wire = (
        arguments
        if wire
        else {a.wire: arguments[a.name] for a in spec.arguments if a.name in arguments}
    )
    query = {}
    by_wire = {**{name: value for (_, name), value in spec.constants.items()}, **by_wire}
    styles = {(p.location, p.name): p for p in spec.parameters}
    path = fill_path(
        spec.path,
        {
            **spec.path_defaults,
            **{
                p.name: by_wire[p.name]
                for p in spec.parameters
                if p.location == "path" and p.name in by_wire
            },
        },
        styles,
    )
    for param in spec.parameters:
        if param.name not in by_wire:
            continue
        if param.location == "query":
            value = by_wire[param.name]
            query[param.name] = ("true" if value else "false") if isinstance(value, bool) else value
    uri = API + path + ("?" + urlencode(query, doseq=True) if query else "")
    return {"request": {"method": spec.method, "uri": uri, "body": None, "headers": {}}}


def final_answer(registry: ProviderRegistry, spec: OperationSpec) -> Body:
    """The answer of a finished call: a small real PNG where the operation answers with
    a file (and prefers bytes, or names no example), else its `succeeded` or `default`
    example, else any success example (`media_example`)."""
    binary = _binary_media(spec)
    output = spec.options.get("output", {})
    prefers_bytes = output.get("default") == "bytes"
    named = named_answer(registry, spec, "succeeded") or named_answer(registry, spec, "default")
    if binary and (prefers_bytes or named is None):
        status, media = binary
        return Body(PNG_2X2, "a 2x2 PNG made for the example", status, media)
    if named is not None:
        return named
    return media_example(registry, spec, names=("default", "succeeded"))


def stream_answer(registry: ProviderRegistry, spec: OperationSpec) -> Body | None:
    """The answer of a streamed call, as the text of the event stream: the 2xx
    `text/event-stream` example, else a named one, else one event synthesized from the
    event schema and then the end marker. None when no 2xx answer is an event stream."""
    for status, response in sorted(spec.responses.items()):
        if not status.startswith("2"):
            continue
        for media, content in response.get("media_types", {}).items():
            if media_type(media) != EVENT_STREAM:
                continue
            if isinstance(content.get("example"), str):
                source = f"spec example ({spec.evidence})"
                return Body(content["example"], source, int(status), EVENT_STREAM)
            for entry in (content.get("examples") or {}).values():
                if isinstance(entry.get("value"), str):
                    source = str(entry.get("x-py302-source", "spec example"))
                    return Body(entry["value"], source, int(status), EVENT_STREAM)
            schema = content.get("schema")
            events = [synthesize(registry, schema, full=True)] if schema is not None else []
            done = spec.stream_declaration.done
            lines = [json.dumps(event, ensure_ascii=False) for event in events]
            text = "".join(f"data: {line}\n\n" for line in [*lines, *([done] if done else [])])
            return Body(text, "synthesized from the event schema", int(status), EVENT_STREAM)
    return None


def answer_when(spec: OperationSpec, body: Any, *, streamed: bool) -> Body | None:
    """The success example meant for a request like `body`: one whose `x-py302-when`
    names a body field the request sets (a non-empty `tools`, `thinking`, ...), as an
    event stream (`streamed`) or a whole answer. None when no example says so."""
    if not isinstance(body, Mapping):
        return None
    for status, response in sorted(spec.responses.items()):
        if not status.startswith("2"):
            continue
        for media, content in response.get("media_types", {}).items():
            if (media_type(media) == EVENT_STREAM) != streamed:
                continue
            for entry in (content.get("examples") or {}).values():
                field = entry.get("x-py302-when") if isinstance(entry, Mapping) else None
                if isinstance(field, str) and body.get(field) and "value" in entry:
                    source = str(entry.get("x-py302-source", "spec example"))
                    kind = EVENT_STREAM if streamed else "application/json"
                    return Body(entry["value"], source, int(status), kind)
    return None


def _binary_media(spec: OperationSpec) -> tuple[int, str] | None:
    for status, response in sorted(spec.responses.items()):
        for media in response.get("media_types", {}):
            if status.startswith("2") and str(media).startswith(_BINARY):
                return int(status), str(media)
    return None


def named_answer(registry: ProviderRegistry, spec: OperationSpec, name: str) -> Body | None:
    """The JSON example called `name` among the operation's responses, or None."""
    for status, response in sorted(spec.responses.items()):
        for media, content in response.get("media_types", {}).items():
            examples = content.get("examples") or {}
            if "json" in media and name in examples and "value" in examples[name]:
                entry = examples[name]
                source = str(entry.get("x-py302-source", "spec example"))
                return Body(entry["value"], source, int(status))
    return None


def media_example(
    registry: ProviderRegistry, spec: OperationSpec, *, names: tuple[str, ...]
) -> Body:
    """A success answer: the inline example, else the example called one of `names`,
    else any example, else one synthesized from the schema. Raises `ExampleError` when
    the operation declares no success response."""
    for status, response in sorted(spec.responses.items()):
        if not status.startswith("2"):
            continue
        for media, content in response.get("media_types", {}).items():
            if "json" in media and "example" in content:
                return Body(content["example"], f"spec example ({spec.evidence})", int(status))
        for name in names:
            named = named_answer(registry, spec, name)
            if named is not None:
                return named
        for content in response.get("media_types", {}).values():
            for entry in (content.get("examples") or {}).values():
                if "value" in entry:
                    source = str(entry.get("x-py302-source", "spec example"))
                    return Body(entry["value"], source, int(status))
        schema = response.get("schema")
        if schema is not None:
            return Body(
                synthesize(registry, schema, full=True),
                "synthesized from the response schema",
                int(status),
            )
    raise ExampleError(f"{spec.qualified_name}: no success response to build an example from")


def _response(body: Body) -> dict[str, Any]:
    if isinstance(body.value, bytes) or not is_json_type(body.media):
        content: Any = body.value
        media = body.media
    else:
        content = json.dumps(body.value, ensure_ascii=False)
        media = "application/json"
    return {
        "status": {"code": body.status, "message": "Accepted" if body.status == 202 else "OK"},
        "headers": {"Content-Type": [media]},
        "body": {"string": content},
    }


def synthesize(
    registry: ProviderRegistry, schema: Mapping[str, Any], depth: int = 0, *, full: bool = False
) -> Any:
    """A value that satisfies `schema`, from its examples and defaults: required fields
    only, or (`full`, for answers) every field."""
    if depth > 8:
        return None
    if "$ref" in schema:
        return synthesize(registry, registry.resolve(schema), depth + 1, full=full)
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("allOf", "anyOf", "oneOf"):
        if schema.get(combinator):
            return _combine(registry, combinator, schema[combinator], depth, full)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        names = list(properties) if full else schema.get("required", [])
        return {
            name: _named_hint(name, properties.get(name, {}))
            or synthesize(registry, properties.get(name, {}), depth + 1, full=full)
            for name in names
        }
    if kind == "array":
        item = synthesize(registry, schema.get("items", {}), depth + 1, full=full)
        return [item] * max(1, int(schema.get("minItems", 1)))
    return _scalar(kind, schema)


def _combine(
    registry: ProviderRegistry, combinator: str, parts: list[Any], depth: int, full: bool
) -> Any:
    values = [synthesize(registry, part, depth + 1, full=full) for part in parts]
    if combinator != "allOf":
        return next((value for value in values if value is not None), None)
    merged: dict[str, Any] = {}
    for value in values:
        merged.update(value if isinstance(value, dict) else {})
    return merged


def _named_hint(name: str, schema: Mapping[str, Any]) -> Any:
    """A plausible value for a string field whose name says what it holds."""
    if schema.get("type") != "string" or any(k in schema for k in ("example", "enum", "const")):
        return None
    lowered = name.lower()
    if lowered.endswith("url") or lowered in {"sample", "image_url", "result_url"}:
        return "https://file.302.ai/example.png"
    if lowered in {"content_type", "mime_type"}:
        return "image/png"
    return None


def _scalar(kind: Any, schema: Mapping[str, Any]) -> Any:
    if kind == "string":
        return "https://file.302.ai/example.png" if schema.get("format") == "uri" else "example"
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return False
    return None
