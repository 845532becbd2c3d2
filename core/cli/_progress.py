"""The live display while a task runs."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from py302._results import Result
from py302._task_handles import Task

__all__ = ["follow"]


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
        row = progress.add_task("", total=1.0, operation=task.operation, status=task.status.value)

        def update(current: Task[Any]) -> None:
            status = current.snapshot.provider_status or current.status.value
            fraction = current.progress
            progress.update(row, status=status, completed=fraction if fraction is not None else 0.0)

        result = task.wait(timeout=timeout, on_progress=update)
        progress.update(row, status="succeeded", completed=1.0)
    return result
