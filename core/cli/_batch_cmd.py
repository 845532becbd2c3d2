"""`py302 batch`: run a job file of many generations, resumably, on one machine or many."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from py302._constants import BASE_URL_ENV_VAR
from py302._errors import ConfigurationError

from ._clients import LOCAL_KEY, _configured_key, is_local
from ._output import emit_json, note

if TYPE_CHECKING:
    from py302 import batch

__all__ = ["batch_group"]

_EXIT_INCOMPLETE = 1


@click.group("batch")
def batch_group() -> None:
    """Many generations from a job file, each submitted exactly once, resumable."""


@batch_group.command("run")
@click.argument("job_file", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the files and manifest.jsonl (and, without --queue, the queue).",
)
@click.option("--job", "job_name", help="The job's name (default: the job file's name).")
@click.option(
    "--vars",
    "variables",
    type=click.Path(path_type=Path),
    help="JOB_FILE is a template (one JSON object); one item per row of this CSV/JSONL.",
)
@click.option(
    "--queue", help="postgresql://... to share the job between machines (default: SQLite in --out)."
)
@click.option(
    "--concurrency",
    type=click.IntRange(1),
    default=16,
    show_default=True,
    help="Items in flight at once (submitted and not yet collected).",
)
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="Submits per second.")
@click.option("--max-failures", type=click.IntRange(1), help="Stop submitting after N failures.")
@click.option("--retry-failed", is_flag=True, help="Send the items that failed before again.")
@click.option(
    "--task-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=1800.0,
    show_default=True,
    help="Seconds to wait for one task in this run (it goes on; the next run collects it).",
)
@click.option(
    "--lease",
    type=click.FloatRange(min=0.5),
    default=30.0,
    show_default=True,
    help="Seconds before another worker takes over the items of one that stopped answering.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run_command(  # noqa: PLR0917 - click passes each option by keyword
    job_file: Path,
    out: Path,
    job_name: str | None,
    variables: Path | None,
    queue: str | None,
    concurrency: int,
    rate: float | None,
    max_failures: int | None,
    retry_failed: bool,
    task_timeout: float,
    lease: float,
    as_json: bool,
) -> None:
    """Run JOB_FILE (JSON Lines: {"operation": ..., "arguments": {...}} per line).

    Every line is checked first; nothing is sent if one is wrong. Running the same
    command again after a crash collects what was submitted and sends the rest.
    """
    from py302 import batch  # only batch commands pay for importing it

    key, base_url = _endpoint()
    display = _Display(quiet=as_json)
    try:
        summary = asyncio.run(
            batch.arun(
                job_file,
                out=out,
                job=job_name,
                variables=variables,
                queue=queue,
                api_key=key,
                base_url=base_url,
                concurrency=concurrency,
                rate=rate,
                max_failures=max_failures,
                retry_failed=retry_failed,
                lease=lease,
                task_timeout=task_timeout,
                on_progress=display.update,
            )
        )
    except KeyboardInterrupt:
        note("interrupted: run the same command again to go on (nothing is sent twice)")
        raise click.Abort from None
    finally:
        display.close()
    _report(summary.job, summary.counts, as_json, manifest=summary.manifest)
    if summary.stopped_early:
        note(f"stopped after {max_failures} failure(s); run again to go on")
    if not summary.all_succeeded:
        raise click.exceptions.Exit(_EXIT_INCOMPLETE)


@batch_group.command("status")
@click.argument("job")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="The job's --out folder."
)
@click.option("--queue", help="The job's --queue, when it ran from PostgreSQL.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status_command(job: str, out: Path | None, queue: str | None, as_json: bool) -> None:
    """How many items of JOB (its name, or its job file) are in each state."""
    from py302 import batch  # only batch commands pay for importing it

    if out is None and queue is None:
        raise click.UsageError("give the job's --out folder, or its --queue")
    name = Path(job).stem if job.endswith((".jsonl", ".json", ".ndjson")) else job
    if queue is None and out is not None and not (out / batch.QUEUE_FILE).exists():
        raise click.UsageError(f"--out {out}: no batch has run there")
    store = batch.open_queue(queue, out or Path("."))

    async def read() -> tuple[dict[str, int], list[batch.ItemRow]]:
        try:
            return await store.counts(name), await store.rows(name)
        finally:
            await store.close()

    counts, rows = asyncio.run(read())
    if not counts:
        raise click.UsageError(f"no job named {name!r} in that queue")
    _report(name, counts, as_json, rows=rows)


def _endpoint() -> tuple[str, str | None]:
    """The key and base URL a batch talks to: a batch outlives the run that started
    it, so it never uses a temporary sandbox."""
    key = _configured_key()
    base_url = os.environ.get(BASE_URL_ENV_VAR)
    if key is not None:
        return key, base_url
    if base_url and is_local(base_url):
        return LOCAL_KEY, base_url
    raise ConfigurationError(
        "a batch needs AI302_API_KEY (or AI302_BASE_URL of a sandbox you started with "
        "`py302 sandbox serve`: a batch's tasks must outlive the command)"
    )


def _report(
    job: str,
    counts: dict[str, int],
    as_json: bool,
    *,
    manifest: Path | None = None,
    rows: list[batch.ItemRow] | None = None,
) -> None:
    problems = [row for row in rows or [] if row.state in {"failed", "uncertain", "lost"}]
    if as_json:
        emit_json(
            {
                "job": job,
                "items": sum(counts.values()),
                "counts": counts,
                "manifest": str(manifest) if manifest else None,
                "problems": [row.as_json() for row in problems],
            }
        )
        return
    total = sum(counts.values())
    parts = ", ".join(f"{state} {count}" for state, count in sorted(counts.items()))
    click.echo(f"{job}: {total} item(s): {parts}")
    for row in problems[:20]:
        click.echo(f"  line {row.line} {row.state}: {row.error or ''}".rstrip())
    if manifest is not None:
        click.echo(f"manifest: {manifest}")


class _Display:
    """One live line on a terminal: done, running, failed, submits/s, ETA."""

    def __init__(self, *, quiet: bool) -> None:
        self._live: Any = None
        self._last = 0.0
        if quiet:
            return
        from rich.console import Console
        from rich.live import Live

        console = Console(stderr=True)
        if console.is_terminal:
            self._live = Live("", console=console, refresh_per_second=4, transient=False)
            self._live.start()

    def update(self, progress: batch.BatchProgress) -> None:
        if self._live is None or time.monotonic() - self._last < 0.25:
            return
        self._last = time.monotonic()
        eta = progress.eta_seconds()
        done = progress.already_done + progress.finished
        self._live.update(
            f"done {done}/{progress.total} · running {progress.running} · "
            f"failed {progress.failed} · uncertain {progress.uncertain} · "
            f"{progress.requests_per_second:.1f} submits/s · "
            f"ETA {'-' if eta is None else f'{eta:.0f}s'}"
        )

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
