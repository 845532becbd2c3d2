"""The command line: cassette checks, operation listing, codegen pass-through."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from py302.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def test_cassette_check_accepts_the_projects_cassettes() -> None:
    result = CliRunner().invoke(cli, ["cassette", "check", str(ROOT / "tests" / "cassettes")])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    assert result.output.count("ok   ") >= 8 + 70  # the Flux flows and one example per operation
    assert "0 interaction(s) disagree" in result.output


def test_cassette_check_rejects_a_body_that_breaks_the_schema() -> None:
    result = CliRunner().invoke(
        cli, ["cassette", "check", str(ROOT / "tests" / "data" / "broken_response.yaml")]
    )
    assert result.exit_code == 1
    failing = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert len(failing) == 1
    assert "[flux.dev]" in failing[0]
    assert "images: must be of type array" in failing[0]
    assert "seed: must be of type integer" in failing[0]


def test_cassette_check_json_output() -> None:
    path = ROOT / "tests" / "data" / "broken_response.yaml"
    result = CliRunner().invoke(cli, ["cassette", "check", "--json", str(path)])
    reports = [json.loads(line) for line in result.output.splitlines()]
    assert [r["ok"] for r in reports] == [False, True]
    assert reports[1]["skipped"] == "not an API host (a download)"


def test_cassette_check_flags_recorded_credentials(tmp_path: Path) -> None:
    source = (
        ROOT / "tests" / "cassettes" / "test_flux" / "schnell_output_envelope.yaml"
    ).read_text()
    leaked = source.replace(
        "User-Agent:", "Authorization:\n      - Bearer sk-leak\n      User-Agent:", 1
    )
    path = tmp_path / "leaked.yaml"
    path.write_text(leaked)
    result = CliRunner().invoke(cli, ["cassette", "check", str(path)])
    assert result.exit_code == 1
    assert "authorization is recorded" in result.output


@pytest.mark.parametrize(
    ("header", "value", "flagged"),
    [
        ("mj-api-secret", "mj-7Hq2kLw9xZ3pR8", True),
        ("x-api-key", "sk-live-4f9a8b7c6d5e", True),
        ("Authorization", "Bearer YOUR_API_KEY", False),
        ("x-api-key", "sk-xxx", False),
        ("Authorization", "Bearer <API_KEY>", False),
        ("mj-api-secret", "REDACTED", False),
    ],
)
def test_cassette_check_flags_real_credentials_not_doc_placeholders(
    tmp_path: Path, header: str, value: str, flagged: bool
) -> None:
    source = (
        ROOT / "tests" / "cassettes" / "test_flux" / "schnell_output_envelope.yaml"
    ).read_text()
    pasted = source.replace("User-Agent:", f"{header}:\n      - {value}\n      User-Agent:", 1)
    path = tmp_path / "pasted.yaml"
    path.write_text(pasted)
    result = CliRunner().invoke(cli, ["cassette", "check", str(path)])
    assert (f"{header.lower()} is recorded" in result.output) is flagged
    assert result.exit_code == (1 if flagged else 0)


def test_ops_lists_flux_operations_as_json() -> None:
    result = CliRunner().invoke(cli, ["ops", "flux", "--json"])
    assert result.exit_code == 0
    ops = {op["operation"]: op for op in json.loads(result.output)}
    assert ops["flux.generate"]["task"] == "flux.bfl"
    assert ops["flux.dev"]["evidence"] == "doc"
    assert "image-generation/flux/flux-dev" in ops["flux.dev"]["doc"]


def test_codegen_check_passes_through() -> None:
    result = CliRunner().invoke(
        cli,
        ["codegen", "--check", "--specs", str(ROOT / "specs"), "--out", str(ROOT / "generated")],
    )
    assert result.exit_code == 0, result.output


def test_specs_report_counts_evidence_per_provider() -> None:
    result = CliRunner().invoke(
        cli, ["specs", "report", "--json", "--inventory", str(ROOT / "specs" / "doc-inventory.tsv")]
    )
    assert result.exit_code == 0, result.output
    report = {entry["provider"]: entry for entry in json.loads(result.output)["providers"]}
    assert set(report) >= {"flux", "kling", "stability", "gongji"}
    for entry in report.values():
        assert sum(entry["evidence"].values()) == entry["operations"] > 0
    assert report["gongji"]["evidence"]["inferred"] == report["gongji"]["operations"]
    assert report["kling"]["evidence"]["doc"] >= 1
    table = CliRunner(env={"COLUMNS": "160"}).invoke(
        cli, ["specs", "report", "--inventory", str(ROOT / "specs" / "doc-inventory.tsv")]
    )
    rows = [line for line in table.output.splitlines() if line.startswith("│")]
    assert len(rows) == len(report)  # one row per provider, none cut off
    assert "siliconflow" in table.output
    assert "stability" in table.output
    assert "rows covered" in table.output


def test_cassette_check_strict_counts_drift_loose_does_not() -> None:
    # An example cassette whose running answer uses an illustrative status value that
    # the spec does not list: fine by default (not recorded), drift when strict.
    path = ROOT / "tests" / "cassettes" / "test_examples" / "flux" / "lora_training.yaml"
    default = CliRunner().invoke(cli, ["cassette", "check", str(path)])
    strict = CliRunner().invoke(cli, ["cassette", "check", "--strict", str(path)])
    assert default.exit_code == 0, default.output
    assert strict.exit_code == 1
    assert 'drift: response 200 status: unknown value "starting"' in strict.output
