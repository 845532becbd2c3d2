"""`pip install py302` is the library alone: it runs without the `cli` extra's packages.

Each check runs in a fresh interpreter whose imports of click, rich, PyYAML and
platformdirs fail as if they were not installed (a `sys.meta_path` finder refuses
them), so a runtime module that reaches for one of them fails here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = {"httpx", "attrs", "cattrs", "pluggy", "jsonschema"}
CLI_EXTRA = {"click", "rich", "pyyaml", "platformdirs"}
BLOCKED = ("click", "rich", "yaml", "platformdirs")

_PRELUDE = textwrap.dedent(
    f"""
    import importlib.abc, json, sys

    BLOCKED = {BLOCKED!r}


    class Uninstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None


    already = [m for m in sys.modules if m.split(".")[0] in BLOCKED]
    assert not already, f"loaded before the test could block them: {{already}}"
    sys.meta_path.insert(0, Uninstalled())


    def loaded():
        return sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    """
)


def run_without_cli_extra(code: str, tmp_path: Path) -> dict[str, Any]:
    """Run `code` (after the blocking prelude) and return the JSON it prints last."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PY302_JOURNAL", "AI302_API_KEY", "AI302_BASE_URL"}
    }
    done = subprocess.run(
        [sys.executable, "-c", _PRELUDE + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return answer


def test_a_call_works_without_the_cli_extra(tmp_path: Path) -> None:
    found = run_without_cli_extra(
        """
        import httpx
        import py302

        def handler(request):
            assert request.url.path == "/302/submit/flux-dev", request.url
            return httpx.Response(200, json={"images": [{"url": "https://file.302.ai/x.png"}]})

        http = httpx.Client(transport=httpx.MockTransport(handler))
        with py302.Client(api_key="k", http_client=http) as client:
            result = client.flux.dev(prompt="x")
        print(json.dumps({"url": result.asset.url, "loaded": loaded()}))
        """,
        tmp_path,
    )
    assert found == {"url": "https://file.302.ai/x.png", "loaded": []}


def test_the_default_journal_without_platformdirs_names_the_fix(tmp_path: Path) -> None:
    found = run_without_cli_extra(
        """
        import py302

        try:
            py302.Client(api_key="k", journal=True)
        except py302.ConfigurationError as exc:
            print(json.dumps({"error": str(exc), "loaded": loaded()}))
        """,
        tmp_path,
    )
    assert found["loaded"] == []
    assert 'Client(journal="tasks.sqlite")' in found["error"]
    assert "pip install 'py302[cli]'" in found["error"]


def test_a_journal_path_needs_no_platformdirs(tmp_path: Path) -> None:
    found = run_without_cli_extra(
        """
        import py302

        client = py302.Client(api_key="k", journal="tasks.sqlite")
        print(json.dumps({"journal": str(client.journal.path), "loaded": loaded()}))
        """,
        tmp_path,
    )
    assert found == {"journal": "tasks.sqlite", "loaded": []}


def test_the_command_without_the_cli_extra_says_what_to_install(tmp_path: Path) -> None:
    found = run_without_cli_extra(
        """
        import py302.cli

        try:
            py302.cli.main(["--help"])
        except SystemExit as exc:
            print(json.dumps({"exit": str(exc.code)}))
        """,
        tmp_path,
    )
    assert "pip install 'py302[cli]'" in found["exit"]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~;\[]", item, maxsplit=1)[0].lower() for item in requirements}


def test_runtime_dependencies_are_exactly_the_library_ones() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert _names(project["dependencies"]) == RUNTIME
    extras = project["optional-dependencies"]
    assert _names(extras["cli"]) == CLI_EXTRA
    assert "pyyaml" in _names(extras["testing"])  # the pytest plugin reads cassettes
    dev_includes = {
        extra
        for item in extras["dev"]
        if (included := re.fullmatch(r"py302\[(.*)\]", item))
        for extra in included.group(1).split(",")
    }
    assert "cli" in dev_includes
    assert project["scripts"] == {"py302": "py302.cli:main"}
