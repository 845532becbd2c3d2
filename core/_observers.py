"""Who is told about tasks: observers of submits and state changes.

Task flows (and plain calls) report what happens to the client's observers and carry
on; the journal (`py302.Journal`) is one such observer, so persistence never sits
inside a flow. Only `submitting` may stop a call, and only before anything is sent;
once a request has gone, an observer's failure is logged with the task id and the
call goes on, so a full disk never loses a task that was paid for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from ._errors import APIStatusError, ResponseShapeError

if TYPE_CHECKING:
    from ._journal import Journal
    from ._results import Result
    from ._task_state import TaskState

__all__ = [
    "JournalObserver",
    "TaskObserver",
    "announce",
    "report_refusal",
    "submit_outcome",
    "tell",
]

logger = logging.getLogger("py302")


class TaskObserver(Protocol):
    """Told about every task a client submits, follows or resumes."""

    def submitting(self, operation: str) -> Any:
        """A submit is about to be sent; returns a token passed back with its outcome."""
        ...

    def refused(self, token: Any, state: str, error: BaseException) -> None:
        """The submit produced no usable task (`state` says whether one may exist)."""
        ...

    def following(self, token: Any, task: TaskState) -> None:
        """A task was accepted (or resumed): `task` is its state from now on."""
        ...

    def changed(self, task: TaskState, state: str) -> None:
        """A followed task moved to `state` (a `TaskStatus` value, or `timed_out`)."""
        ...

    def answered(self, token: Any, result: Result[Any]) -> int | None:
        """A synchronous call answered with `result`; the journal row, if one is kept."""
        ...


def announce(observers: Sequence[TaskObserver], operation: str) -> list[Any]:
    """Tell every observer a request is about to leave; their tokens. An observer that
    fails here stops the call: nothing has been sent yet."""
    return [observer.submitting(operation) for observer in observers]


def report_refusal(
    observers: Sequence[TaskObserver], tokens: Sequence[Any], operation: str, error: BaseException
) -> None:
    """Tell each observer (with the token `announce` gave) that the request sent for
    `operation` produced no result, and whether a task may exist anyway."""
    outcome = submit_outcome(error)
    for observer, token in zip(observers, tokens, strict=True):
        tell("the refusal", operation, partial(observer.refused, token, outcome, error))


def tell(what: str, about: str, report: Callable[[], Any]) -> Any:
    """Run one observer's `report` of `what` happened to `about` (a task id or an
    operation) after a request was sent: a failure is logged, never raised."""
    try:
        return report()
    except Exception as exc:  # the request went out; losing its outcome is worse
        logger.warning(
            "could not record %s of %s (%s); the call goes on without it", what, about, exc
        )
        return None


def submit_outcome(error: BaseException) -> str:
    """Whether a failed submit may have created a task anyway.

    `lost`: answered, but without an id we can use; `not_submitted`: provably no task;
    `uncertain`: it may have been accepted (check the provider's console).
    """
    if isinstance(error, ResponseShapeError):
        return "lost"
    if isinstance(error, APIStatusError):
        refused = 400 <= error.status < 500 and error.status != 408
        return "not_submitted" if refused else "uncertain"
    never_sent = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
    return "not_submitted" if isinstance(error.__cause__, never_sent) else "uncertain"


class JournalObserver:
    """Writes every task to a `Journal` before it is sent, and keeps its row current."""

    def __init__(self, journal: Journal, base_url: str) -> None:
        self.journal = journal
        self.base_url = base_url

    def submitting(self, operation: str) -> int:
        """Write the submit down before it leaves."""
        return self.journal.begin(operation, self.base_url)

    def refused(self, token: Any, state: str, error: BaseException) -> None:
        """Record why no task came of it."""
        self.journal.refused(token, state, str(error))

    def following(self, token: Any, task: TaskState) -> None:
        """Record the task id (or, for a resumed task, find its row)."""
        if token is None:
            row = self.journal.find(task.id)
            if row is None or row.operation != task.spec.qualified_name:
                return
            token = row.entry
        task.journal_entry = token
        self.journal.submitted(
            token, task.id, task.snapshot.status.value, task.snapshot.provider_status, task.path
        )

    def changed(self, task: TaskState, state: str) -> None:
        """Record the new state (and the result's URLs once there is one)."""
        if task.journal_entry is None:
            return
        urls = None
        if task.result is not None:
            urls = [asset.url for asset in task.result.assets if asset.url]
        self.journal.update(
            task.journal_entry,
            state=state,
            provider_status=task.snapshot.provider_status,
            progress=task.snapshot.progress,
            message=task.snapshot.message,
            result_urls=urls,
        )

    def answered(self, token: Any, result: Result[Any]) -> int | None:
        """Record a synchronous call's result URLs; its row."""
        self.journal.answered(token, [asset.url for asset in result.assets if asset.url])
        return int(token)
