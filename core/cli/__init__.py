"""The `py302` command line.

    py302 run PROVIDER.OPERATION --prompt "a lighthouse"                  # call anything
    py302 tasks list | show | resume | cancel                               # the task journal
    py302 sandbox serve                                                     # the local stand-in
    py302 record CASSETTE PROVIDER.OPERATION ...                           # real traffic, scrubbed
    py302 ops | specs report|drift|learn|diff | cassette check | codegen    # for maintainers

Errors are one line with the remedy; `--debug` shows the traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["cli", "main"]

# The command line's own dependencies come with the `cli` extra. Without them the
# `py302` script is still installed (scripts cannot depend on extras), so say what to
# install instead of showing a traceback. Any other missing module is a real bug.
_EXTRA_MODULES = frozenset({"click", "rich", "yaml", "platformdirs"})

try:
    from ._main import cli, main
except ImportError as exc:
    if exc.name not in _EXTRA_MODULES:
        raise
    _MISSING = exc.name

    def main(argv: Sequence[str] | None = None) -> None:
        """Say that the command line needs the `cli` extra, and exit 1."""
        import sys

        sys.exit(
            f"error: the py302 command needs the `cli` extra ({_MISSING} is not installed):"
            " pip install 'py302[cli]'"
        )
