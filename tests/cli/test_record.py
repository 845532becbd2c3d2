"""`py302 record`: a real exchange in, a cassette safe to commit and quick to replay out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import vcr
import yaml

from py302 import Client, PluginHost
from py302.cli import main
from py302.sandbox import Sandbox
from py302.testing import assert_contract
from tests.support import no_sleep

CANARY = "sk-record-canary-5f1e2d3c4b5a"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(task_seconds=2.5, registries=None) as server:
        yield server


def _record(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, cassette: Path, out: Path, *args: str
) -> None:
    monkeypatch.setenv("AI302_API_KEY", CANARY)
    monkeypatch.setenv("AI302_BASE_URL", sandbox.base_url)
    main(["record", str(cassette), *args, "--out", str(out)])


def test_record_writes_a_scrubbed_collapsed_cassette_that_replays(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, tmp_path: Path
) -> None:
    cassette = tmp_path / "generate.yaml"
    _record(
        monkeypatch,
        sandbox,
        cassette,
        tmp_path / "out",
        "flux.generate",
        "--model",
        "flux-pro-1.1",
        "--prompt",
        "a lighthouse",
    )
    text = cassette.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert CANARY not in text
    assert data["provenance"]["recorded"] is True
    assert data["provenance"]["hosts"] == [sandbox.base_url]
    paths = [
        item["request"]["uri"].split("?")[0].removeprefix(sandbox.base_url)
        for item in data["interactions"]
    ]
    # One submit, one poll per distinct state (the loop of Pending polls is collapsed),
    # the download.
    assert paths[0] == "/flux/v1/flux-pro-1.1"
    assert paths[-1].startswith("/sandbox/files/")
    polls = paths[1:-1]
    assert set(polls) == {"/flux/v1/get_result"}
    assert len(polls) == 2 < data["provenance"]["interactions_recorded"] - 2
    image = data["interactions"][-1]["response"]["body"]["string"]
    assert image.startswith("py302-binary sha256=")
    assert sum(1 for _ in (tmp_path / "out").iterdir()) == 1
    assert_contract(cassette)

    # The cassette replays through a client that never sleeps, without the network.
    with (
        vcr.use_cassette(str(cassette), record_mode="none"),
        Client(
            api_key="replay",
            base_url=sandbox.base_url,
            sleep=no_sleep,
            plugins=PluginHost(entry_points=False),
        ) as client,
    ):
        result = client.flux.generate(model="flux-pro-1.1", prompt="a lighthouse").wait()
        saved = result.save(tmp_path / "replayed")
    assert saved[0].read_bytes().startswith(b"py302-binary sha256=")


def test_record_keeps_an_error_answer(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, tmp_path: Path
) -> None:
    from py302.sandbox import Fault

    sandbox.faults.add(Fault(kind="status", route="flux.get_result", status=404, times=1))
    cassette = tmp_path / "missing.yaml"
    with pytest.raises(SystemExit) as exited:
        _record(monkeypatch, sandbox, cassette, tmp_path / "out", "flux.get_result", "--id", "nope")
    assert exited.value.code == 1
    data = yaml.safe_load(cassette.read_text(encoding="utf-8"))
    assert [item["response"]["status"]["code"] for item in data["interactions"]] == [404]


def test_record_without_a_key_refuses(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["record", str(tmp_path / "x.yaml"), "flux.get_result", "--id", "1"])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "needs a key: set AI302_API_KEY" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "x.yaml").exists()
