"""The README's Python examples are code that type-checks as users would run it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.DOTALL)


def test_the_readme_shows_python_examples() -> None:
    assert len(python_blocks()) >= 2


@pytest.mark.parametrize("number", range(len(python_blocks())))
def test_each_readme_example_passes_mypy_strict(number: int, tmp_path: Path) -> None:
    example = tmp_path / f"readme_example_{number}.py"
    example.write_text(python_blocks()[number], encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(example)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
