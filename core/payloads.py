"""Reading provider payloads: dotted paths, lists of values, file types.

Public helpers for plugins (built-in and third-party) so that each one does not
write its own JSON walking:

    dig(payload, "data.task_id")                  -> the value, or None
    collect(payload, "data.task_result.images[].url")  -> every URL, in order
    sniff_mime(data)                              -> "image/png", ... or None
    urls_in_text('["https://..."]')               -> ["https://..."]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["collect", "dig", "fraction", "json_type", "sniff_mime", "urls_in_text"]

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"glTF", 0, "model/gltf-binary"),
    (b"ftyp", 4, "video/mp4"),
)


def dig(payload: Any, dotted: str) -> Any:
    """The value at `a.b.0.c` inside nested mappings and lists, or None."""
    current = payload
    for part in dotted.split("."):
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def collect(payload: Any, path: str) -> list[Any]:
    """Every value at `path`, where a segment ending in `[]` fans out over a list.

    `collect(p, "images[].url")` gives the `url` of each image; a path without `[]`
    gives its one value in a list (or an empty list when it is missing); a value that
    is itself a list at the end of the path is returned item by item.
    """
    values = [payload]
    for part in path.split("."):
        fan_out = part.endswith("[]")
        key = part[:-2] if fan_out else part
        found = []
        for value in values:
            inner = dig(value, key) if key else value
            if fan_out:
                found.extend(inner if isinstance(inner, list) else [])
            elif inner is not None:
                found.append(inner)
        values = found
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return [value for value in flat if value is not None]


def json_type(value: Any) -> str:
    """The JSON Schema type name of a decoded JSON value (`integer` for 3, not `number`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def fraction(value: Any) -> float | None:
    """A progress figure as 0.0-1.0, whether the provider sent a fraction or a percentage."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return float(value) / 100 if value > 1 else float(value)


def urls_in_text(value: Any) -> list[str]:
    """URLs held in a string: a JSON-encoded list of them, or one bare URL.

    302's generic task envelope carries its results this way (`output`).
    """
    if not isinstance(value, str) or not value.strip():
        return []
    try:
        decoded = json.loads(value)
    except ValueError:
        decoded = value
    items = decoded if isinstance(decoded, list) else [decoded]
    return [
        item for item in items if isinstance(item, str) and item.startswith(("http://", "https://"))
    ]


def sniff_mime(data: bytes) -> str | None:
    """The media type of common image, model and video files from their first bytes."""
    for signature, offset, mime in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return mime
    return None
