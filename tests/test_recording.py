"""The recorder end to end: what reaches a cassette from real exchanges over a socket.

`py302.testing.record_cassette` (the machinery behind `py302 record` and the pytest
plugin) is pointed at the sandbox; the cassette must hold no secret, no signed URL
signature and no binary body, and must still replay.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vcr
import yaml

from py302 import Client, PluginHost
from py302.contracts import PNG_2X2, find_drift
from py302.sandbox import Fault, Sandbox
from py302.testing import assert_contract, record_cassette
from tests.support import no_sleep, project_registries

KEY = "sk-recorder-canary-9a8b7c6d5e"
SIGNATURE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
CREDENTIAL = "AKIAIOSFODNN7EXAMPLE%2F20261124%2Fus-east-1%2Fs3%2Faws4_request"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(task_seconds=0.5) as server:
        yield server


def _client(base_url: str, key: str = KEY) -> Client:
    return Client(
        api_key=key, base_url=base_url, sleep=no_sleep, plugins=PluginHost(entry_points=False)
    )


def _interactions(path: Path) -> list[dict[str, Any]]:
    interactions: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))[
        "interactions"
    ]
    return interactions


def test_a_signed_result_url_is_scrubbed_alike_in_the_answer_and_the_download(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    signed = (
        f"{sandbox.base_url}/sandbox/blob/1?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={CREDENTIAL}&X-Amz-Expires=3600&X-Amz-Signature={SIGNATURE}"
    )
    answer = {"id": "t1", "status": "Ready", "result": {"sample": signed}, "progress": None}
    sandbox.faults.add(
        Fault(kind="body", route="flux.get_result", status=200, body=answer, times=1)
    )
    cassette = tmp_path / "signed.yaml"
    with _client(sandbox.base_url) as client, record_cassette(cassette, secrets=[KEY]):
        client.flux.get_result(id="t1").save(tmp_path / "live")
    text = cassette.read_text(encoding="utf-8")
    for secret in (KEY, SIGNATURE, "AKIAIOSFODNN7EXAMPLE"):
        assert secret not in text
    poll, download = _interactions(cassette)
    scrubbed_url = yaml.safe_load(poll["response"]["body"]["string"])["result"]["sample"]
    assert download["request"]["uri"] == scrubbed_url
    assert "X-Amz-Signature=REDACTED" in scrubbed_url
    assert "X-Amz-Expires=3600" in scrubbed_url  # not a secret: kept
    body = download["response"]["body"]["string"]
    assert body.startswith("py302-binary sha256=")
    assert body.endswith(f"size={1024 * 1024}")
    assert_contract(cassette)

    # Replay: the client follows the scrubbed URL of the replayed answer, which matches.
    with vcr.use_cassette(str(cassette), record_mode="none"), _client(sandbox.base_url) as client:
        [saved] = client.flux.get_result(id="t1").save(tmp_path / "replayed")
    assert saved.read_text() == body


def test_a_multipart_upload_keeps_its_fields_and_loses_its_file(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    cassette = tmp_path / "erase.yaml"
    with _client(sandbox.base_url) as client, record_cassette(cassette, secrets=[KEY]):
        client.stability.erase(image=PNG_2X2, seed=7, output="json")
    [erase] = _interactions(cassette)
    sent = erase["request"]["body"]
    assert isinstance(sent, str)
    assert 'name="seed"' in sent
    assert 'name="image"' in sent
    assert "py302-binary sha256=" in sent
    assert "\x89PNG" not in sent
    assert KEY not in cassette.read_text(encoding="utf-8")
    assert_contract(cassette)


def test_a_key_echoed_by_the_server_is_removed(sandbox: Sandbox, tmp_path: Path) -> None:
    echo = {"error": {"message": f"key {KEY} has no balance", "type": "insufficient_quota"}}
    sandbox.faults.add(Fault(kind="body", route="flux.get_result", status=402, body=echo, times=1))
    cassette = tmp_path / "echo.yaml"
    with (
        _client(sandbox.base_url) as client,
        record_cassette(cassette, secrets=[KEY]),
        pytest.raises(Exception, match="no balance"),
    ):
        client.flux.get_result(id="t1")
    text = cassette.read_text(encoding="utf-8")
    assert KEY not in text
    assert "key REDACTED has no balance" in text


def test_a_failed_save_leaves_the_old_cassette(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cassette = tmp_path / "kept.yaml"
    cassette.write_text("interactions: []\nversion: 1\n", encoding="utf-8")

    def broken_dump(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(yaml, "dump", broken_dump)
    with (
        pytest.raises(RuntimeError, match="disk full"),
        _client(sandbox.base_url) as client,
        record_cassette(cassette, secrets=[KEY]),
    ):
        client.flux.get_result(id="t1")
    assert cassette.read_text(encoding="utf-8") == "interactions: []\nversion: 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.yaml"]

    # HTTP is not left patched to the failed cassette: the next recording is its own.
    monkeypatch.undo()
    after = tmp_path / "after.yaml"
    with _client(sandbox.base_url) as client, record_cassette(after, secrets=[KEY]):
        gc.collect()  # a cassette left open would unpatch HTTP now, under the new one
        client.stability.erase(image=PNG_2X2, output="json")
    assert len(_interactions(after)) == 1


def test_drift_reads_the_fields_of_a_recorded_multipart_upload(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    cassette = tmp_path / "erase.yaml"
    with _client(sandbox.base_url) as client, record_cassette(cassette, secrets=[KEY]):
        client.stability.erase(
            image=PNG_2X2, seed=7, output="json", extra_body={"style_strength": "0.5"}
        )
    report = find_drift([cassette], project_registries())
    request = {(f.kind, f.path) for f in report.findings if f.where == "request"}
    assert ("unknown_field", "style_strength") in request
    assert not {path for kind, path in request if kind != "unseen_field"} - {"style_strength"}
    assert ("unseen_field", "mask") in request  # declared, not sent
    with pytest.raises(AssertionError, match="style_strength"):
        assert_contract(cassette)  # recorded, so checked strictly
