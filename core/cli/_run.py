"""`py302 run <provider>.<operation>`: call anything, follow it, save what it made."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import attrs
import click

from py302._registry import OperationSpec, ProviderRegistry
from py302._results import Result
from py302._streams import Stream
from py302._task_handles import Task
from py302.contracts import default_registries

from ._clients import cli_client
from ._fields import field_options
from ._output import emit_json, note
from ._progress import follow

__all__ = ["RunGroup", "check_out", "run"]

DEFAULT_OUT = "py302-output"


def _operations() -> dict[str, tuple[ProviderRegistry, OperationSpec]]:
    return {
        spec.qualified_name: (registry, spec)
        for registry in default_registries()
        for spec in registry.operations.values()
    }


class RunGroup(click.Group):
    """One subcommand per operation, built from its spec when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_operations())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = _operations().get(cmd_name)
        if found is None:
            return None
        registry, spec = found
        return _command(registry, spec)


def _command(registry: ProviderRegistry, spec: OperationSpec) -> click.Command:
    common = [
        click.Option(
            ["--out"],
            type=click.Path(file_okay=False, path_type=Path),
            default=DEFAULT_OUT,
            show_default=True,
            help="Folder for the files the call produces.",
        ),
        click.Option(
            ["--timeout"],
            type=float,
            default=600.0,
            show_default=True,
            help="Seconds to wait for a task before giving up (it goes on; resume it later).",
        ),
        click.Option(
            ["--no-wait"], is_flag=True, help="Submit a task and print its id without waiting."
        ),
        click.Option(["--json", "as_json"], is_flag=True, help="Print the outcome as JSON."),
        click.Option(
            ["--overwrite"],
            is_flag=True,
            help="Replace files of the same name in --out (by default a free name is taken).",
        ),
    ]
    file_fields = spec.extensions.get("x-py302-file-fields") or {}
    if "url" in file_fields.values():
        common.append(
            click.Option(
                ["--upload-files"],
                is_flag=True,
                help="Upload local files given for fields that take only a URL to 302's file "
                "host first (the files get public URLs; each upload is billed).",
            )
        )
    if "x-py302-stream" in spec.extensions:
        common.append(
            click.Option(
                ["--stream"], is_flag=True, help="Stream the answer: print its text as it comes."
            )
        )
    evidence = f"Evidence: {spec.evidence}. Docs: {', '.join(spec.doc_ids)}."
    kind = f"Submits a task (polled by {spec.task.poll}). " if spec.task else ""

    def callback(
        *,
        out: Path,
        timeout: float,
        no_wait: bool,
        as_json: bool,
        overwrite: bool,
        stream: bool = False,
        upload_files: bool = False,
        **fields: Any,
    ) -> None:
        arguments = {name: value for name, value in fields.items() if value is not None}
        _run(
            spec,
            arguments,
            out=out,
            timeout=timeout,
            no_wait=no_wait,
            as_json=as_json,
            stream=stream,
            overwrite=overwrite,
            upload_files=upload_files,
        )

    return click.Command(
        spec.qualified_name,
        params=[*field_options(registry, spec), *common],
        callback=callback,
        help=f"{spec.summary}\n\n{spec.method} {spec.path}. {kind}{evidence}",
        short_help=spec.summary,
    )


def _run(
    spec: OperationSpec,
    arguments: dict[str, Any],
    *,
    out: Path,
    timeout: float,
    no_wait: bool,
    as_json: bool,
    stream: bool = False,
    overwrite: bool = False,
    upload_files: bool = False,
) -> None:
    check_out(out)  # before paying: a folder that cannot be written loses the result
    started = time.time()
    with cli_client(upload_files=upload_files) as client:
        operation = getattr(client.provider(spec.provider), spec.operation_id)
        outcome: Any = None
        try:
            if stream:
                outcome = _streamed(operation.stream(**arguments), quiet=as_json)
            else:
                outcome = operation(**arguments)
            if isinstance(outcome, Task):
                result = _follow(client, spec, outcome, out, timeout, no_wait, as_json)
                if result is None:
                    return
            else:
                result = outcome
        except KeyboardInterrupt:
            _interrupted(outcome, _submitted_since(client, spec, started))
            raise click.Abort from None
        entry = outcome.journal_entry if isinstance(outcome, Task) else result.journal_entry
        if client.journal is not None and entry is not None and not isinstance(outcome, Task):
            client.journal.set_out_dir(entry, out)  # a task's was set when it was submitted
        saved = _save(result, out, overwrite=overwrite)
        if client.journal is not None and entry is not None:
            client.journal.saved(entry, saved)
        _report(
            spec.qualified_name, result.task_id, "succeeded", _urls(result), saved, as_json, result
        )


def _follow(  # noqa: PLR0917 - one private caller
    client: Any,
    spec: OperationSpec,
    task: Task[Any],
    out: Path,
    timeout: float,
    no_wait: bool,
    as_json: bool,
) -> Result[Any] | None:
    """Wait for a submitted task (None when asked not to)."""
    journal = client.journal
    if journal is not None and task.journal_entry is not None:
        journal.set_out_dir(task.journal_entry, out)
    note(f"submitted {spec.qualified_name} task {task.id}")
    if no_wait:
        _report(spec.qualified_name, task.id, task.status.value, [], [], as_json)
        return None
    return follow(task, timeout=timeout, quiet=as_json)


def _submitted_since(client: Any, spec: OperationSpec, started: float) -> str | None:
    """The task id this command's call was given, as the journal has it: Ctrl-C may come
    after the task was accepted (and journaled) but before the call returned it."""
    journal = client.journal
    if journal is None:
        return None
    rows = [
        row
        for row in journal.entries()
        if row.operation == spec.qualified_name and row.task_id and row.submitted_at >= started
    ]
    return rows[-1].task_id if rows else None


def _interrupted(outcome: Any, journaled: str | None = None) -> None:
    task_id = outcome.id if isinstance(outcome, Task) else journaled
    if task_id is not None:
        note(
            f"interrupted: task {task_id} goes on at the provider; "
            f"collect its files with `py302 tasks resume {task_id}`"
        )
    else:
        note(
            "interrupted: if a task was submitted it is in the journal "
            "(`py302 tasks list`), and `py302 tasks resume` collects it"
        )


def check_out(out: Path) -> None:
    """Refuse an output folder that cannot be written, before anything is paid for."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".py302-check-"):
            pass
    except OSError as exc:
        raise click.UsageError(
            f"--out {out}: cannot write there ({exc.strerror or exc}); choose another folder"
        ) from None


def _save(result: Result[Any], out: Path, *, overwrite: bool) -> list[Path]:
    """Save the result's files; if that fails, print their URLs first so none is lost."""
    if not result.assets:
        return []
    try:
        return result.save(out, overwrite=overwrite)
    except BaseException:
        for url in _urls(result):
            note(f"not saved: {url}")
        key = result.task_id or (str(result.journal_entry) if result.journal_entry else None)
        if key:
            note(f"collect it later with `py302 tasks resume {key}`")
        raise


def _streamed(stream: Stream[Any, Any], *, quiet: bool) -> Result[Any]:
    """Print the stream's text as it comes (unless quiet); its `Result`, text cleared
    so the report does not print it twice."""
    with stream:
        for text in stream.text_stream:
            if not quiet:
                click.echo(text, nl=False)
        result = stream.result()
    if quiet:
        return result
    click.echo()
    return attrs.evolve(result, text=None)


def _urls(result: Result[Any]) -> list[str]:
    return [asset.url for asset in result.assets if asset.url]


def _report(  # noqa: PLR0917 - one private caller, each argument a field of the report
    operation: str,
    task_id: str | None,
    status: str,
    urls: list[str],
    saved: list[Path],
    as_json: bool,
    result: Result[Any] | None = None,
) -> None:
    if as_json:
        emit_json(
            {
                "operation": operation,
                "task_id": task_id,
                "status": status,
                "urls": urls,
                "saved": [str(path) for path in saved],
                "text": result.text if result else None,
            }
        )
        return
    if result is not None and result.text:
        click.echo(result.text)
    for path in saved:
        click.echo(str(path))
    if not saved and status == "succeeded":
        note("the call produced no files")


run = RunGroup(
    "run",
    help="Call an operation: `py302 run PROVIDER.OPERATION --field value ...` "
    "(`py302 ops` lists them). "
    "Fields come from the spec (`py302 run OPERATION --help`); files are given as paths. "
    "Without AI302_API_KEY this runs against the built-in sandbox.",
)
