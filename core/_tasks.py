"""Submit-then-poll tasks: the closed status set, snapshots, and the pattern contract.

A `TaskPattern` reads one family of providers' answers into `TaskSnapshot`s; the
declared pattern (`py302._declared`) does it from the spec, a plugin's subclass where
the spec cannot say enough. The flows that use them are in `py302._task_flows`, the
handles in `py302._task_handles`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from ._constants import DEFAULT_POLL_INTERVAL, MAX_POLL_INTERVAL
from ._registry import OperationSpec, TaskSpec
from .payloads import dig

if TYPE_CHECKING:
    from ._results import Normalized

__all__ = [
    "PollParams",
    "TaskPattern",
    "TaskSnapshot",
    "TaskStatus",
    "id_in_body",
    "id_parameter",
]


class TaskStatus(str, enum.Enum):
    """The closed set of states every provider's task status is mapped into."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value

    @property
    def finished(self) -> bool:
        """Whether the task can change no more."""
        return self in {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED}


@attrs.frozen(kw_only=True)
class TaskSnapshot:
    """A task's state at one moment, as a plugin mapped it from the provider's answer.

    `provider_status` keeps the provider's own word; `message` its explanation (the
    failure reason, or a note that the status was not recognised); `progress` runs
    from 0.0 to 1.0 when the provider reports it.
    """

    status: TaskStatus
    progress: float | None = None
    message: str | None = None
    provider_status: str | None = None
    poll_after: float | None = None
    """Seconds the server asked us to wait before the next poll (`Retry-After`)."""


@attrs.frozen(kw_only=True)
class PollParams:
    """The path, query and body values of a poll (or cancel) request."""

    path: Mapping[str, Any] = attrs.field(factory=dict)
    query: Mapping[str, Any] = attrs.field(factory=dict)
    body: Mapping[str, Any] | None = None


class TaskPattern:
    """How one family of submit-then-poll endpoints reports on its tasks.

    A provider registers it in `Provider.task_patterns` under its name. Subclasses must
    implement `snapshot`; the other methods have defaults driven by the operation's
    `x-py302-task` block, so correcting where the id sits is a spec edit, not code:

    * `id_path` (default `id`): dotted path of the task id in the submit answer;
    * `id_param`: the poll operation's parameter that receives the id (default: its
      only required path or query parameter).
    """

    #: The name operations use in `x-py302-task.pattern`.
    name: str = ""

    def task_id(self, submitted: Any, task: TaskSpec) -> str:
        """The task id in the submit answer `submitted`."""
        value = dig(submitted, task.id_path)
        if value is None or value == "":
            raise LookupError(f"no task id at {task.id_path!r} in the submit answer")
        if isinstance(value, bool) or not isinstance(value, str | int) or value in {".", ".."}:
            raise LookupError(f"the task id at {task.id_path!r} is not a usable id: {value!r}")
        return str(value)

    def poll_params(self, task_id: str, poll: OperationSpec, task: TaskSpec) -> PollParams:
        """The values of the poll request for `task_id`: in the path or query parameter
        that takes it, or in the body field `id_param` names (a poll that is a POST of
        `{task_id}`)."""
        if id_in_body(poll, task.id_param):
            return PollParams(body={str(task.id_param): task_id})
        param = id_parameter(poll, task.id_param)
        if param.location == "path":
            return PollParams(path={param.name: task_id})
        return PollParams(query={param.name: task_id})

    def cancel_params(self, task_id: str, cancel: OperationSpec, task: TaskSpec) -> PollParams:
        """The values of the cancel request for `task_id`."""
        return self.poll_params(task_id, cancel, task)

    def snapshot(self, payload: Any, response: httpx.Response | None) -> TaskSnapshot:
        """Map a submit or poll answer to a `TaskSnapshot` (never raise on unknown states).

        `payload` is the decoded body (JSON value, or bytes for a binary answer);
        `response` the HTTP response it came in (None for a task resumed by id before
        its first poll), for providers that report state in the status code or headers.
        """
        raise NotImplementedError

    def normalize(self, payload: Any, response: httpx.Response | None) -> Normalized | None:
        """Assets, text and usage of the answer that reported success, if the pattern
        knows where they are; None leaves it to the provider (or the spec's x-py302-result)."""
        return None

    def poll_delay(self, attempt: int, snapshot: TaskSnapshot) -> float:
        """Seconds to wait before poll number `attempt + 1` (0 = the first poll)."""
        return min(MAX_POLL_INTERVAL, DEFAULT_POLL_INTERVAL * 1.5 ** max(0, attempt - 2))


def id_in_body(poll: OperationSpec, name: str | None) -> bool:
    """Whether the poll takes the task id as the body field `name` (no path or query
    parameter has that name, and the poll sends a body)."""
    if name is None or poll.request_schema is None:
        return False
    return not any(p.name == name for p in poll.parameters if p.location in {"path", "query"})


def id_parameter(spec: OperationSpec, name: str | None) -> Any:
    """The parameter of a poll (or cancel) operation that takes the task id."""
    params = [p for p in spec.parameters if p.location in {"path", "query"}]
    if name is not None:
        for param in params:
            if param.name == name:
                return param
        raise LookupError(f"{spec.qualified_name} has no parameter {name!r}")
    # A parameter with a default (a mode in the path) is filled without the id.
    required = [p for p in params if p.required and "default" not in p.schema]
    if len(required) != 1:
        raise LookupError(
            f"{spec.qualified_name}: say which parameter takes the task id (x-py302-task.id_param)"
        )
    return required[0]
