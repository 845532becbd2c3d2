"""`py302 specs diff`: what a regeneration changes in the public Python API."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from py302.codegen._surface import ApiSurface

__all__ = ["diff"]


class _BadInput(click.ClickException):
    """OLD or NEW cannot be read or compiled."""

    exit_code = 2


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
def diff(old: str, new: str, as_json: bool) -> None:
    """Show how the public Python API changes from the OLD spec tree to the NEW one.

    OLD and NEW are each a folder of fragments (specs/) or a git revision of the
    repository here: REV reads its specs/ folder, REV:PATH another one.

    \b
        py302 specs diff HEAD specs          # what the working tree would change
        py302 specs diff v0.1.0 HEAD --json  # between two releases, for scripts

    Breaking changes (those that can break code written against OLD) come first.
    Exit status: 0 when nothing breaks, 1 when something does, 2 when OLD or NEW
    cannot be read or compiled.
    """
    from py302.codegen._diff import diff_surfaces

    result = diff_surfaces(_load(old), _load(new), old_label=old, new_label=new)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=1))
    else:
        width = max((len(change.subject) for change in result.changes), default=0)
        for change in (*result.breaking, *result.compatible):
            mark = "BREAKING" if change.breaking else ""
            kind = change.kind.replace("_", " ")
            line = f"{mark:<8}  {change.subject:<{width}}  {kind}: {change.explanation}"
            click.secho(line.rstrip(), fg="red" if change.breaking else None)
        click.echo(
            f"{len(result.breaking)} breaking, {len(result.compatible)} compatible "
            f"change(s) from {old} to {new}"
        )
    sys.exit(1 if result.breaking else 0)


def _load(spec: str) -> ApiSurface:
    from py302.codegen._errors import CodegenError, SpecTreeError
    from py302.codegen._surface import load_tree

    try:
        return load_tree(spec)
    except SpecTreeError as exc:
        raise _BadInput(str(exc)) from exc
    except CodegenError as exc:
        problems = "\n  ".join(exc.problems)
        raise _BadInput(f"{spec} does not compile:\n  {problems}") from exc
    except ModuleNotFoundError as exc:
        missing = f"{exc.name} is missing; install the tools: pip install 'py302[codegen]'"
        raise _BadInput(missing) from exc
