"""The generator's one error: everything that stops a regeneration, listed at once."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CodegenError"]


class CodegenError(Exception):
    """Raised when a fragment cannot be compiled; `problems` lists every reason found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            f"{len(self.problems)} problem(s), nothing was written:\n  "
            + "\n  ".join(self.problems)
        )
