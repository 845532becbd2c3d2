"""Flux on 302.AI: what specs/flux.yaml cannot declare.

Where results, files and cost sit is declared in the spec (`x-py302-result`). What
needs code is judgement: BFL's failure states with their moderation details and its
back-off, 302's long-job fetch that counts a body with images as success, and the
generic envelope that reports a failure under HTTP 200.

* `/flux/v1/*` (BFL's API passed through) answers a submit with `{id, polling_url}`;
  `get_result?id=` then reports `Pending` until `Ready` (image at `result.sample`) or a
  terminal failure (`Request Moderated`, `Content Moderated`, `Task not found`,
  `Error`). The `polling_url` points at BFL's own host and is ignored: 302 is polled.
* `/302/submit/flux-*` answers at once, in one of two envelopes the docs show: fal's
  `{images: [{url, content_type}], ...}` or the generic `{status, output, error}` whose
  `output` is a JSON-encoded list of URLs. Both become the same `Result`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from py302 import (
    APIStatusError,
    OperationSpec,
    Provider,
    TaskPattern,
    TaskSnapshot,
    TaskStatus,
    hookimpl,
)
from py302.payloads import fraction

PY302_PLUGIN_API = 2
PROVIDER = "flux"

_BFL_FAILURES = {
    "Request Moderated": "the request was refused by moderation",
    "Content Moderated": "the generated image was withheld by moderation",
    "Task not found": "the task id is unknown or expired",
    "Error": "generation failed",
    "Failed": "generation failed",
}
_ENVELOPE_FAILURES = frozenset({"failed", "error", "canceled", "cancelled"})
_ENVELOPE_RUNNING = {
    "starting": TaskStatus.QUEUED,
    "queued": TaskStatus.QUEUED,
    "processing": TaskStatus.RUNNING,
}


class BflPattern(TaskPattern):
    """Black Forest Labs' polling: `status` Pending -> Ready or a terminal failure."""

    name = "flux.bfl"

    def snapshot(self, payload: Any, response: httpx.Response | None) -> TaskSnapshot:
        """Map a submit ticket or a `get_result` answer."""
        if not isinstance(payload, Mapping):
            return TaskSnapshot(status=TaskStatus.RUNNING, message="unreadable status answer")
        status = payload.get("status")
        progress = fraction(payload.get("progress"))
        if status is None:  # the submit ticket carries no status yet
            return TaskSnapshot(status=TaskStatus.QUEUED, progress=progress)
        text = str(status)
        if text == "Ready":
            return TaskSnapshot(status=TaskStatus.SUCCEEDED, progress=1.0, provider_status=text)
        if text in _BFL_FAILURES:
            detail = _detail(payload.get("details")) or _BFL_FAILURES[text]
            return TaskSnapshot(
                status=TaskStatus.FAILED, message=f"{text}: {detail}", provider_status=text
            )
        if text == "Pending":
            state = TaskStatus.RUNNING if progress else TaskStatus.QUEUED
            return TaskSnapshot(status=state, progress=progress, provider_status=text)
        return TaskSnapshot(
            status=TaskStatus.RUNNING,
            progress=progress,
            provider_status=text,
            message=f"unrecognised status {text!r}; polling on until the deadline",
        )

    def poll_delay(self, attempt: int, snapshot: TaskSnapshot) -> float:
        """BFL asks for polls every 0.5 s; back off gently to 3 s for long tasks."""
        return min(3.0, 0.5 * 1.25**attempt)


class SubmitFetchPattern(TaskPattern):
    """302's own long-job fetch: the generic envelope's `status` until `succeeded`."""

    name = "flux.submit_fetch"

    def snapshot(self, payload: Any, response: httpx.Response | None) -> TaskSnapshot:
        """Map the generic envelope (`status`, `error`)."""
        if not isinstance(payload, Mapping):
            return TaskSnapshot(status=TaskStatus.RUNNING, message="unreadable status answer")
        status = str(payload.get("status") or "").lower()
        if status == "succeeded" or (not status and payload.get("images")):
            return TaskSnapshot(status=TaskStatus.SUCCEEDED, provider_status=status or None)
        if status in _ENVELOPE_FAILURES:
            state = TaskStatus.CANCELLED if status.startswith("cancel") else TaskStatus.FAILED
            return TaskSnapshot(
                status=state, message=str(payload.get("error") or status), provider_status=status
            )
        if status in _ENVELOPE_RUNNING or not status:
            return TaskSnapshot(
                status=_ENVELOPE_RUNNING.get(status, TaskStatus.QUEUED),
                provider_status=status or None,
            )
        return TaskSnapshot(
            status=TaskStatus.RUNNING,
            provider_status=status,
            message=f"unrecognised status {status!r}; polling on until the deadline",
        )

    def poll_delay(self, attempt: int, snapshot: TaskSnapshot) -> float:
        """302's own apps poll these every 5 s."""
        return 5.0


def response_error(
    operation: OperationSpec, response: httpx.Response, payload: Any
) -> Exception | None:
    """A 2xx generic envelope that reports a failure is an error, not an empty result."""
    if response.status_code >= 300:
        return None
    if not isinstance(payload, Mapping) or "images" in payload:
        return None
    if operation.task is not None or operation.is_poll:  # task answers: the pattern judges
        return None
    status = str(payload.get("status") or "").lower()
    error = payload.get("error")
    if status in _ENVELOPE_FAILURES or (
        isinstance(error, str) and error.strip() and status != "succeeded"
    ):
        return APIStatusError.from_response(
            response,
            provider=PROVIDER,
            operation=operation.qualified_name,
            message=str(error or f"generation {status}"),
        )
    return None


def _detail(details: Any) -> str | None:
    if isinstance(details, str):
        return details
    if isinstance(details, Mapping):
        return "; ".join(f"{key}: {value}" for key, value in sorted(details.items())) or None
    return None


@hookimpl
def py302_register_providers(register: Callable[[Provider], None]) -> None:
    """Flux's operations are generated from specs/flux.yaml; its patterns and envelope."""
    register(
        Provider(
            name=PROVIDER,
            bindings="py302.generated.flux",
            title="Flux (Black Forest Labs)",
            task_patterns={
                BflPattern.name: BflPattern,
                SubmitFetchPattern.name: SubmitFetchPattern,
            },
            response_error=response_error,
        )
    )
