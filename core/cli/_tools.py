"""The maintainers' and plugin authors' commands: codegen, ops, specs, cassettes, plugins."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ._learning import cassette_files, drift, learn
from ._specs_diff import diff as specs_diff

__all__ = ["cassette", "codegen", "ops", "plugins", "specs"]


@click.command(
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": [],
    }
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def codegen(args: tuple[str, ...]) -> None:
    """Regenerate bindings from spec fragments (`py302 codegen --help` for options)."""
    from py302.codegen import main as codegen_main

    sys.exit(codegen_main(list(args)))


@click.group()
def cassette() -> None:
    """Work with VCR cassettes of py302 traffic."""


@cassette.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--api-host", "api_hosts", multiple=True, help="Host of the API (default api.302.ai)."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per interaction.")
@click.option(
    "--strict/--loose",
    default=None,
    help="Count drift (fields, values, statuses the spec lacks) as a mismatch, or not. "
    "Default: strict for cassettes whose provenance says they were recorded.",
)
def cassette_check(
    paths: tuple[Path, ...], api_hosts: tuple[str, ...], as_json: bool, strict: bool | None
) -> None:
    """Check every interaction of the cassettes against the specs; exit 1 on a mismatch."""
    from py302.contracts import DEFAULT_API_HOSTS, check_cassette

    files = cassette_files(paths)
    failed = 0
    for file in files:
        for report in check_cassette(file, api_hosts=api_hosts or DEFAULT_API_HOSTS, strict=strict):
            failed += not report.ok
            if as_json:
                click.echo(json.dumps(_report_json(report), ensure_ascii=False))
            else:
                colour = "red" if not report.ok else ("yellow" if report.skipped else "green")
                click.secho(report.line(), fg=colour)
    if not as_json:
        click.echo(f"{len(files)} cassette(s), {failed} interaction(s) disagree with the specs")
    sys.exit(1 if failed else 0)


@cassette.command("examples")
@click.argument("providers", nargs=-1)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write <provider>/<operation>.yaml into.",
)
def cassette_examples(providers: tuple[str, ...], out: Path) -> None:
    """Write an example cassette per operation, built from the specs' examples (and a
    second one, <operation>.stream.yaml, for an operation that can also stream)."""
    from py302.contracts import ExampleError, default_registries, dump_cassette, example_cassettes

    failed = 0
    for registry in default_registries():
        if providers and registry.provider not in providers:
            continue
        folder = out / registry.provider
        folder.mkdir(parents=True, exist_ok=True)
        for _, spec in sorted(registry.operations.items()):
            try:
                cassettes = example_cassettes(registry, spec)
            except ExampleError as exc:
                failed += 1
                click.secho(f"FAIL {spec.qualified_name}: {exc}", fg="red")
                continue
            for name, data in cassettes.items():
                text = dump_cassette(data)
                (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
                click.echo(f"wrote {folder / name}.yaml")
    sys.exit(1 if failed else 0)


def _report_json(report: Any) -> dict[str, Any]:
    return {
        "cassette": report.cassette,
        "index": report.index,
        "method": report.method,
        "url": report.url,
        "status": report.status,
        "operation": report.operation,
        "ok": report.ok,
        "skipped": report.skipped,
        "problems": list(report.problems),
    }


@click.command()
@click.argument("provider", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def ops(provider: str | None, as_json: bool) -> None:
    """List operations with their doc ids and evidence."""
    from rich.console import Console
    from rich.table import Table

    from py302.contracts import default_registries

    rows = [
        spec
        for registry in default_registries()
        if provider in (None, registry.provider)
        for spec in registry.operations.values()
    ]
    if provider and not rows:
        raise click.ClickException(f"no provider {provider!r}; see `py302 plugins`")
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "operation": s.qualified_name,
                        "method": s.method,
                        "path": s.path,
                        "task": s.task.pattern if s.task else None,
                        "evidence": s.evidence,
                        "doc": list(s.doc_ids),
                    }
                    for s in rows
                ],
                indent=1,
            )
        )
        return
    table = Table("operation", "request", "task", "evidence", "doc ids")
    for s in rows:
        table.add_row(
            s.qualified_name,
            f"{s.method} {s.path}",
            s.task.pattern if s.task else "",
            s.evidence,
            "\n".join(s.doc_ids),
        )
    Console().print(table)


@click.group()
def specs() -> None:
    """Look at the spec fragments the bindings were generated from."""


@specs.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--inventory",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="doc-inventory.tsv to measure coverage against (default: specs/doc-inventory.tsv here).",
)
def specs_report(as_json: bool, inventory: Path | None) -> None:
    """Operations per provider at each evidence level, and documentation coverage."""
    from rich.console import Console
    from rich.table import Table

    from py302.contracts import (
        EVIDENCE_ORDER,
        default_registries,
        evidence_report,
        inventory_rows,
    )

    registries = default_registries()
    reports = evidence_report(registries)
    inventory = inventory or (Path("specs") / "doc-inventory.tsv")
    rows = inventory_rows(inventory) if inventory.exists() else None
    covered = {doc for r in registries for spec in r.operations.values() for doc in spec.doc_ids}
    if as_json:
        data: dict[str, Any] = {"providers": [report.as_json() for report in reports]}
        if rows is not None:
            data["inventory"] = {"rows": len(rows), "covered": len(rows & covered)}
        click.echo(json.dumps(data, indent=1))
        return
    table = Table("provider", *EVIDENCE_ORDER, "operations", "doc rows")
    for report in reports:
        table.add_row(
            report.provider,
            *(str(report.evidence[level]) for level in EVIDENCE_ORDER),
            str(report.operations),
            str(report.rows_covered),
        )
    console = Console()
    console.print(table)
    if rows is not None:
        console.print(f"inventory: {len(rows & covered)} of {len(rows)} rows covered ({inventory})")


specs.add_command(specs_diff)
specs.add_command(drift)
specs.add_command(learn)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins(as_json: bool) -> None:
    """List loaded plugins with their versions and providers, and any that failed to load."""
    from py302._plugins import default_host

    host = default_host()
    loaded = [
        {
            "name": name,
            "version": host.versions.get(name, "unknown"),
            "providers": sorted(p.name for p in host.providers.values() if p.plugin == name),
        }
        for name in host.plugin_names()
    ]
    # Providers whose spec says everything: registered from generated bindings, no hooks.
    spec_only = [
        {"name": p.name, "from": p.plugin}
        for p in sorted(host.providers.values(), key=lambda p: p.name)
        if p.plugin not in host.plugin_names()
    ]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "loaded": loaded,
                    "spec_only": spec_only,
                    "failed": [{"name": f.name, "reason": f.reason} for f in host.failures],
                },
                indent=1,
            )
        )
        return
    for plugin in loaded:
        provided = ", ".join(plugin["providers"]) or "(none)"
        click.echo(f"loaded  {plugin['name']} {plugin['version']}: providers {provided}")
    for provider in spec_only:
        click.echo(f"spec    {provider['name']} (no Python; bindings from {provider['from']})")
    for failure in host.failures:
        click.secho(f"FAILED  {failure.name}: {failure.reason}", fg="red")
