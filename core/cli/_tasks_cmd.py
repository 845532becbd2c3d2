"""`py302 tasks`: the journal of submitted tasks, and collecting their results."""

from __future__ import annotations

import datetime
import os
import socket
import uuid
from pathlib import Path
from typing import Any

import click

from py302._journal import Journal, JournalEntry
from py302._results import Asset, Result

from ._clients import cli_client
from ._output import emit_json, error_line, note
from ._progress import follow
from ._run import DEFAULT_OUT, check_out

__all__ = ["tasks"]

# A claim outlives the wait it covers by this much (downloads, saving).
CLAIM_MARGIN = 600.0


@click.group()
def tasks() -> None:
    """Tasks submitted from this machine (journal: PY302_JOURNAL or the user data folder)."""


@tasks.command("list")
@click.option("--limit", type=int, default=20, show_default=True, help="How many, newest first.")
@click.option("--unfinished", is_flag=True, help="Only tasks that may still produce a result.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_tasks(limit: int, unfinished: bool, as_json: bool) -> None:
    """List journaled tasks: id, operation, state, when, saved files."""
    entries = Journal().entries(limit=limit, unfinished=unfinished)
    if as_json:
        emit_json([entry.as_json() for entry in entries])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("task id", "operation", "state", "submitted", "saved")
    for entry in entries:
        table.add_row(
            entry.task_id or f"(row {entry.entry})",
            entry.operation,
            entry.state,
            _when(entry.submitted_at),
            "\n".join(entry.saved_paths) or "-",
        )
    Console().print(table)


@tasks.command("show")
@click.argument("task_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(task_id: str, as_json: bool) -> None:
    """Everything the journal knows about one task (by task id or row number)."""
    entry = _find(task_id)
    if as_json:
        emit_json(entry.as_json())
        return
    for key, value in entry.as_json().items():
        shown = _when(value) if key.endswith("_at") else value
        click.echo(f"{key:16} {shown if shown not in (None, ()) else '-'}")


@tasks.command("resume")
@click.argument("task_ids", nargs=-1)
@click.option(
    "--timeout", type=float, default=600.0, show_default=True, help="Seconds to wait per task."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the files (default: where the task was meant to save them).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def resume(task_ids: tuple[str, ...], timeout: float, out: Path | None, as_json: bool) -> None:
    """Collect the results of unfinished tasks (all of them, or those named).

    Safe to repeat, and to run twice at once: finished tasks are skipped, a task
    another `tasks resume` is collecting is left to it, and each result is saved once.
    """
    journal = Journal()
    entries = [_find(key) for key in task_ids] if task_ids else journal.entries(unfinished=True)
    entries = [entry for entry in entries if entry.unfinished or (task_ids and entry.task_id)]
    if not entries:
        note("no unfinished tasks")
    if out is not None:
        check_out(out)
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    outcomes: list[dict[str, Any]] = []
    for entry in reversed(entries):  # oldest first
        if not journal.claim(entry.entry, owner, timeout + CLAIM_MARGIN):
            note(f"{entry.task_id or entry.entry}: another `tasks resume` is collecting it")
            continue
        try:
            outcomes.append(_resume_one(journal, entry, timeout=timeout, out=out, quiet=as_json))
        finally:
            journal.release(entry.entry, owner)
    if as_json:
        emit_json(outcomes)
    if any(outcome["error"] for outcome in outcomes):
        raise SystemExit(1)


def _resume_one(
    journal: Journal, entry: JournalEntry, *, timeout: float, out: Path | None, quiet: bool
) -> dict[str, Any]:
    outcome: dict[str, Any] = {
        "task_id": entry.task_id,
        "operation": entry.operation,
        "saved": [],
        "error": None,
    }
    try:
        with cli_client(base_url=entry.base_url, journal=journal) as client:
            folder = out or Path(entry.out_dir or DEFAULT_OUT)
            if entry.task_id is None:  # a synchronous call whose files were not saved
                assets = tuple(Asset(url=url, downloader=client) for url in entry.result_urls)
                saved = Result(operation=entry.operation, data=None, raw=None, assets=assets).save(
                    folder
                )
            else:
                task = client.resume_task(entry.operation, entry.task_id, path=entry.submit_path)
                result = follow(task, timeout=timeout, quiet=quiet)
                saved = result.save(folder) if result.assets else []
            journal.saved(entry.entry, saved)
            outcome["saved"] = [str(path) for path in saved]
            if not quiet:
                for path in saved:
                    click.echo(str(path))
    except Exception as exc:  # one task's failure must not stop the others
        outcome["error"] = error_line(exc)
        click.secho(f"error: {entry.task_id}: {outcome['error']}", fg="red", err=True)
    return outcome


@tasks.command("cancel")
@click.argument("task_id")
def cancel(task_id: str) -> None:
    """Ask the provider to cancel a task (where the provider offers it)."""
    entry = _find(task_id)
    journal = Journal()
    with cli_client(base_url=entry.base_url, journal=journal) as client:
        task = client.resume_task(entry.operation, entry.task_id or "", path=entry.submit_path)
        task.cancel()
        note(f"{entry.task_id}: {task.status.value}")


def _find(key: str) -> JournalEntry:
    entry = Journal().find(key)
    if entry is None:
        raise click.ClickException(f"no task {key!r} in the journal (py302 tasks list shows them)")
    return entry


def _when(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")
