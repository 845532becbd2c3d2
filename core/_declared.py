"""Provider behaviour written in the spec: the declared task pattern and `x-py302-result`.

Most providers differ only in where things are: the status and its values, the
progress, the failure message, the result files, the text, the usage, an error
envelope under HTTP 200. A fragment says where, and these two classes read it, so
such a provider needs no Python at all.

`x-py302-task` keys of the declared pattern (`pattern: declared`):

    status_path    dotted path of the task's status in a submit or poll answer
    succeeded      status values that mean done                 (list)
    failed         status values that mean failed               (list)
    cancelled      status values that mean cancelled            (list, optional)
    queued         status values that mean not started yet      (list, optional)
    done_path      dotted path that, in an answer with no status, means succeeded when
                   it holds a value (a finished answer that drops the status) (optional)
    message_path   dotted path of a failure message             (optional)
    progress_path  dotted path of progress, 0-1 or 0-100        (optional)
    result_urls    path of the result URL(s); `[]` fans out     (optional; else x-py302-result)
    poll_interval  seconds between polls                         (optional, default 2)
    poll_backoff   factor the interval grows by per poll, up to 10 s (optional, default 1.3)

`x-py302-result` keys (on an operation, or at the document root for all of them):

    assets   list of paths of result URLs (a string holding a JSON list of URLs is read
             too), or of mappings {url: path, mime_type: path}, or of files returned
             inline: {data: path, mime_type: path} or {data: path, default_mime_type:
             literal} (base64 text, or a `data:` URL), or images a text shows in
             markdown: {images_in_text: path}
    text     path of the produced text; a path that fans out (`[]`, or a filter
             `[?key]`, `[?!key]`, `[?key=value]`) joins every string it finds
    reasoning  path of the model's reasoning text, read as `text` is
    tool_calls {items: path of the calls, id, name, arguments: paths within one};
             arguments given as JSON text are decoded; an item without a name is skipped
    usage    {input_tokens, output_tokens, total_tokens, cost: path or list of paths (the
             first that holds a number is read), unit: literal}
    error    {path, ok: [values], message, code, request_id}: an answer whose value at
             `path` is present and not in `ok` is an error, whatever its HTTP status
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from typing import Any

import attrs
import httpx

from ._constants import MAX_POLL_INTERVAL
from ._errors import APIStatusError
from ._results import Asset, Normalized, ToolCall, Usage
from ._tasks import TaskPattern, TaskSnapshot, TaskStatus
from .payloads import collect, dig, fraction, text_at, urls_in_text

__all__ = [
    "DECLARED",
    "DeclaredTaskPattern",
    "ReportedError",
    "ResultDeclaration",
    "StreamDeclaration",
]

DECLARED = "declared"
_REQUIRED = ("status_path", "succeeded", "failed")


def _values(options: Mapping[str, Any], key: str) -> frozenset[str]:
    return frozenset(str(value) for value in options.get(key, ()))


@attrs.frozen(kw_only=True)
class DeclaredTaskPattern(TaskPattern):
    """A pattern whose every path and status value comes from the spec."""

    status_path: str
    succeeded: frozenset[str]
    failed: frozenset[str]
    cancelled: frozenset[str] = frozenset()
    queued: frozenset[str] = frozenset()
    message_path: str | None = None
    progress_path: str | None = None
    done_path: str | None = None
    result_urls: str | None = None
    poll_interval: float = 2.0
    poll_backoff: float = 1.3
    name: str = DECLARED

    @classmethod
    def from_options(cls, options: Mapping[str, Any], operation: str) -> DeclaredTaskPattern:
        """Build from an `x-py302-task` block; a missing key is named in the error."""
        missing = [key for key in _REQUIRED if key not in options]
        if missing:
            raise ValueError(f"{operation}: x-py302-task lacks {', '.join(missing)}")
        return cls(
            status_path=str(options["status_path"]),
            succeeded=_values(options, "succeeded"),
            failed=_values(options, "failed"),
            cancelled=_values(options, "cancelled"),
            queued=_values(options, "queued"),
            message_path=options.get("message_path"),
            progress_path=options.get("progress_path"),
            done_path=options.get("done_path"),
            result_urls=options.get("result_urls"),
            poll_interval=float(options.get("poll_interval", 2.0)),
            poll_backoff=float(options.get("poll_backoff", 1.3)),
        )

    def snapshot(self, payload: Any, response: httpx.Response | None) -> TaskSnapshot:
        """Map an answer through the declared paths and values."""
        raw = dig(payload, self.status_path)
        progress = fraction(dig(payload, self.progress_path)) if self.progress_path else None
        if not isinstance(raw, str | int) or isinstance(raw, bool) or raw == "":
            if self.done_path and dig(payload, self.done_path) not in (None, "", [], {}):
                # Some APIs answer a finished task with its result alone, no status.
                return TaskSnapshot(status=TaskStatus.SUCCEEDED, progress=1.0)
            # No status (yet): a submit answer that only carries the task id.
            return TaskSnapshot(status=TaskStatus.QUEUED, progress=progress)
        status = str(raw)
        if status in self.succeeded:
            return TaskSnapshot(status=TaskStatus.SUCCEEDED, progress=1.0, provider_status=status)
        if status in self.failed or status in self.cancelled:
            message = dig(payload, self.message_path) if self.message_path else None
            state = TaskStatus.FAILED if status in self.failed else TaskStatus.CANCELLED
            return TaskSnapshot(
                status=state, provider_status=status, message=str(message or status)
            )
        state = TaskStatus.QUEUED if status in self.queued else TaskStatus.RUNNING
        return TaskSnapshot(status=state, progress=progress, provider_status=status)

    def normalize(self, payload: Any, response: httpx.Response | None) -> Normalized | None:
        """The result URLs at `result_urls`, if declared (else the result declaration)."""
        if self.result_urls is None:
            return None
        return Normalized(assets=[Asset(url=url) for url in _urls(payload, self.result_urls)])

    def poll_delay(self, attempt: int, snapshot: TaskSnapshot) -> float:
        """The declared interval, growing by the declared factor up to the ceiling."""
        return min(MAX_POLL_INTERVAL, self.poll_interval * self.poll_backoff**attempt)


def _urls(payload: Any, path: str) -> list[str]:
    found: list[str] = []
    for value in collect(payload, path):
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            found.append(value)
        else:
            found.extend(urls_in_text(value))
    return found


@attrs.frozen(kw_only=True)
class ResultDeclaration:
    """`x-py302-result`: where an answer keeps its files, text, usage and error."""

    assets: tuple[Any, ...] = ()
    text: str | None = None
    reasoning: str | None = None
    tool_calls: Mapping[str, str] | None = None
    usage: Mapping[str, str] = attrs.field(factory=dict)
    error: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, extensions: Mapping[str, Any]) -> ResultDeclaration | None:
        """The declaration in an operation's extensions, or None."""
        block = extensions.get("x-py302-result")
        if not isinstance(block, Mapping):
            return None
        return cls(
            assets=tuple(block.get("assets", ())),
            text=block.get("text"),
            reasoning=block.get("reasoning"),
            tool_calls=block.get("tool_calls"),
            usage=dict(block.get("usage", {})),
            error=block.get("error"),
        )

    def normalize(self, payload: Any) -> Normalized:
        """Assets, text and usage found at the declared paths."""
        assets: list[Asset] = []
        for entry in self.assets:
            if isinstance(entry, str) or not isinstance(entry, Mapping):
                assets.extend(Asset(url=url) for url in _urls(payload, str(entry)))
            elif "data" in entry:
                assets.extend(_inline(payload, entry))
            elif "images_in_text" in entry:
                assets.extend(_images_in_text(payload, str(entry["images_in_text"])))
            else:
                found = _paired(payload, str(entry["url"]), entry.get("mime_type"))
                default = entry.get("default_mime_type")
                assets.extend(
                    attrs.evolve(asset, mime_type=default)
                    if default and not asset.mime_type
                    else asset
                    for asset in found
                )
        return Normalized(
            assets=assets,
            text=text_at(payload, self.text),
            reasoning=text_at(payload, self.reasoning),
            tool_calls=_tool_calls(payload, self.tool_calls),
            usage=self._usage(payload),
        )

    def _usage(self, payload: Any) -> Usage | None:
        found: dict[str, Any] = {}
        for key, paths in self.usage.items():
            if key == "unit":
                continue
            # Several paths: the first that holds a number (a whole answer's usage, or
            # the same figures in a streamed answer's last event).
            for path in [paths] if isinstance(paths, str) else paths:
                value = next(
                    (
                        item
                        for item in collect(payload, str(path))
                        if isinstance(item, int | float) and not isinstance(item, bool)
                    ),
                    None,
                )
                if value is not None:
                    found[key] = float(value) if key == "cost" else int(value)
                    break
        if not found:
            return None
        unit = self.usage.get("unit") if "cost" in found else None
        return Usage(**found, unit=unit)

    def reported_error(self, payload: Any) -> ReportedError | None:
        """What a payload reports through the declared error envelope, if it does."""
        if self.error is None or not isinstance(payload, Mapping):
            return None
        value = dig(payload, str(self.error["path"]))
        if value is None or value in list(self.error.get("ok", ())):
            return None
        message_path = self.error.get("message")
        message = dig(payload, message_path) if message_path else None
        code_path = self.error.get("code")
        code = dig(payload, code_path) if code_path else value
        request_id_path = self.error.get("request_id")
        request_id = dig(payload, request_id_path) if request_id_path else None
        return ReportedError(
            message=str(message or f"error {value}"),
            code=code if isinstance(code, str | int) and not isinstance(code, bool) else None,
            request_id=request_id if isinstance(request_id, str) else None,
        )

    def error_in(
        self, payload: Any, response: httpx.Response, *, provider: str, operation: str
    ) -> APIStatusError | None:
        """The error a whole answer reports through the declared envelope, if it does."""
        reported = self.reported_error(payload)
        if reported is None:
            return None
        error = APIStatusError.from_response(
            response,
            provider=provider,
            operation=operation,
            message=reported.message,
            code=reported.code,
        )
        error.request_id = error.request_id or reported.request_id
        return error


@attrs.frozen(kw_only=True)
class ReportedError:
    """An error as a declared envelope reports it."""

    message: str
    code: str | int | None = None
    request_id: str | None = None


def _tool_calls(payload: Any, block: Mapping[str, str] | None) -> list[ToolCall]:
    if not block:
        return []
    calls = []
    for item in collect(payload, str(block["items"])):
        name = dig(item, str(block["name"]))
        if not isinstance(name, str) or not name:
            continue
        call_id = dig(item, str(block["id"])) if "id" in block else None
        arguments = dig(item, str(block["arguments"])) if "arguments" in block else None
        if isinstance(arguments, str):
            with contextlib.suppress(ValueError):  # else kept as the text the model sent
                arguments = json.loads(arguments) if arguments.strip() else {}
        calls.append(
            ToolCall(
                name=name,
                arguments={} if arguments is None else arguments,
                id=call_id if isinstance(call_id, str) else None,
            )
        )
    return calls


def _inline(payload: Any, entry: Mapping[str, Any]) -> list[Asset]:
    """Files returned inline as base64 (or `data:` URLs), with their media types."""
    encoded = [item for item in collect(payload, str(entry["data"])) if isinstance(item, str)]
    kinds = collect(payload, str(entry["mime_type"])) if "mime_type" in entry else []
    default = entry.get("default_mime_type")
    assets = []
    for number, text in enumerate(encoded):
        if not text or text.startswith(("http://", "https://")):
            # An empty placeholder (a documented answer's `data: ""`) is no file; a URL
            # is the other entry's to read (one field may hold either, by request).
            continue
        kind = kinds[number] if number < len(kinds) and isinstance(kinds[number], str) else None
        try:
            assets.append(Asset.from_base64(text, mime_type=kind or default))
        except ValueError:
            continue  # not base64 after all: no file to give
    return assets


#: A markdown image (`![alt](url)`), or a markdown link to an image file.
_MARKDOWN_IMAGE = re.compile(
    r"!\[[^\]]*\]\((https?://[^)\s]+)\)"
    r"|\[[^\]]*\]\((https?://[^)\s]+\.(?:png|jpe?g|webp|gif)(?:\?[^)\s]*)?)\)",
    re.IGNORECASE,
)


def _images_in_text(payload: Any, path: str) -> list[Asset]:
    """Images a text answer shows in markdown (chat models that draw answer so)."""
    urls: list[str] = []
    for text in collect(payload, path):
        if isinstance(text, str):
            for found in _MARKDOWN_IMAGE.finditer(text):
                url = found.group(1) or found.group(2)
                if url not in urls:
                    urls.append(url)
    return [Asset(url=url) for url in urls]


def _paired(payload: Any, url_path: str, mime_path: Any) -> list[Asset]:
    """Assets whose URL and media type sit side by side in each item of one list.

    `{url: images[].url, mime_type: images[].content_type}` reads both from the same
    item, so an item without a media type does not shift the others' types.
    """
    holder, _, url_key = url_path.rpartition("[].")
    mime_holder, _, mime_key = str(mime_path or "").rpartition("[].")
    if not holder or mime_holder != holder:
        kinds = collect(payload, str(mime_path)) if mime_path else []
        urls = [url for url in collect(payload, url_path) if isinstance(url, str) and url]
        return [
            Asset(url=url, mime_type=kinds[i] if i < len(kinds) else None)
            for i, url in enumerate(urls)
        ]
    assets = []
    for item in collect(payload, holder + "[]"):
        url, kind = dig(item, url_key), dig(item, mime_key)
        if isinstance(url, str) and url:
            assets.append(Asset(url=url, mime_type=kind if isinstance(kind, str) else None))
    return assets


@attrs.frozen(kw_only=True)
class StreamDeclaration:
    """`x-py302-stream`: the body flag, the end marker, the accumulator, the text path."""

    flag: str | None = None
    done: str | None = None
    accumulator: str | None = None
    text_delta: str | None = None
    #: Whether a stream that ends without `done` is incomplete (the default), or
    #: `done` is only a marker some streams send (a plain document's `[DONE]`).
    done_required: bool = True
    #: `{from: path selecting the final event, fields: {answer path: event path}}`:
    #: the whole answer assembled from a stream's last matching event.
    whole: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, extensions: Mapping[str, Any]) -> StreamDeclaration:
        """The declaration in an operation's extensions (empty if there is none)."""
        block = extensions.get("x-py302-stream")
        if not isinstance(block, Mapping):
            return cls()
        return cls(
            **{key: block.get(key) for key in ("flag", "done", "accumulator", "text_delta")},
            done_required=block.get("done_required", True) is not False,
            whole=block.get("whole") if isinstance(block.get("whole"), Mapping) else None,
        )
