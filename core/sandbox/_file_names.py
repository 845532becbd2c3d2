"""Names of the files the sandbox serves, which say what to draw.

A result URL's name carries the prompt to draw, the size asked for and the format,
so whichever worker process a download reaches can serve it without a shared table
(`py302 sandbox serve --workers N`); the leading number keeps names unique.
"""

from __future__ import annotations

import base64
import binascii
import json

from ._images import MEDIA_TYPES

__all__ = ["described", "file_name"]

#: Of the prompt, what the name keeps (the image shows no more than this anyway).
_PROMPT_CHARS = 48
_MAX_SIDE = 8192


def file_name(number: int, prompt: str, extension: str, size: tuple[int, int] | None) -> str:
    """The name of the `number`th file, drawn from `prompt` at `size` as `extension`."""
    described = json.dumps([prompt[:_PROMPT_CHARS], list(size) if size else None])
    token = base64.urlsafe_b64encode(described.encode()).decode().rstrip("=")
    return f"{number:06d}-{token}.{extension}"


def described(name: str) -> tuple[str, str, tuple[int, int] | None] | None:
    """What a name says to draw (prompt, extension, size), or None for a name the
    sandbox never gave out."""
    stem, _, extension = name.rpartition(".")
    _, _, token = stem.partition("-")
    if extension not in MEDIA_TYPES or not token:
        return None
    try:
        prompt, size = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, TypeError):
        return None
    if not isinstance(prompt, str):
        return None
    if size is None:
        return prompt, extension, None
    if (
        isinstance(size, list)
        and len(size) == 2
        and all(isinstance(side, int) and 0 < side <= _MAX_SIDE for side in size)
    ):
        return prompt, extension, (size[0], size[1])
    return None
