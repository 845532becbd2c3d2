"""`x-py302-stream` and `x-py302-result`: their rules, and what the generator reads of them.

x-py302-stream (on an operation) says how an operation that answers with a
`text/event-stream` is driven: which body field asks for the stream (`flag`), which data
line ends it (`done`), which plugin folds its events (`accumulator`), where a chunk's
text is (`text_delta`). x-py302-result (on an operation, or at the document root as
every operation's default) says where a finished answer keeps its files, text, usage
and error. Both are data for the runtime; the generator checks their shape, picks the
operation's kind from its responses, and writes the merged result block to the registry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from py302._registry import object_properties
from py302._sse import SSEDecoder

__all__ = [
    "EVENT_STREAM",
    "event_model",
    "event_stream_problems",
    "is_boolean_body_field",
    "is_event_stream",
    "merged_result",
    "read_event_stream",
    "result_problems",
    "stream_block",
]

EVENT_STREAM = "text/event-stream"
STREAM_KEYS = ("flag", "done", "done_required", "accumulator", "text_delta", "whole")
RESULT_KEYS = ("assets", "text", "reasoning", "tool_calls", "usage", "error")
TOOL_CALL_KEYS = ("items", "id", "name", "arguments")
USAGE_COUNTS = ("input_tokens", "output_tokens", "total_tokens", "cost")
ERROR_PATHS = ("message", "code", "request_id")
_KEY = r"[^\s.\[\]]+"  # one step of a dotted path: a key or a list index
_PATH = re.compile(rf"^{_KEY}(\.{_KEY})*$")
#: A list step: `[]` (every item) or a filter `[?key]`, `[?!key]`, `[?key=value]`.
_FAN = r"(\[\]|\[\?!?[^\s\[\]=]+(=[^\[\]]*)?\])"
_FAN_OUT_PATH = re.compile(rf"^({_KEY}|{_KEY}{_FAN}|{_FAN})(\.({_KEY}|{_KEY}{_FAN}))*$")
_SSE_FIELDS = frozenset({"data", "event", "id", "retry"})


def is_event_stream(media: str) -> bool:
    """Whether a content key is `text/event-stream` (parameters and case ignored)."""
    return media.split(";", maxsplit=1)[0].strip().lower() == EVENT_STREAM


def _success_media(op: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """`(status, media, content)` of every media type of every 2xx response."""
    for status, response in op.get("responses", {}).items():
        if str(status).startswith("2") and isinstance(response, Mapping):
            for media, content in (response.get("content") or {}).items():
                yield str(status), media, content if isinstance(content, Mapping) else {}


def _ref_name(schema: Any) -> str | None:
    ref = schema.get("$ref") if isinstance(schema, Mapping) else None
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _event_schemas(op: Mapping[str, Any]) -> list[str | None]:
    """The component named by each 2xx event-stream answer (None where it names none)."""
    return [
        _ref_name(content.get("schema"))
        for _, media, content in _success_media(op)
        if is_event_stream(media)
    ]


def event_model(op: Mapping[str, Any]) -> str | None:
    """The component each event's data follows, if a 2xx answer is an event stream."""
    return next((name for name in _event_schemas(op) if name), None)


def stream_block(op: Mapping[str, Any]) -> Mapping[str, Any]:
    """The operation's `x-py302-stream`, or an empty mapping."""
    block = op.get("x-py302-stream")
    return block if isinstance(block, Mapping) else {}


def event_stream_problems(
    document: Mapping[str, Any], op: Mapping[str, Any], where: str
) -> list[str]:
    """How an operation's event-stream answers and its `x-py302-stream` break the rules."""
    problems = [
        f"{where}: the {status} {media} response needs a $ref schema "
        "(the component each event's data follows)"
        for status, response in op.get("responses", {}).items()
        if isinstance(response, Mapping)
        for media, content in (response.get("content") or {}).items()
        if is_event_stream(media) and _ref_name((content or {}).get("schema")) is None
    ]
    streams = _event_schemas(op)
    others = sorted({media for _, media, _ in _success_media(op) if not is_event_stream(media)})
    events = sorted({name for name in streams if name})
    if len(events) > 1:
        problems.append(f"{where}: its event streams name different schemas: {events}")
    if streams and op.get("x-py302-task") is not None:
        problems.append(f"{where}: an operation submits a task or answers with a stream, not both")
    block = op.get("x-py302-stream")
    if block is None:
        if streams and others:
            problems.append(_flag_needed(where, others))
        return problems
    if not isinstance(block, Mapping):
        return [*problems, f"{where}: x-py302-stream must be a mapping"]
    unknown = sorted(set(block) - set(STREAM_KEYS))
    if unknown:
        problems.append(
            f"{where}: x-py302-stream has unknown keys {unknown}; known: {', '.join(STREAM_KEYS)}"
        )
    if not streams:
        problems.append(
            f"{where}: x-py302-stream is declared but no 2xx response is {EVENT_STREAM}"
        )
    flag = block.get("flag")
    if flag is None and streams and others:
        problems.append(_flag_needed(where, others))
    elif flag is not None and not is_boolean_body_field(document, op, flag):
        problems.append(
            f"{where}: x-py302-stream.flag {flag!r} is not a boolean property of the request body"
        )
    problems.extend(_marker_problems(block, where))
    if "whole" in block:
        problems.extend(_whole_problems(block, f"{where}: x-py302-stream.whole"))
    if "text_delta" in block:
        problems.extend(
            _path_problems(block["text_delta"], f"{where}: x-py302-stream.text_delta", fan_out=True)
        )
    return problems


def _marker_problems(block: Mapping[str, Any], where: str) -> list[str]:
    """How `done`, `done_required` and `accumulator` break their rules."""
    problems = [
        f"{where}: x-py302-stream.{key} must be a non-empty string"
        for key in ("done", "accumulator")
        if key in block and (not isinstance(block[key], str) or not block[key])
    ]
    if "done_required" in block and (
        not isinstance(block["done_required"], bool) or "done" not in block
    ):
        problems.append(f"{where}: x-py302-stream.done_required is a boolean beside done")
    return problems


def _whole_problems(block: Mapping[str, Any], where: str) -> list[str]:
    """How `whole` (the whole answer assembled from a stream's final event) breaks its
    rules: `from` a path that selects events, `fields` mapping answer paths to event
    paths, and no `accumulator` beside it."""
    whole = block["whole"]
    if not isinstance(whole, Mapping) or set(whole) != {"from", "fields"}:
        return [f"{where} must map `from` (a path selecting the final event) and `fields`"]
    problems = _path_problems(whole["from"], f"{where}.from", fan_out=True)
    fields = whole["fields"]
    if not isinstance(fields, Mapping) or not fields:
        problems.append(f"{where}.fields must map paths of the whole answer to event paths")
    else:
        for target, source in fields.items():
            problems.extend(_path_problems(target, f"{where}.fields key"))
            problems.extend(_path_problems(source, f"{where}.fields[{target!r}]"))
    if "accumulator" in block:
        problems.append(f"{where} and accumulator both fold the stream; keep one")
    return problems


def _flag_needed(where: str, others: list[str]) -> str:
    return (
        f"{where}: answers {', '.join(others)} or {EVENT_STREAM}, so x-py302-stream.flag must "
        "name the body field that selects the stream"
    )


def is_boolean_body_field(document: Mapping[str, Any], op: Mapping[str, Any], name: Any) -> bool:
    """Whether the request body has a boolean property `name` (through `$ref`s, `allOf`
    parts, and `anyOf` branches such as a nullable boolean's)."""
    if not isinstance(name, str):
        return False
    for body in (op.get("requestBody", {}).get("content") or {}).values():
        field = object_properties(document, (body or {}).get("schema", {})).get(name, {})
        for branch in [field, *(field.get("anyOf") or [])]:
            declared = branch.get("type") if isinstance(branch, Mapping) else None
            if declared == "boolean" or (isinstance(declared, list) and "boolean" in declared):
                return True
    return False


def _path_problems(path: Any, where: str, *, fan_out: bool = False) -> list[str]:
    """A dotted path into an answer (`data.images[].url` when `fan_out`), or why not."""
    pattern = _FAN_OUT_PATH if fan_out else _PATH
    if isinstance(path, str) and pattern.fullmatch(path):
        return []
    kind = (
        "a dotted path (`[]` or a filter `[?key]`, `[?!key]`, `[?key=value]` after a key "
        "fans out over a list)"
        if fan_out
        else "a dotted path"
    )
    return [f"{where} must be {kind}, got {path!r}"]


def result_problems(block: Any, where: str, *, removable: bool = False) -> list[str]:
    """How an `x-py302-result` block breaks the rules. `removable`: an operation's block,
    where a key set to null removes the document's default for that key."""
    where = f"{where}: x-py302-result"
    if not isinstance(block, Mapping):
        return [f"{where} must be a mapping"]
    problems = []
    unknown = sorted(set(block) - set(RESULT_KEYS))
    if unknown:
        problems.append(f"{where} has unknown keys {unknown}; known: {', '.join(RESULT_KEYS)}")
    for key in RESULT_KEYS:
        if key not in block or (removable and block[key] is None):
            continue
        value = block[key]
        if key == "assets":
            problems.extend(_asset_problems(value, f"{where}.assets"))
        elif key in {"text", "reasoning"}:
            problems.extend(_path_problems(value, f"{where}.{key}", fan_out=True))
        elif key == "tool_calls":
            problems.extend(_tool_call_problems(value, f"{where}.tool_calls"))
        elif key == "usage":
            problems.extend(_usage_problems(value, f"{where}.usage"))
        else:
            problems.extend(_error_problems(value, f"{where}.error"))
    return problems


def _tool_call_problems(block: Any, where: str) -> list[str]:
    if not isinstance(block, Mapping) or not {"items", "name"} <= set(block):
        return [f"{where} must map items (a path to the calls) and name, id, arguments"]
    problems = _path_problems(block["items"], f"{where}.items", fan_out=True)
    unknown = sorted(set(block) - set(TOOL_CALL_KEYS))
    if unknown:
        problems.append(f"{where} has unknown keys {unknown}; known: {', '.join(TOOL_CALL_KEYS)}")
    for key in ("id", "name", "arguments"):
        if key in block:
            problems.extend(_path_problems(block[key], f"{where}.{key}"))
    return problems


_ASSET_FORMS = (
    "{url: path, mime_type: path}, {data: path, mime_type: path}, "
    "{data: path, default_mime_type: literal} or {images_in_text: path}"
)
_ASSET_KEYS = frozenset({"url", "data", "images_in_text", "mime_type", "default_mime_type"})


def _asset_problems(assets: Any, where: str) -> list[str]:
    if not isinstance(assets, list) or not assets:
        return [f"{where} must list paths, or mappings {_ASSET_FORMS}"]
    problems = []
    for number, entry in enumerate(assets):
        here = f"{where}[{number}]"
        if isinstance(entry, Mapping):
            source = {"url", "data", "images_in_text"} & set(entry)
            unknown = sorted(set(entry) - _ASSET_KEYS)
            if unknown or len(source) != 1:
                problems.append(f"{here} must be one of {_ASSET_FORMS}, got {dict(entry)}")
                continue
            for key, path in entry.items():
                if key == "default_mime_type":
                    if not isinstance(path, str) or "/" not in path:
                        problems.append(f"{here}.default_mime_type must be a media type")
                    continue
                problems.extend(_path_problems(path, f"{here}.{key}", fan_out=True))
        else:
            problems.extend(_path_problems(entry, here, fan_out=True))
    return problems


def _usage_problems(usage: Any, where: str) -> list[str]:
    known = (*USAGE_COUNTS, "unit")
    if not isinstance(usage, Mapping) or not set(usage) & set(USAGE_COUNTS):
        return [f"{where} must map some of {', '.join(USAGE_COUNTS)} to paths"]
    problems = []
    unknown = sorted(set(usage) - set(known))
    if unknown:
        problems.append(f"{where} has unknown keys {unknown}; known: {', '.join(known)}")
    for key in USAGE_COUNTS:
        if key in usage:
            paths = usage[key] if isinstance(usage[key], list) and usage[key] else [usage[key]]
            for path in paths:
                problems.extend(_path_problems(path, f"{where}.{key}", fan_out=True))
    if "unit" in usage and (not isinstance(usage["unit"], str) or not usage["unit"]):
        problems.append(f"{where}.unit must be a literal string such as USD, got {usage['unit']!r}")
    return problems


def _error_problems(error: Any, where: str) -> list[str]:
    known = ("path", "ok", *ERROR_PATHS)
    if not isinstance(error, Mapping) or "path" not in error:
        return [f"{where} must be a mapping with a path (and ok, {', '.join(ERROR_PATHS)})"]
    problems = _path_problems(error["path"], f"{where}.path")
    unknown = sorted(set(error) - set(known))
    if unknown:
        problems.append(f"{where} has unknown keys {unknown}; known: {', '.join(known)}")
    ok = error.get("ok", [])
    if not isinstance(ok, list) or any(isinstance(v, Mapping | list) for v in ok):
        problems.append(f"{where}.ok must list the values that mean success, got {ok!r}")
    for key in ERROR_PATHS:
        if key in error:
            problems.extend(_path_problems(error[key], f"{where}.{key}"))
    return problems


def merged_result(root: Any, op: Any) -> dict[str, Any] | None:
    """An operation's `x-py302-result`: the document's default, key by key overridden by
    the operation's own; a key the operation sets to null is dropped. None when empty."""
    merged = {
        **(root if isinstance(root, Mapping) else {}),
        **(op if isinstance(op, Mapping) else {}),
    }
    kept = {key: value for key, value in merged.items() if value is not None}
    return kept or None


def read_event_stream(text: Any) -> list[str]:
    """The data of each event of an event-stream example, in order.

    Stricter than a client must be: every line is a `field: value` line of a known
    field (data, event, id, retry) or a `:` comment, and at least one event carries
    data. `ValueError` says what is malformed.
    """
    if not isinstance(text, str):
        raise ValueError(f"is not event-stream text but {type(text).__name__}")
    for number, line in enumerate(text.splitlines(), start=1):
        name, colon, _ = line.partition(":")
        if line and name and (not colon or name not in _SSE_FIELDS):
            raise ValueError(f"line {number} is not a data, event, id or retry line: {line[:40]!r}")
    decoder = SSEDecoder()  # read as the client reads streams
    events = [event.data for event in decoder.feed(text.encode()) + decoder.close()]
    if not events:
        raise ValueError("holds no data line")
    return events
