"""Kling on 302.AI: the `{code, message, data}` envelope and Kling's task states.

Every Kling answer wraps its content as `{code, message, request_id, data}`; a
non-zero `code` is an error even under HTTP 200. Submits answer with a 302-minted
`data.task_id` (`kling_...`), polled on the matching fetch operation until
`data.task_status` is `succeed` (images at `data.task_result.images[].url`) or `failed`
(reason in `data.task_status_msg`). The synchronous Kolors route answers fal-style
(`images[].url`).
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
from py302.payloads import collect, dig, urls_in_text

PROVIDER = "kling"

_STATES = {
    "submitted": TaskStatus.QUEUED,
    "processing": TaskStatus.RUNNING,
    "succeed": TaskStatus.SUCCEEDED,
    "failed": TaskStatus.FAILED,
}


class KlingImagesPattern(TaskPattern):
    """Kling's image tasks: `data.task_status` submitted -> processing -> succeed/failed."""

    name = "kling.images"

    def snapshot(self, payload: Any, response: httpx.Response | None) -> TaskSnapshot:
        """Map a submit or fetch envelope."""
        status = dig(payload, "data.task_status")
        if not isinstance(status, str) or not status:
            return TaskSnapshot(status=TaskStatus.QUEUED, message="no task status in the answer")
        state = _STATES.get(status)
        if state is None:
            return TaskSnapshot(
                status=TaskStatus.RUNNING,
                provider_status=status,
                message=f"unrecognised status {status!r}; polling on until the deadline",
            )
        message = dig(payload, "data.task_status_msg") or None
        return TaskSnapshot(status=state, provider_status=status, message=message)

    def poll_delay(self, attempt: int, snapshot: TaskSnapshot) -> float:
        """302's own SDK polls Kling every 2 s."""
        return 2.0


@hookimpl
def py302_register_providers(register: Callable[[Provider], None]) -> None:
    """Kling's operations are generated from specs/kling.yaml."""
    register(Provider(name=PROVIDER, bindings="py302.generated.kling", title="Kling (Kuaishou)"))


@hookimpl
def py302_task_pattern(name: str) -> TaskPattern | None:
    """Kling's image task pattern."""
    return KlingImagesPattern() if name == KlingImagesPattern.name else None


@hookimpl
def py302_response_error(
    operation: OperationSpec, response: httpx.Response, payload: Any
) -> Exception | None:
    """A Kling envelope with a non-zero `code` is an error, whatever the HTTP status."""
    if operation.provider != PROVIDER or not isinstance(payload, Mapping) or "code" not in payload:
        return None
    code = payload.get("code")
    if code in (0, "0"):
        return None
    message = str(payload.get("message") or f"Kling error {code}")
    error = APIStatusError.from_response(
        response,
        provider=PROVIDER,
        operation=operation.qualified_name,
        message=message,
        code=code if isinstance(code, int | str) else None,
    )
    request_id = payload.get("request_id")
    if error.request_id is None and isinstance(request_id, str):
        error.request_id = request_id
    return error


@hookimpl
def py302_normalize_result(
    operation: OperationSpec, payload: Any, response: httpx.Response | None
) -> Normalized | None:
    """Images of a finished Kling task, or of the synchronous Kolors route."""
    if operation.provider != PROVIDER or not isinstance(payload, Mapping):
        return None
    urls = (
        collect(payload, "data.task_result.images[].url")
        or collect(payload, "images[].url")
        or urls_in_text(payload.get("output"))
    )
    kinds = collect(payload, "images[].content_type")
    assets = [
        Asset(url=url, mime_type=kinds[index] if index < len(kinds) else None)
        for index, url in enumerate(urls)
        if isinstance(url, str) and url
    ]
    return Normalized(assets=assets)
