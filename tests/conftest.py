"""Shared fixtures: a fresh plugin host per test, clients that never sleep, cassettes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from py302 import PluginHost

# The same pytest plugin third-party plugin authors use: recordings are scrubbed, and
# every vcr-marked test's cassette is checked against the specs afterwards.
pytest_plugins = ["py302.testing", "pytester"]

CASSETTES = Path(__file__).parent / "cassettes"


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see a developer's real key or base URL, nor write to their journal."""
    for name in (
        "AI302_API_KEY",
        "302AI_API_KEY",
        "AI302_BASE_URL",
        "PY302_DISABLE_PLUGINS",
        "PY302_DEBUG",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PY302_JOURNAL", str(tmp_path / "journal.sqlite3"))


@pytest.fixture
def host() -> PluginHost:
    """A plugin host of its own: the built-ins, no entry points."""
    return PluginHost(entry_points=False)


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    """Cassettes are readable YAML and never hold credentials."""
    return {
        "filter_headers": ["authorization", "x-api-key", "x-key", "cookie"],
        "decode_compressed_response": True,
        "record_mode": "none",
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """tests/cassettes/<test module>/"""
    return str(CASSETTES / request.module.__name__.rsplit(".", 1)[-1])
