"""The live display while a task runs."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from py302._results import Result
from py302._task_handles import Task
from py302._tasks import TaskSnapshot

__all__ = ["follow", "status_label"]


def status_label(snapshot: TaskSnapshot) -> str:
    """py302's word for the state, always; the provider's own word beside it when it
    says something else (`running (Processing)`), so the label never switches
    vocabulary from one poll to the next."""
    ours = snapshot.status.value
    theirs = snapshot.provider_status
    if theirs and theirs.strip().lower() != ours:
        return f"{ours} ({theirs.strip()})"
    return ours


def follow(task: Task[Any], *, timeout: float, quiet: bool = False) -> Result[Any]:
    """Wait for `task`, showing its status and progress on stderr (unless `quiet`)."""
    if quiet:
        return task.wait(timeout=timeout)
    console = Console(stderr=True)
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[operation]}[/] {task.fields[status]}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        status = status_label(task.snapshot)
        row = progress.add_task("", total=1.0, operation=task.operation, status=status)

        def update(current: Task[Any]) -> None:
            status = status_label(current.snapshot)
            fraction = current.progress
            progress.update(row, status=status, completed=fraction if fraction is not None else 0.0)

        result = task.wait(timeout=timeout, on_progress=update)
        progress.update(row, status="succeeded", completed=1.0)
    return result
