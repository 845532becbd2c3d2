"""The flows of a task: submit, poll, wait, cancel, resume (I/O-free; see `_steps`).

Observers (the journal) are told of every submit and state change; the flows never
write anything themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import attrs
import httpx

from ._calls import Prepared, build_result, interpret, normalize, prepare_poll, request_flow
from ._constants import DEFAULT_TASK_TIMEOUT
from ._context import Context
from ._errors import (
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    MalformedResponseError,
    ResponseShapeError,
    TaskTimeoutError,
    UnsupportedOperationError,
)
from ._observers import announce, report_refusal, tell
from ._registry import OperationSpec
from ._results import Result
from ._steps import Flow, Sleep
from ._task_state import TaskState
from ._tasks import TaskPattern, TaskSnapshot, TaskStatus

__all__ = [
    "cancel_flow",
    "pattern_for",
    "poll_flow",
    "resumed_state",
    "submit_flow",
    "wait_flow",
]

logger = logging.getLogger("py302")


def pattern_for(ctx: Context, spec: OperationSpec) -> TaskPattern:
    """The task pattern of a submit operation: its provider's, or the declared one.

    Refuses (before any request) an operation whose pattern nobody supplies.
    """
    from ._declared import DECLARED, DeclaredTaskPattern

    if spec.task is None:
        raise ConfigurationError(f"{spec.qualified_name} is not a task operation")
    name = spec.task.pattern
    try:
        if name == DECLARED:
            return DeclaredTaskPattern.from_options(spec.task.options, spec.qualified_name)
        factory = ctx.provider(spec.provider).task_patterns.get(name)
        if factory is not None:
            pattern: TaskPattern = factory() if isinstance(factory, type) else factory(spec)
            return pattern
    except (LookupError, TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"{spec.qualified_name}: task pattern {name!r} is misconfigured: {exc}"
        ) from exc
    raise ConfigurationError(
        f"{spec.qualified_name}: no plugin supplies task pattern {name!r} "
        f"(is the {spec.provider} plugin disabled or failing? see `py302 plugins`)"
    )


def submit_flow(ctx: Context, prepared: Prepared, result_model: Any) -> Flow[TaskState]:
    """Send a submit (observers told before it leaves) and read the task it started."""
    spec = prepared.spec
    assert spec.task is not None
    pattern = pattern_for(ctx, spec)  # refuse an unknown pattern before anything is sent
    tokens = announce(ctx.observers, spec.qualified_name)
    try:
        response = yield from request_flow(ctx, prepared)
        payload = interpret(ctx, spec, response)
        try:
            task_id = pattern.task_id(payload, spec.task)
        except (LookupError, TypeError, ValueError) as exc:
            if not _finished_at_once(pattern, payload, response):
                raise ResponseShapeError(spec.qualified_name, [str(exc)], payload) from exc
            task_id = ""  # answered finished, with no id: there is nothing to poll
        state = TaskState(
            id=task_id,
            spec=spec,
            registry=prepared.registry,
            pattern=pattern,
            result_model=result_model,
            options=prepared.options,
            path=prepared.path,
        )
        # Some providers report the cost on the submit answer only; kept for the result.
        state.submit_usage = normalize(ctx, spec, payload, response).usage
        state.read(payload, response)
    except BaseException as exc:
        report_refusal(ctx.observers, tokens, spec.qualified_name, exc)
        raise
    for observer, token in zip(ctx.observers, tokens, strict=True):
        tell(f"task {task_id}", spec.qualified_name, partial(observer.following, token, state))
    _changed(ctx, state)
    return state


def _finished_at_once(pattern: TaskPattern, payload: Any, response: httpx.Response) -> bool:
    """Whether a submit answer without a task id already reports success (a route that
    answers at once when the job is quick, and with a task id when it is not)."""
    try:
        return pattern.snapshot(payload, response).status is TaskStatus.SUCCEEDED
    except (KeyError, TypeError, ValueError):
        return False


def resumed_state(
    ctx: Context, operation: str, task_id: str, path: Mapping[str, Any] | None = None
) -> TaskState:
    """The state of a task submitted earlier by `operation` (`provider.operation`);
    `path`: the submit URL's path values, which its poll URL reuses (a mode)."""
    provider, _, op_id = operation.partition(".")
    if not op_id:
        raise ConfigurationError(f"name the operation as provider.operation, got {operation!r}")
    registry = ctx.registry_of(provider)
    try:
        spec = registry.get(op_id)
    except KeyError as exc:
        raise ConfigurationError(str(exc.args[0])) from None
    state = TaskState(
        id=task_id,
        spec=spec,
        registry=registry,
        pattern=pattern_for(ctx, spec),
        result_model=Any,
        path=dict(path or {}),
    )
    for observer in ctx.observers:
        tell("the resumption", f"task {task_id}", partial(observer.following, None, state))
    return state


def poll_flow(ctx: Context, state: TaskState, *, budget: float | None = None) -> Flow[TaskSnapshot]:
    """Ask once for the task's state (within `budget` seconds, retries included)."""
    assert state.spec.task is not None
    params = state.pattern.poll_params(state.id, state.poll_spec, state.spec.task)
    prepared = prepare_poll(
        ctx, state.registry, state.spec.task.poll, params, state.options, submit_path=state.path
    )
    response = yield from request_flow(ctx, prepared, budget=budget)
    snapshot = state.read(interpret(ctx, prepared.spec, response), response)
    _changed(ctx, state)
    return snapshot


def wait_flow(
    ctx: Context,
    state: TaskState,
    *,
    timeout: float | None,
    on_poll: Callable[[], None] | None = None,
) -> Flow[Result[Any]]:
    """Poll until the task ends; its `Result`, or the `TaskError` it ended with.

    Time counts as the larger of the clock's elapsed time and the total sleep asked
    for, so an injected zero-delay sleep still reaches the deadline, never spins. Each
    poll gets what is left of the wait (at least `MIN_REQUEST_BUDGET`), so a server
    that answers slowly cannot stretch the wait past its timeout.
    """
    deadline = DEFAULT_TASK_TIMEOUT if timeout is None else timeout
    started = ctx.clock()
    slept = 0.0
    attempt = 0
    while not state.snapshot.status.finished:
        remaining = deadline - max(ctx.clock() - started, slept)
        if remaining <= 0:
            _notify(ctx, state, "timed_out")
            raise TaskTimeoutError(
                f"not finished after {deadline:g} s (last status: "
                f"{state.snapshot.provider_status or state.snapshot.status.value}); it may "
                "still finish, wait again or resume it by id",
                task_id=state.id,
                operation=state.spec.qualified_name,
            )
        asked = state.snapshot.poll_after
        delay = asked if asked is not None else state.pattern.poll_delay(attempt, state.snapshot)
        delay = min(max(0.0, delay), remaining)
        yield Sleep(delay)
        slept += delay
        budget = deadline - max(ctx.clock() - started, slept)
        try:
            yield from poll_flow(ctx, state, budget=budget)
        except APIStatusError as refused:
            state.refused(refused)
            _changed(ctx, state)
        except APITimeoutError:
            if deadline - max(ctx.clock() - started, slept) > 0:
                raise
            continue  # the wait's own deadline cut the poll short: a task timeout
        except MalformedResponseError as garbled:  # no news: the task is as it was
            logger.warning(
                "%s task %s: %s; polling again", state.spec.qualified_name, state.id, garbled
            )
        if on_poll is not None:
            on_poll()
        attempt += 1
    return finish(ctx, state)


def finish(ctx: Context, state: TaskState) -> Result[Any]:
    """The `Result` of a task that succeeded; raises the error of one that did not."""
    if state.snapshot.status is not TaskStatus.SUCCEEDED:
        raise state.failure()
    if state.result is None:
        result = build_result(
            ctx,
            _result_reader(state),
            state.raw,
            state.result_model,
            response=state.response,
            task_id=state.id,
            pattern=state.pattern,
        )
        # The result belongs to the operation the caller submitted, not to the poll.
        state.result = attrs.evolve(
            result, operation=state.spec.qualified_name, usage=result.usage or state.submit_usage
        )
        _notify(ctx, state, TaskStatus.SUCCEEDED.value)
    return state.result


def _result_reader(state: TaskState) -> OperationSpec:
    """The operation whose `x-py302-result` reads the finished answer: the poll, unless
    the submit's task block gives a `result` of its own (one model of a family whose
    shared poll reads files answers with text)."""
    assert state.spec.task is not None
    own = state.spec.task.options.get("result")
    if not isinstance(own, Mapping):
        return state.poll_spec
    return attrs.evolve(
        state.poll_spec, extensions={**state.poll_spec.extensions, "x-py302-result": own}
    )


def cancel_flow(ctx: Context, state: TaskState) -> Flow[TaskSnapshot]:
    """Ask the provider to cancel the task, then read its state."""
    task = state.spec.task
    if task is None or task.cancel is None:
        raise UnsupportedOperationError(
            f"{state.spec.qualified_name}: the provider offers no cancel"
        )
    params = state.pattern.cancel_params(state.id, state.registry.get(task.cancel), task)
    prepared = prepare_poll(
        ctx, state.registry, task.cancel, params, state.options, submit_path=state.path
    )
    response = yield from request_flow(ctx, prepared)
    interpret(ctx, prepared.spec, response)
    return (yield from poll_flow(ctx, state))


def _changed(ctx: Context, state: TaskState) -> None:
    if state.snapshot.status is not TaskStatus.SUCCEEDED:
        _notify(ctx, state, state.snapshot.status.value)


def _notify(ctx: Context, state: TaskState, what: str) -> None:
    for observer in ctx.observers:
        tell(f"state {what}", f"task {state.id}", partial(observer.changed, state, what))
