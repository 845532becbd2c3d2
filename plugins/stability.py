"""Stability AI on 302.AI (its v2beta API passed through under `/sd`).

* Output: the caller picks `output="bytes"` (Accept `image/*`, the raw file) or
  `output="json"` (Accept `application/json`, `{image: base64, finish_reason, seed}`);
  both give the same `Result`: one asset holding the bytes and their media type.
* A `finish_reason` of `CONTENT_FILTERED` (JSON field or `finish-reason` header) is a
  failure, not an empty image.
* Slow operations answer `{id}`; the result operation then answers 202 while running
  and 200 with the output when done (`stability.async`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from py302 import (
    APIStatusError,
    Asset,
    Normalized,
    OperationSpec,
    Provider,
    TaskPattern,
    TaskSnapshot,
    TaskStatus,
    hookimpl,
)
from py302.binding import Call
from py302.payloads import collect, sniff_mime

PY302_PLUGIN_API = 2
PROVIDER = "stability"
FILTERED = "CONTENT_FILTERED"
_ACCEPT = {"bytes": "image/*", "json": "application/json"}


def _finish_reason(payload: Any, response: httpx.Response | None) -> str | None:
    if isinstance(payload, Mapping) and isinstance(payload.get("finish_reason"), str):
        return str(payload["finish_reason"])
    if response is not None and "finish-reason" in response.headers:
        return str(response.headers["finish-reason"])
    return None


def _is_output(payload: Any) -> bool:
    return isinstance(payload, bytes | bytearray) or (
        isinstance(payload, Mapping)
        and (isinstance(payload.get("image"), str) or bool(collect(payload, "artifacts[].base64")))
    )


class StabilityAsyncPattern(TaskPattern):
    """Stability's async jobs: 202 while running, 200 with the output when done."""

    name = "stability.async"

    def snapshot(self, payload: Any, response: httpx.Response | None) -> TaskSnapshot:
        """Read the HTTP status first: it is how Stability reports progress."""
        if response is not None and response.status_code == 202:
            status = payload.get("status") if isinstance(payload, Mapping) else None
            return TaskSnapshot(status=TaskStatus.RUNNING, provider_status=status or "in-progress")
        if _is_output(payload):
            if _finish_reason(payload, response) == FILTERED:
                return TaskSnapshot(
                    status=TaskStatus.FAILED,
                    provider_status=FILTERED,
                    message="the output was withheld by Stability's content filter",
                )
            return TaskSnapshot(status=TaskStatus.SUCCEEDED, progress=1.0)
        return TaskSnapshot(status=TaskStatus.QUEUED)  # the submit answer: just an id

    def normalize(self, payload: Any, response: httpx.Response | None) -> Normalized | None:
        """The finished job's output, as for synchronous operations."""
        return _output(payload, response)

    def poll_delay(self, attempt: int, snapshot: TaskSnapshot) -> float:
        """Stability asks for at most one poll every 10 s."""
        return 10.0


@hookimpl
def py302_register_providers(register: Callable[[Provider], None]) -> None:
    """Stability's operations are generated from specs/stability.yaml."""
    register(
        Provider(
            name=PROVIDER,
            bindings="py302.generated.stability",
            title="Stability AI",
            task_patterns={StabilityAsyncPattern.name: StabilityAsyncPattern},
            request_headers=request_headers,
            response_error=response_error,
            normalize=normalize,
        )
    )


def request_headers(operation: OperationSpec, call: Call[Any]) -> Mapping[str, str] | None:
    """`Accept` follows the caller's `output` choice, as the spec maps it.

    An option may carry `x-py302-accept: {bytes: ..., json: ...}` (v1 wants
    `image/png`, v2beta `image/*`). A task's submit answers with an id, so it asks for
    JSON; an operation without the option asks for the binary types it declares (GLB).
    """
    if operation.task is not None:
        return {"Accept": "application/json"}
    option = operation.options.get("output")
    if option is not None:
        mapping = {**_ACCEPT, **option.get("x-py302-accept", {})}
        accept = mapping.get(str(call.options.get("output")))
        return {"Accept": accept} if accept else None
    binary = [
        media
        for status, response in operation.responses.items()
        if status.startswith("2")
        for media in response.get("media_types", {})
        if "json" not in media
    ]
    return {"Accept": ", ".join(binary)} if binary else None


def response_error(
    operation: OperationSpec, response: httpx.Response, payload: Any
) -> Exception | None:
    """A content-filtered synchronous answer is an error (task polls: see the pattern)."""
    if response.status_code >= 300:
        return None
    if operation.is_poll:  # a result operation: its pattern judges the answer
        return None
    if _is_output(payload) and _finish_reason(payload, response) == FILTERED:
        return APIStatusError.from_response(
            response,
            provider=PROVIDER,
            operation=operation.qualified_name,
            message="the output was withheld by Stability's content filter",
            code=FILTERED,
        )
    return None


def normalize(
    operation: OperationSpec, payload: Any, response: httpx.Response | None
) -> Normalized | None:
    """Raw bytes or base64 JSON become the same asset."""
    return _output(payload, response)


def _output(payload: Any, response: httpx.Response | None) -> Normalized | None:
    """One asset per image: raw bytes, v2beta's `image`, or v1's `artifacts[].base64`."""
    if isinstance(payload, bytes | bytearray):
        blobs = [bytes(payload)]
    elif isinstance(payload, Mapping):
        encoded = collect(payload, "image") or collect(payload, "artifacts[].base64")
        blobs = [Asset.from_base64(text).read() for text in encoded if isinstance(text, str)]
    else:
        return None
    if not blobs:
        return None
    declared = response.headers.get("content-type", "").split(";")[0] if response else ""
    fallback = declared if declared and "json" not in declared else None
    return Normalized(
        assets=[Asset(data=data, mime_type=sniff_mime(data) or fallback) for data in blobs]
    )
