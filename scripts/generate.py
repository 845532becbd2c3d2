"""Regenerate generated/ from specs/ (see `py302.codegen`); `--check` reports drift."""

from __future__ import annotations

import sys
from pathlib import Path

from py302.codegen import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], root=Path(__file__).resolve().parent.parent))
