"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

TEST_KEY = "test-key-0000-not-a-real-key"


def no_sleep(seconds: float) -> None:
    """Replayed polls and retries take no time."""


async def no_sleep_async(seconds: float) -> None:
    """Replayed polls and retries take no time (async)."""
