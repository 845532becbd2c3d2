"""OpenAPI callbacks: the body a webhook of an operation receives.

An operation that accepts a callback URL declares it the OpenAPI way:

    callbacks:
      finished:
        '{$request.query.webhook}':          # or '{$request.body#/notifyHook}'
          post:
            requestBody: {content: {application/json: {schema: {$ref: ...}}}}

The registry keeps, per operation, where the URL is given (the runtime expression),
the body's schema, and where the body holds the task id (`x-py302-task-id` on the
callback's post, else the task's `id_path`): what `client.webhooks` needs to parse a
callback and confirm it by fetching the task.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from py302._registry import resolve_ref

__all__ = ["EXPRESSION", "declared_webhook"]

#: The runtime expressions py302 understands for a callback URL.
EXPRESSION = re.compile(r"^\{\$request\.(query\.[A-Za-z0-9_.-]+|body#(/[^}]*)?)\}$")


def declared_webhook(
    op: Mapping[str, Any], document: Mapping[str, Any], where: str, problems: list[str]
) -> dict[str, Any] | None:
    """The registry's `webhook` entry for `op`, or None when it declares no callback."""
    callbacks = op.get("callbacks")
    if not callbacks:
        return None
    if not isinstance(callbacks, Mapping) or len(callbacks) != 1:
        problems.append(f"{where}: py302 reads one callback per operation")
        return None
    ((name, item),) = callbacks.items()
    item = resolve_ref(document, item)
    if len(item) != 1:
        problems.append(f"{where}: callback {name!r} must have one URL expression")
        return None
    ((expression, path_item),) = item.items()
    if not EXPRESSION.match(str(expression)):
        problems.append(
            f"{where}: callback {name!r}: {expression!r} is not a URL py302 can find "
            "(use '{$request.query.<name>}' or '{$request.body#/<pointer>}')"
        )
        return None
    post = resolve_ref(document, path_item).get("post") or {}
    body = resolve_ref(document, post.get("requestBody") or {})
    schema = (body.get("content") or {}).get("application/json", {}).get("schema")
    if not isinstance(schema, Mapping) or "$ref" not in schema:
        problems.append(
            f"{where}: callback {name!r} needs a post with an application/json body "
            "that is a $ref to a component schema"
        )
        return None
    entry: dict[str, Any] = {"name": name, "expression": expression, "schema": dict(schema)}
    task_id = post.get("x-py302-task-id") or (op.get("x-py302-task") or {}).get("id_path")
    if task_id:
        entry["task_id"] = task_id
    return entry
