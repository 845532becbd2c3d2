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


#: Providers named after what they serve rather than who runs it (`client.chat`,
#: `client.memory`): their names are ordinary words that core may well use.
DESCRIPTIVE = frozenset(
    {"chat", "files", "hosted", "images", "llm", "memory", "responses", "unified"}
)
#: The vendors behind the providers, which core must not name either.
VENDORS = frozenset(
    {"bfl", "black forest", "kolors", "kuaishou", "openai", "anthropic", "google", "memobase"}
)


def test_core_mentions_no_provider() -> None:
    names = (provider_names() - DESCRIPTIVE) | VENDORS
    assert {"flux", "kling", "stability", "gongji", "claude", "gemini"} <= names
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


def test_no_plugin_checks_which_provider_it_is_called_for() -> None:
    """Plugins are called only for their own provider's operations (plugin API 2), so
    none compares an operation's provider with its own name."""
    plugins = [*(ROOT / "plugins").glob("*.py"), *(ROOT / "tests" / "example_plugin").rglob("*.py")]
    checks = re.compile(r"\.provider\s*(!=|==)|provider\s*(!=|==)\s*PROVIDER")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in plugins
        if "generated" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if checks.search(line)
    ]
    assert len(plugins) > 4
    assert found == []
