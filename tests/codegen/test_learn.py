"""Recorded traffic back into the specs: record → drift → learn → regenerate → contract.

The "API that changed" is the sandbox told to answer a poll with a status value and
a field the spec does not know; the recording is made by `py302.testing`'s recorder
over a real socket, so the cassette is what `py302 record` would write.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from py302 import Client, PluginHost
from py302._registry import ProviderRegistry, registry_from_data
from py302.codegen import generate
from py302.contracts import check_cassette, find_drift
from py302.sandbox import Fault, Sandbox
from py302.testing import record_cassette

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-learn-canary-0123456789"
OLD_ENUM = " " * 14 + (
    "enum: [Pending, Ready, Request Moderated, Content Moderated, Task not found, Error]"
)
CHANGED_POLL = {
    "id": "5015d102",
    "status": "Queued",
    "result": None,
    "progress": None,
    "queue_position": 3,
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cassette recorded from a sandbox whose poll answer has drifted."""
    folder = tmp_path_factory.mktemp("recorded")
    cassette = folder / "get_result.yaml"
    with (
        Sandbox(
            faults=[Fault(kind="body", route="flux.get_result", status=200, body=CHANGED_POLL)]
        ) as sandbox,
        Client(
            api_key=KEY, base_url=sandbox.base_url, plugins=PluginHost(entry_points=False)
        ) as client,
        record_cassette(cassette, secrets=[KEY]),
    ):
        answer = client.flux.get_result(id="5015d102")
    assert answer.data.status == "Queued"
    return cassette


@pytest.fixture
def workdir(tmp_path: Path, recorded: Path) -> Path:
    """A copy of specs/ and the recording, as a maintainer's checkout would have them."""
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    shutil.copy(recorded, tmp_path / "get_result.yaml")
    return tmp_path


def _registries(specs: Path, out: Path) -> list[ProviderRegistry]:
    assert generate(specs, out, package="relearned") == 0
    return [
        registry_from_data(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(out.glob("*.json"))
    ]


def _py302(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "py302", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def _learn_get_result(workdir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`py302 specs learn` on the recording, for the drifted poll operation."""
    return _py302(
        "specs", "learn", "get_result.yaml", "--operation", "flux.get_result", *options, cwd=workdir
    )


def test_the_recording_is_marked_recorded_and_holds_no_key(recorded: Path) -> None:
    text = recorded.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert data["provenance"]["recorded"] is True
    assert KEY not in text
    assert [
        item["request"]["uri"].split("?")[0].endswith("/flux/v1/get_result")
        for item in data["interactions"]
    ] == [True]


def test_the_unchanged_spec_fails_the_contract_naming_both_changes(
    workdir: Path, tmp_path: Path
) -> None:
    before = _registries(workdir / "specs", tmp_path / "before")
    problems = [p for r in check_cassette(workdir / "get_result.yaml", before) for p in r.problems]
    assert any("queue_position" in p for p in problems), problems
    assert any('"Queued"' in p for p in problems), problems


def test_drift_reports_the_new_field_and_the_new_status_value(workdir: Path) -> None:
    done = _py302("specs", "drift", "get_result.yaml", "--json", cwd=workdir)
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)["operations"]["flux.get_result"]["findings"]
    by_kind = {(f["kind"], f["path"]): f for f in findings}
    assert by_kind[("unknown_field", "queue_position")]["values"] == [3]
    assert by_kind[("unknown_value", "status")]["values"] == ["Queued"]
    assert by_kind[("unknown_value", "status")]["pointer"].startswith(
        "/components/schemas/BflResultResponse/properties/status"
    )
    text = _py302("specs", "drift", "get_result.yaml", cwd=workdir).stdout
    assert "queue_position" in text
    assert "Queued" in text


def test_learned_patch_applied_and_regenerated_passes_the_contract(
    workdir: Path, tmp_path: Path
) -> None:
    done = _learn_get_result(workdir)
    assert done.returncode == 0, done.stderr
    patch = done.stdout
    assert patch.startswith("--- a/specs/flux.yaml\n+++ b/specs/flux.yaml\n")
    assert "+        queue_position:" in patch
    assert "Queued]" in patch
    assert "-      x-py302-evidence: sdk" in patch
    assert "+      x-py302-evidence: recorded" in patch
    (workdir / "fix.patch").write_text(patch, encoding="utf-8")
    applied = subprocess.run(
        ["git", "apply", "fix.patch"], cwd=workdir, capture_output=True, text=True, check=False
    )
    assert applied.returncode == 0, applied.stderr

    after = _registries(workdir / "specs", tmp_path / "after")
    reports = check_cassette(workdir / "get_result.yaml", after)
    assert [r.problems for r in reports] == [()]
    flux = next(r for r in after if r.provider == "flux")
    assert flux.operations["get_result"].evidence == "recorded"
    assert "get_result.yaml" in flux.operations["get_result"].sources
    assert not [
        f
        for f in find_drift([workdir / "get_result.yaml"], after).findings
        if f.kind != "unseen_field"
    ]


def test_the_patch_touches_only_what_was_learned(workdir: Path) -> None:
    done = _learn_get_result(workdir)
    changed = [
        line
        for line in done.stdout.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == [
        "-      x-py302-evidence: sdk",
        "+      x-py302-evidence: recorded",
        "+        - get_result.yaml",
        "-" + OLD_ENUM,
        "+" + OLD_ENUM[:-1] + ", Queued]",
        "+        queue_position:",
        "+          type: integer",
        "+          description: Seen in recorded traffic; not in the documentation.",
    ]


def test_write_applies_in_place(workdir: Path) -> None:
    done = _learn_get_result(workdir, "--write")
    assert done.returncode == 0, done.stderr
    assert "queue_position:" in (workdir / "specs" / "flux.yaml").read_text(encoding="utf-8")
    assert done.stdout == ""


def test_evidence_is_not_raised_from_traffic_that_was_not_recorded(workdir: Path) -> None:
    data = yaml.safe_load((workdir / "get_result.yaml").read_text(encoding="utf-8"))
    data["provenance"] = {"recorded": False, "summary": "written by hand"}
    (workdir / "hand.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    done = _py302("specs", "learn", "hand.yaml", "--operation", "flux.get_result", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "+        queue_position:" in done.stdout
    assert "x-py302-evidence" not in done.stdout
    assert "evidence not raised" in done.stderr


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        ("flux.nope", "flux has no operation 'nope'"),
        ("acme.draw", "no fragment in specs declares provider 'acme'"),
        ("flux.generate", "no interaction in the cassettes is a call of flux.generate"),
        ("get_result", "name the operation as provider.operation"),
    ],
)
def test_learn_refuses_clearly(workdir: Path, operation: str, message: str) -> None:
    done = _py302("specs", "learn", "get_result.yaml", "--operation", operation, cwd=workdir)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stderr.count("\n") == 1


def _hand_cassette(path: Path, *interactions: dict[str, object]) -> Path:
    """A cassette written by the test (so marked as not recorded)."""
    data = {"provenance": {"recorded": False, "summary": "written by the test"}}
    path.write_text(
        yaml.safe_dump({**data, "interactions": list(interactions), "version": 1}),
        encoding="utf-8",
    )
    return path


def _exchange(
    method: str, uri: str, request: object, status: int, answer: object
) -> dict[str, object]:
    return {
        "request": {
            "method": method,
            "uri": uri,
            "body": None if request is None else json.dumps(request),
            "headers": {"Content-Type": ["application/json"]},
        },
        "response": {
            "status": {"code": status, "message": ""},
            "headers": {"Content-Type": ["application/json"]},
            "body": {"string": json.dumps(answer)},
        },
    }


def test_learn_widens_a_type_declares_a_status_and_adds_request_fields(
    workdir: Path, tmp_path: Path
) -> None:
    poll = "https://api.302.ai/flux/v1/get_result?id=a"
    submit = "https://api.302.ai/flux/v1/flux-pro-1.1"
    cassette = _hand_cassette(
        workdir / "hand.yaml",
        _exchange("GET", poll, None, 200, {"id": "a", "status": "Pending", "progress": "50%"}),
        _exchange("GET", poll, None, 429, {"error": {"message": "slow down"}}),
        _exchange("POST", submit, {"prompt": "x", "style_preset": "ink"}, 200, {"id": "a"}),
    )
    for operation in ("flux.get_result", "flux.generate"):
        done = _py302(
            "specs", "learn", cassette.name, "--operation", operation, "--write", cwd=workdir
        )
        assert done.returncode == 0, done.stderr
        assert "evidence not raised" in done.stderr
    after = _registries(workdir / "specs", tmp_path / "after")
    flux = next(r for r in after if r.provider == "flux")
    progress = flux.resolve(flux.document["components"]["schemas"]["BflResultResponse"])[
        "properties"
    ]["progress"]
    assert progress["type"] == ["number", "null", "string"]
    assert "429" in flux.operations["get_result"].responses
    assert "style_preset" in flux.body_properties(flux.operations["generate"])
    assert flux.operations["get_result"].evidence == "sdk"  # the traffic was not recorded
    assert [r.problems for r in check_cassette(cassette, after, strict=True)] == [(), (), ()]


def test_drift_against_a_specs_folder_sees_the_learned_fix(workdir: Path) -> None:
    args = ("specs", "drift", "get_result.yaml", "--specs", "specs")
    assert _py302(*args, cwd=workdir).returncode == 1
    learned = _learn_get_result(workdir, "--write")
    assert learned.returncode == 0, learned.stderr
    after = _py302(*args, "--operation", "flux.get_result", cwd=workdir)
    assert after.returncode == 0, after.stdout
    assert "unseen_field" in after.stdout  # what one recording cannot show is still listed
    assert "unknown_" not in after.stdout


def test_drift_refuses_an_unknown_operation(workdir: Path) -> None:
    done = _py302("specs", "drift", "get_result.yaml", "--operation", "flux.nope", cwd=workdir)
    assert done.returncode == 2
    assert "no operation 'flux.nope' in the specs" in done.stderr
