"""core/ never names a provider: provider knowledge lives in plugins and specs."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def provider_names() -> set[str]:
    names = set()
    for fragment in (ROOT / "specs").glob("*.yaml"):
        names.add(yaml.safe_load(fragment.read_text(encoding="utf-8"))["x-py302-provider"])
    return names


def test_core_mentions_no_provider() -> None:
    names = provider_names() | {"bfl", "black forest", "kolors", "kuaishou"}
    assert {"flux", "kling", "stability", "gongji"} <= names
    pattern = re.compile(
        "|".join(rf"\b{re.escape(name)}\b" for name in sorted(names)), re.IGNORECASE
    )
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "core").rglob("*"))
        if path.is_file() and path.suffix in {".py", ".jinja2"}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
