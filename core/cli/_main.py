"""The command group and `main`, which turns any error into one line."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from ._batch_cmd import batch_group
from ._chat import chat
from ._output import fail
from ._record import record
from ._run import run
from ._sandbox_cmd import sandbox
from ._tasks_cmd import tasks
from ._tools import cassette, codegen, ops, plugins, specs

__all__ = ["cli", "main"]

_DEBUG_ENV = "PY302_DEBUG"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="py302")
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
def cli(debug: bool) -> None:
    """py302: the 302.AI API from the shell.

    With AI302_API_KEY set, commands talk to https://api.302.ai (or AI302_BASE_URL);
    without it, `run` uses a built-in sandbox, so everything works offline.
    """
    if debug:
        os.environ[_DEBUG_ENV] = "1"


for command in (
    run,
    chat,
    batch_group,
    tasks,
    sandbox,
    ops,
    specs,
    cassette,
    record,
    codegen,
    plugins,
):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line; turn any error into one line unless debugging."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None, prog_name="py302", standalone_mode=False
        )
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        where = f" (see: {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
        click.secho(f"error: {exc.format_message()}{where}", fg="red", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.secho(f"error: {exc.format_message()}", fg="red", err=True)
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except Exception as exc:
        if os.environ.get(_DEBUG_ENV):
            raise
        fail(exc)
