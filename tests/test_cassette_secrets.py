"""No cassette in the repository holds anything that looks like a credential."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
CASSETTES = sorted((ROOT / "cassettes").rglob("*.yaml")) + sorted((ROOT / "data").rglob("*.yaml"))
KEY_LIKE = [
    re.compile(r"(?i)authorization\s*:"),
    re.compile(r"(?i)\b(x-api-key|x-key|api[-_]?key)\b\s*:"),
    re.compile(r"\bsk-[A-Za-z0-9]{16,}"),
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._-]{8,}"),
    re.compile(r"(?i)[?&](sig|signature|token|x-amz-signature)=(?!REDACTED)[^&\s\"']{8,}"),
]


def test_there_are_cassettes() -> None:
    assert len(CASSETTES) >= 5


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: p.name)
def test_cassette_holds_no_secret(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = [pattern.pattern for pattern in KEY_LIKE if pattern.search(text)]
    assert found == [], f"{path.name} looks like it holds a credential: {found}"
