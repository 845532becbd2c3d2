"""Webhooks: reading a callback body, and confirming it by fetching the task.

An operation that takes a callback URL declares it (OpenAPI `callbacks`); the
registry keeps where the URL is given, the body's schema and where the body holds
the task id. `client.webhooks.parse(body, "provider.operation")` reads a received
body into that schema's model. 302's callbacks are not signed, so anyone who learns
the URL can post to it: `client.webhooks.confirm(...)` reads the task id from the
body and asks the API, with the client's key, how that task stands; only that answer
is trusted. A task confirmed finished is remembered, so the retries 302 sends (and
any replay) are reported as duplicates without another request.
"""

from __future__ import annotations

import importlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from ._convert import structure
from ._errors import ConfigurationError, Py302Error
from ._tasks import TaskStatus
from .payloads import dig

if TYPE_CHECKING:
    from ._context import Context
    from ._registry import OperationSpec
    from ._results import Result
    from ._task_handles import AsyncTask, Task

__all__ = ["AsyncWebhooks", "ConfirmedWebhook", "InvalidWebhookError", "Webhook", "Webhooks"]

M = TypeVar("M")
#: How many finished task ids a client remembers to spot repeated callbacks.
REMEMBERED_TASKS = 10_000


class InvalidWebhookError(Py302Error, ValueError):
    """A callback body that is not JSON, does not fit its schema, or names no task."""


@attrs.frozen
class Webhook(Generic[M]):
    """A callback as received: its task id and its body, read into the operation's
    callback model (`data`) and as sent (`raw`). Nothing in it is confirmed."""

    operation: str
    task_id: str
    data: M
    raw: Any = attrs.field(repr=False)


@attrs.frozen
class ConfirmedWebhook(Generic[M]):
    """A callback checked against the API: the task's `status` as the API reports
    it, its `result` when it succeeded, and whether this task was already confirmed
    finished by this client (`duplicate`: nothing was fetched)."""

    webhook: Webhook[M]
    status: TaskStatus
    result: Result[Any] | None
    duplicate: bool = False


class _WebhooksBase:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._finished: OrderedDict[tuple[str, str], tuple[TaskStatus, Result[Any] | None]] = (
            OrderedDict()
        )

    def parse(self, body: bytes | str | Mapping[str, Any], operation: str) -> Webhook[Any]:
        """Read a callback body received for a task of `operation` (`provider.operation`).

        Raises `InvalidWebhookError` when the body is not JSON, does not fit the
        operation's callback schema, or holds no task id; `ConfigurationError` when
        the operation declares no callback.
        """
        spec = self._spec(operation)
        assert spec.webhook is not None
        payload = _json(body, operation)
        model = _model(self._ctx.provider(spec.provider).bindings, spec.webhook.schema)
        try:
            data = structure(payload, model, operation=operation)
        except Py302Error as exc:
            raise InvalidWebhookError(
                f"{operation}: the callback body does not fit its schema: {exc}"
            ) from None
        task_id = dig(payload, spec.webhook.task_id) if spec.webhook.task_id else None
        if not isinstance(task_id, str | int) or isinstance(task_id, bool) or task_id == "":
            raise InvalidWebhookError(
                f"{operation}: the callback body has no task id at "
                f"{spec.webhook.task_id or '(undeclared)'!r}"
            )
        return Webhook(operation=operation, task_id=str(task_id), data=data, raw=payload)

    def _spec(self, operation: str) -> OperationSpec:
        provider, _, op_id = operation.partition(".")
        try:
            spec = self._ctx.registry_of(provider).get(op_id)
        except KeyError as exc:
            raise ConfigurationError(str(exc.args[0])) from None
        if spec.webhook is None:
            raise ConfigurationError(f"{operation} declares no webhook (OpenAPI callbacks)")
        if spec.task is None:
            raise ConfigurationError(f"{operation} is no task: there is nothing to fetch")
        return spec

    def _remembered(self, webhook: Webhook[Any]) -> ConfirmedWebhook[Any] | None:
        known = self._finished.get((webhook.operation, webhook.task_id))
        if known is None:
            return None
        return ConfirmedWebhook(webhook, status=known[0], result=known[1], duplicate=True)

    def _remember(self, confirmed: ConfirmedWebhook[Any]) -> ConfirmedWebhook[Any]:
        if confirmed.status.finished:
            key = (confirmed.webhook.operation, confirmed.webhook.task_id)
            self._finished[key] = (confirmed.status, confirmed.result)
            while len(self._finished) > REMEMBERED_TASKS:
                self._finished.popitem(last=False)
        return confirmed


class Webhooks(_WebhooksBase):
    """Callbacks for the synchronous `Client` (`client.webhooks`)."""

    def __init__(self, ctx: Context, resume: Any) -> None:
        super().__init__(ctx)
        self._resume = resume

    def confirm(
        self, body: bytes | str | Mapping[str, Any], operation: str
    ) -> ConfirmedWebhook[Any]:
        """Parse a callback, then fetch its task with the client's key: the status and
        result are the API's, not the body's. A task this client already confirmed
        finished is not fetched again (`duplicate=True`)."""
        webhook = self.parse(body, operation)
        known = self._remembered(webhook)
        if known is not None:
            return known
        task: Task[Any] = self._resume(operation, webhook.task_id)
        result = task.wait() if task.status is TaskStatus.SUCCEEDED else None
        return self._remember(ConfirmedWebhook(webhook, status=task.status, result=result))


class AsyncWebhooks(_WebhooksBase):
    """Callbacks for the `AsyncClient` (`client.webhooks`)."""

    def __init__(self, ctx: Context, resume: Any) -> None:
        super().__init__(ctx)
        self._resume = resume

    async def confirm(
        self, body: bytes | str | Mapping[str, Any], operation: str
    ) -> ConfirmedWebhook[Any]:
        """As `Webhooks.confirm`, awaited."""
        webhook = self.parse(body, operation)
        known = self._remembered(webhook)
        if known is not None:
            return known
        task: AsyncTask[Any] = await self._resume(operation, webhook.task_id)
        result = await task.wait() if task.status is TaskStatus.SUCCEEDED else None
        return self._remember(ConfirmedWebhook(webhook, status=task.status, result=result))


def _json(body: bytes | str | Mapping[str, Any], operation: str) -> Any:
    if isinstance(body, Mapping):
        return dict(body)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidWebhookError(f"{operation}: the callback body is not JSON ({exc})") from None


def _model(bindings: str, schema: Mapping[str, Any]) -> Any:
    """The generated class of the callback body (Any when the bindings lack it)."""
    name = str(schema.get("$ref", "")).rsplit("/", 1)[-1]
    if not name:
        return Any
    module = importlib.import_module(bindings)
    return getattr(module, name, None) or getattr(module, f"{name}Response", Any)
