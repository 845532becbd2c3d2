"""`py302 specs drift` and `py302 specs learn`: what recordings say the specs miss."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from py302._registry import ProviderRegistry

__all__ = ["cassette_files", "drift", "learn"]

_CASSETTES = click.argument(
    "cassettes", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)


def cassette_files(paths: tuple[Path, ...]) -> list[Path]:
    """The cassettes named, folders searched for `*.yaml`."""
    return [
        p for path in paths for p in (sorted(path.rglob("*.yaml")) if path.is_dir() else [path])
    ]


class _Refused(click.ClickException):
    exit_code = 2


@contextlib.contextmanager
def _refusing() -> Iterator[None]:
    """A missing codegen tool, an unusable cassette or fragment: one line, exit 2."""
    from py302._errors import CassetteError

    try:
        from py302.codegen._errors import LearnError

        yield
    except ModuleNotFoundError as exc:
        raise _Refused(
            f"{exc.name} is missing; install the tools: pip install 'py302[codegen]'"
        ) from None
    except (LearnError, CassetteError) as exc:
        raise _Refused(str(exc)) from None


@click.command("drift")
@_CASSETTES
@click.option("--operation", help="Only this operation (provider.operation).")
@click.option(
    "--specs",
    "specs_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Compare with the fragments in this folder (compiled in memory; needs the "
    "codegen extra) instead of the installed bindings.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def drift(
    cassettes: tuple[Path, ...], operation: str | None, specs_dir: Path | None, as_json: bool
) -> None:
    """Compare recorded interactions with the specs, per operation.

    Reports fields seen but not in the spec, spec fields never seen, type
    mismatches, unknown values (task statuses, say) and undocumented status
    codes. Exit status 1 if anything but never-seen fields was found.
    """
    from py302.contracts import CassetteError, find_drift

    registries = _registries(specs_dir)
    if operation is not None and operation not in {
        spec.qualified_name for registry in registries for spec in registry.operations.values()
    }:
        raise _Refused(f"no operation {operation!r} in the specs; see `py302 ops`")
    try:
        report = find_drift(cassette_files(cassettes), registries, operation=operation)
    except CassetteError as exc:
        raise _Refused(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=1, ensure_ascii=False))
    else:
        for name, count in sorted(report.interactions.items()):
            findings = report.for_operation(name)
            click.secho(f"{name} ({count} interaction(s))", bold=True)
            for finding in findings:
                colour = "yellow" if finding.kind == "unseen_field" else "red"
                click.secho(f"  {finding.line()}", fg=colour)
            if not findings:
                click.secho("  agrees with the spec", fg="green")
        for line in report.unmatched:
            click.secho(f"no operation matches {line}", fg="yellow")
    drifted = any(f.kind != "unseen_field" for f in report.findings)
    sys.exit(1 if drifted else 0)


def _registries(specs_dir: Path | None) -> list[ProviderRegistry]:
    if specs_dir is None:
        from py302.contracts import default_registries

        return default_registries()
    with _refusing():
        from py302.codegen._learn import compile_registries

        return compile_registries(specs_dir)


@click.command("learn")
@_CASSETTES
@click.option("--operation", required=True, help="The operation to correct (provider.operation).")
@click.option(
    "--specs",
    "specs_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("specs"),
    show_default=True,
    help="The folder of fragments to correct.",
)
@click.option(
    "--write", is_flag=True, help="Apply the change to the fragment instead of printing it."
)
def learn(cassettes: tuple[Path, ...], operation: str, specs_dir: Path, write: bool) -> None:
    """Propose the fragment patch that makes OPERATION agree with the recordings.

    Prints a unified diff (apply it with `git apply`, then regenerate); what was
    learned and what was left out go to stderr. Needs the `codegen` extra.
    """
    with _refusing():
        from py302.codegen._learn import propose

        proposal = propose(specs_dir, cassette_files(cassettes), operation)
    for change in proposal.changes:
        click.secho(f"learned  {change}", fg="green", err=True)
    for item in proposal.left_out:
        click.secho(f"left out {item}", fg="yellow", err=True)
    if not proposal.changed:
        click.echo(f"{proposal.display}: nothing to change for {operation}", err=True)
        return
    if write:
        proposal.write()
        click.echo(
            f"wrote {proposal.display}; now regenerate the bindings (py302 codegen)", err=True
        )
    else:
        click.echo(proposal.patch(), nl=False)
