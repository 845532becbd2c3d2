"""A value that never shows itself: how the client holds the API key."""

from __future__ import annotations

__all__ = ["Secret"]


class Secret:
    """Holds a secret string; `repr()` and `str()` show only that one is set."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: call it only where it is sent."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")
