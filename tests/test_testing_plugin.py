"""py302.testing as a plugin author meets it: a pytest session of their own.

Each test runs pytest in a subprocess (pytester) on a small test file, the way a plugin's
suite runs, against a sandbox standing in for the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from py302.sandbox import Sandbox

CANARY = "sk-pytest-recording-canary-31415"
TEST_FILE = """
import pytest

@pytest.mark.vcr
def test_generate(py302_client, tmp_path):
    result = py302_client.flux.generate(model="flux-pro-1.1", prompt="a fox").wait()
    [saved] = result.save(tmp_path)
    assert saved.stat().st_size > 0
"""
OPTIONS = ("-p", "py302.testing", "--block-network", "--allowed-hosts=127.0.0.1")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(task_seconds=0.3) as server:
        yield server


@pytest.fixture
def session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> pytest.Pytester:
    monkeypatch.setenv("AI302_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("PY302_JOURNAL", str(pytester.path / "journal.sqlite3"))
    pytester.makepyfile(test_inner=TEST_FILE)
    return pytester


def _cassette(pytester: pytest.Pytester) -> Path:
    return pytester.path / "cassettes" / "test_inner" / "test_generate.yaml"


def _record_with_a_key(session: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Record the cassette with a key, then take the key away again, as on replay."""
    monkeypatch.setenv("AI302_API_KEY", CANARY)
    session.runpytest_subprocess(*OPTIONS, "--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.delenv("AI302_API_KEY")


def test_recording_scrubs_collapses_and_then_replays_without_the_network(
    session: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI302_API_KEY", CANARY)
    recorded = session.runpytest_subprocess(*OPTIONS, "--record-mode=once")
    recorded.assert_outcomes(passed=1)
    text = _cassette(session).read_text(encoding="utf-8")
    assert CANARY not in text
    data = yaml.safe_load(text)
    assert data["provenance"]["recorded"] is True
    assert data["interactions"][-1]["response"]["body"]["string"].startswith("py302-binary")

    # Replaying needs no key, no network and no waiting; the strict contract check runs.
    monkeypatch.delenv("AI302_API_KEY")
    replayed = session.runpytest_subprocess(
        *OPTIONS, "--record-mode=none", "-p", "no:cacheprovider"
    )
    replayed.assert_outcomes(passed=1)


def test_recording_without_a_key_fails_with_the_remedy(session: pytest.Pytester) -> None:
    outcome = session.runpytest_subprocess(*OPTIONS, "--record-mode=once")
    outcome.assert_outcomes(errors=1)
    outcome.stdout.fnmatch_lines(["*recording needs a real key: set AI302_API_KEY*"])
    assert not _cassette(session).exists()


def test_a_replayed_cassette_that_breaks_the_spec_fails_the_test(
    session: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record_with_a_key(session, monkeypatch)
    cassette = _cassette(session)
    # The API "changed": a status value and a field the spec does not know.
    text = cassette.read_text(encoding="utf-8").replace(
        '"status":"Ready"', '"status":"Ready","eta":0'
    )
    cassette.write_text(text, encoding="utf-8")
    outcome = session.runpytest_subprocess(*OPTIONS, "--record-mode=none")
    outcome.assert_outcomes(passed=1, errors=1)
    outcome.stdout.fnmatch_lines(["*drift: response 200 eta: field 'eta' is not in the spec*"])


def test_a_cassette_that_cannot_be_saved_fails_the_test(
    session: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI302_API_KEY", CANARY)
    _cassette(session).mkdir(parents=True)  # a folder where the file should go
    outcome = session.runpytest_subprocess(*OPTIONS, "--record-mode=once")
    outcome.assert_outcomes(passed=1, errors=1)
    outcome.stdout.fnmatch_lines(["*test_generate.yaml could not be saved*"])
    assert not list(_cassette(session).parent.glob(".*.part"))


def test_an_interaction_left_unplayed_fails_the_test(
    session: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record_with_a_key(session, monkeypatch)
    cassette = _cassette(session)
    data = yaml.safe_load(cassette.read_text(encoding="utf-8"))
    data["interactions"].append(data["interactions"][0])  # a second submit nobody makes
    cassette.write_text(yaml.safe_dump(data), encoding="utf-8")
    outcome = session.runpytest_subprocess(*OPTIONS, "--record-mode=none")
    outcome.assert_outcomes(passed=1, errors=1)
    outcome.stdout.fnmatch_lines(["*test_generate.yaml were never played*"])
