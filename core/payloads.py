"""Reading provider payloads: dotted paths, lists of values, file types.

Public helpers for plugins (built-in and third-party) so that each one does not
write its own JSON walking:

    dig(payload, "data.task_id")                  -> the value, or None
    collect(payload, "data.task_result.images[].url")  -> every URL, in order
    collect(payload, "content[?type=text].text")  -> the text of each text block
    sniff_mime(data)                              -> "image/png", ... or None
    urls_in_text('["https://..."]')               -> ["https://..."]
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "assign",
    "collect",
    "dig",
    "fraction",
    "json_type",
    "locate",
    "scalar_text",
    "sniff_mime",
    "text_at",
    "urls_in_text",
]

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
    return _dig(payload, _dotted_parts(dotted))


def _dig(payload: Any, parts: tuple[str, ...]) -> Any:
    current = payload
    for part in parts:
        # A decoded payload holds plain dicts: `type() is` first, since an ABC check
        # costs several times as much and runs for every step of every path.
        if type(current) is dict or isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


@functools.lru_cache(maxsize=4096)
def _dotted_parts(dotted: str) -> tuple[str, ...]:
    return tuple(dotted.split("."))


def collect(payload: Any, path: str) -> list[Any]:
    """Every value at `path`, where a segment ending in `[]` fans out over a list, and
    one ending in a filter fans out over the items it keeps: `[?key]` (key present and
    truthy), `[?!key]` (absent or falsy), `[?key=value]` (equal as text).

    `collect(p, "images[].url")` gives the `url` of each image; `collect(p,
    "content[?type=text].text")` the text of each text block (a filter on an object keeps
    it if it qualifies: `[?type=delta].text`); a path without a fan-out
    gives its one value in a list (or an empty list when it is missing); a value that
    is itself a list at the end of the path is returned item by item.
    """
    values = [payload]
    for keys, keep, whole_list in _steps(path):
        found: list[Any] = []
        for value in values:
            inner = _dig(value, keys) if keys else value
            if keep is not None:
                if isinstance(inner, list):
                    found.extend(item for item in inner if keep(item))
                elif isinstance(inner, Mapping) and not whole_list and keep(inner):
                    found.append(inner)  # a filter on one object: kept if it qualifies
            elif inner is not None:
                found.append(inner)
        values = found
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return [value for value in flat if value is not None]


def locate(payload: Any, path: str) -> list[tuple[Any, Any]]:
    """Where each value `collect(payload, path)` finds sits: `(container, key)` pairs
    (a mapping and its key, or a list and its index), so a caller can replace them."""
    places: list[tuple[Any, Any]] = [(None, None)]
    values: list[Any] = [payload]
    for part in _segments(path):
        key, keep = _fan_out(part)
        next_places: list[tuple[Any, Any]] = []
        next_values: list[Any] = []
        for place, value in zip(places, values, strict=True):
            container, index = (value, key) if key else place
            inner = _child(value, key) if key else value
            if keep is not None and isinstance(inner, list):
                for position, item in enumerate(inner):
                    if keep(item):
                        next_places.append((inner, position))
                        next_values.append(item)
            elif keep is not None and isinstance(inner, Mapping) and not part.endswith("[]"):
                if keep(inner):
                    next_places.append((container, index))
                    next_values.append(inner)
            elif keep is None and inner is not None:
                next_places.append((container, index))
                next_values.append(inner)
        places, values = next_places, next_values
    return places


def _child(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(key)
    if isinstance(value, list) and key.isdigit() and int(key) < len(value):
        return value[int(key)]
    return None


#: One step of a compiled path: the dotted keys to dig, which list items it keeps if it
#: fans out, and whether it is a plain `[]` (which never filters a lone object).
_Step = tuple[tuple[str, ...], Callable[[Any], bool] | None, bool]


@functools.lru_cache(maxsize=4096)
def _steps(path: str) -> tuple[_Step, ...]:
    """`path` compiled once: the paths are the spec's, read again for every answer."""
    compiled: list[_Step] = []
    for part in _segments(path):
        key, keep = _fan_out(part)
        compiled.append((_dotted_parts(key) if key else (), keep, part.endswith("[]")))
    return tuple(compiled)


@functools.lru_cache(maxsize=4096)
def _segments(path: str) -> tuple[str, ...]:
    """`path` split at the dots outside filters (`[?url=a.b]` keeps its dot). Cached:
    the paths are the spec's, read again for every answer."""
    parts, depth, current = [], 0, ""
    for char in path:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return (*parts, current)


def _fan_out(part: str) -> tuple[str, Callable[[Any], bool] | None]:
    """The key of a path segment, and which list items it keeps if it fans out."""
    if part.endswith("[]"):
        return part[:-2], lambda item: True
    if not (part.endswith("]") and "[?" in part):
        return part, None
    key, _, condition = part[:-1].partition("[?")
    if condition.startswith("!"):
        name = condition[1:]
        return key, lambda item: not (isinstance(item, Mapping) and item.get(name))
    name, equals, wanted = condition.partition("=")
    if equals:
        return (
            key,
            lambda item: (
                isinstance(item, Mapping) and name in item and scalar_text(item[name]) == wanted
            ),
        )
    return key, lambda item: isinstance(item, Mapping) and bool(item.get(name))


def scalar_text(value: Any) -> str:
    """A JSON scalar as it is written in a URL or compared as text: `true`, `3`, ``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def text_at(payload: Any, path: str | None) -> str | None:
    """The text at `path`; a path that fans out or filters joins every string it
    finds (`content[?type=text].text`). None when no string is there."""
    if not path:
        return None
    if "[" not in path:
        found = dig(payload, path)
        return found if isinstance(found, str) else None
    parts = [item for item in collect(payload, path) if isinstance(item, str)]
    return "".join(parts) if parts else None


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
    if not isinstance(value, str) or not (stripped := value.strip()):
        return []
    decoded: Any = value
    # Only a JSON list or string can hold a URL; anything else is not parsed (a failed
    # parse, the usual case for plain text, costs more than the rest of the reading).
    if stripped[0] in '["':
        with contextlib.suppress(ValueError):
            decoded = json.loads(value)
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


def assign(target: Any, path: str, value: Any) -> None:
    """Set `value` at a dotted path inside `target`, in place: a missing (or scalar)
    step becomes an object, or a list where the next part is an index, and a list is
    padded with None up to the index it is given."""
    parts = path.split(".")
    here: Any = target
    for part, following in itertools.pairwise(parts):
        inner = _step(here, part)
        if not isinstance(inner, dict | list):
            inner = [] if following.isdigit() else {}
            _set(here, part, inner)
        here = inner
    _set(here, parts[-1], value)


def _step(container: Any, part: str) -> Any:
    if isinstance(container, list):
        index = int(part)
        return container[index] if index < len(container) else None
    return container.get(part)


def _set(container: Any, part: str, value: Any) -> None:
    if isinstance(container, list):
        index = int(part)
        container.extend([None] * (index + 1 - len(container)))
        container[index] = value
    else:
        container[part] = value
