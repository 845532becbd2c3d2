"""The errors of the maintainers' tools: the generator, `specs learn` and `specs diff`.

CodegenError     a fragment cannot be compiled (every problem listed at once)
LearnError       no fragment patch can be proposed (what to change is in the message)
SpecTreeError    a `specs diff` argument is neither a folder of fragments nor a revision
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CodegenError", "LearnError", "SpecTreeError"]


class CodegenError(Exception):
    """Raised when a fragment cannot be compiled; `problems` lists every reason found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            f"{len(self.problems)} problem(s), nothing was written:\n  "
            + "\n  ".join(self.problems)
        )


class LearnError(ValueError):
    """Raised when `specs learn` cannot propose a patch; the message says what to change."""


class SpecTreeError(ValueError):
    """Raised when a diff argument is neither a folder of fragments nor a git revision
    holding one; the message is one line naming the argument and the remedy."""
