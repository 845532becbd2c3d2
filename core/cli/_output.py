"""How the command line talks: one line per error, rich display on a terminal, JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from py302._errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    PermissionDeniedError,
    Py302Error,
    RateLimitError,
    RequestValidationError,
    TaskError,
    TaskTimeoutError,
)

__all__ = ["emit_json", "error_line", "note"]


def note(message: str) -> None:
    """A line for the person at the terminal (stderr, so stdout stays for results)."""
    click.echo(message, err=True)


def emit_json(data: Any) -> None:
    """A JSON document on stdout, for scripts."""
    click.echo(json.dumps(data, indent=1, ensure_ascii=False, default=str))


def error_line(error: BaseException) -> str:
    """One line that says what went wrong and what to do about it."""
    if isinstance(error, RequestValidationError):
        problems = "; ".join(f"{field}: {rule}" for field, rule in error.problems)
        return f"{error.operation}: {problems} (nothing was sent; see --help for the fields)"
    jobs = sys.modules.get("py302.batch._jobs")  # not loaded: not a job file's error
    if jobs is not None and isinstance(error, jobs.JobFileError):
        return str(error)  # one line per problem: a job file can have hundreds
    text = " ".join(str(error).split())
    remedy = _remedy(error)
    return f"{text} ({remedy})" if remedy else text


def _remedy(error: BaseException) -> str | None:
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return "check AI302_API_KEY and your balance at https://302.ai"
    if isinstance(error, APIStatusError) and error.status == 402:
        return "the 302.AI balance is too low: top it up at https://302.ai"
    if isinstance(error, RateLimitError):
        return "slow down, or raise the limit in the 302.AI console"
    if isinstance(error, TaskTimeoutError):
        return f"it may still finish: py302 tasks resume {error.task_id}"
    if isinstance(error, TaskError):
        return f"py302 tasks show {error.task_id}"
    if isinstance(error, APIConnectionError):
        return "check your network, or AI302_BASE_URL"
    if isinstance(error, Py302Error):
        return None
    return "rerun as `py302 --debug ...` (the flag goes before the command) for the traceback"


def fail(error: BaseException) -> None:
    """Print `error` as one line and exit 1."""
    click.secho(f"error: {error_line(error)}", fg="red", err=True)
    sys.exit(1)
