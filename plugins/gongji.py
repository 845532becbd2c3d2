"""Gongji Computing (共绩算力) on 302.AI: create/query tasks described by the spec.

No public page documents these endpoints, so nothing about their answers is written
in code: each create operation's `x-py302-task` block says where to look, and a
correction is a spec edit plus regeneration. Keys read here:

    status_path    dotted path of the status in a query answer
    succeeded      status values that mean done        (list)
    failed         status values that mean failed      (list)
    message_path   dotted path of a failure message    (optional)
    progress_path  dotted path of progress, 0-1 or 0-100 (optional)
    result_urls    path of the result URL(s); `[]` fans out over a list
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import httpx

from py302 import (
    Asset,
    Normalized,
    OperationSpec,
    Provider,
    TaskPattern,
    TaskSnapshot,
    TaskStatus,
    hookimpl,
)
from py302.payloads import collect, dig, fraction

PROVIDER = "gongji"
PATTERN = "gongji.task"


@attrs.frozen(kw_only=True)
class DeclaredTaskPattern(TaskPattern):
    """A pattern whose every path and status value comes from the spec."""

    status_path: str
    succeeded: frozenset[str]
    failed: frozenset[str]
    result_urls: str
    message_path: str | None = None
    progress_path: str | None = None
    name: str = PATTERN

    @classmethod
    def from_options(cls, options: Mapping[str, Any], operation: str) -> DeclaredTaskPattern:
        """Build from an `x-py302-task` block; a missing key is named in the error."""
        missing = [
            key
            for key in ("status_path", "succeeded", "failed", "result_urls")
            if key not in options
        ]
        if missing:
            raise ValueError(f"{operation}: x-py302-task lacks {', '.join(missing)} for {PATTERN}")
        return cls(
            status_path=str(options["status_path"]),
            succeeded=frozenset(str(value) for value in options["succeeded"]),
            failed=frozenset(str(value) for value in options["failed"]),
            result_urls=str(options["result_urls"]),
            message_path=options.get("message_path"),
            progress_path=options.get("progress_path"),
        )

    def snapshot(self, payload: Any, response: httpx.Response | None) -> TaskSnapshot:
        """Map an answer through the declared paths and values."""
        raw = dig(payload, self.status_path)
        progress = fraction(dig(payload, self.progress_path)) if self.progress_path else None
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            # No status (yet): the create answer, which only carries the task id.
            return TaskSnapshot(status=TaskStatus.QUEUED, progress=progress)
        status = str(raw)
        if status in self.succeeded:
            return TaskSnapshot(status=TaskStatus.SUCCEEDED, progress=1.0, provider_status=status)
        if status in self.failed:
            message = dig(payload, self.message_path) if self.message_path else None
            return TaskSnapshot(
                status=TaskStatus.FAILED, provider_status=status, message=str(message or status)
            )
        return TaskSnapshot(status=TaskStatus.RUNNING, progress=progress, provider_status=status)

    def normalize(self, payload: Any, response: httpx.Response | None) -> Normalized | None:
        """The result URLs at the declared path."""
        urls = [url for url in collect(payload, self.result_urls) if isinstance(url, str) and url]
        return Normalized(assets=[Asset(url=url) for url in urls])

    def poll_delay(self, attempt: int, snapshot: TaskSnapshot) -> float:
        """Unknown cadence: start at 2 s, back off to 10 s."""
        return min(10.0, 2.0 * 1.3**attempt)


@hookimpl
def py302_register_providers(register: Callable[[Provider], None]) -> None:
    """Gongji's operations are generated from specs/gongji.yaml."""
    register(Provider(name=PROVIDER, bindings="py302.generated.gongji", title="Gongji Computing"))


@hookimpl
def py302_task_pattern(name: str, operation: OperationSpec) -> TaskPattern | None:
    """The declared pattern, configured by the submitting operation's spec."""
    if name != PATTERN or operation.task is None:
        return None
    return DeclaredTaskPattern.from_options(operation.task.options, operation.qualified_name)
