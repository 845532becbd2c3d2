"""Shaping example answers into live ones: fresh ids, local file URLs, progress."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from py302.payloads import assign, locate

from ._images import MEDIA_TYPES

__all__ = ["patch_progress", "put", "put_text", "replace_strings", "rewrite_urls"]


def put(payload: Any, dotted: str, value: Any) -> Any:
    """A copy of `payload` with `value` at the dotted path (missing steps made)."""
    result = copy.deepcopy(payload) if payload is not None else {}
    assign(result, dotted, value)
    return result


def put_text(payload: Any, path: str, text: str) -> Any:
    """A copy of `payload` whose text at `path` reads `text`: a plain dotted path as
    `put` does; one that fans out or filters (`content[?type=text].text`) gives the
    first string it finds `text` and empties the others, so that joined they read it."""
    if "[" not in path:
        return put(payload, path, text)
    result = copy.deepcopy(payload)
    places = [
        (holder, key)
        for holder, key in locate(result, path)
        if holder is not None and isinstance(holder[key], str)
    ]
    for number, (holder, key) in enumerate(places):
        holder[key] = text if number == 0 else ""
    return result


def replace_strings(payload: Any, old: str, new: str) -> Any:
    """Every string equal to `old` (or containing it) with `old` replaced by `new`."""
    if isinstance(payload, str):
        return payload.replace(old, new) if old and old in payload else payload
    if isinstance(payload, Mapping):
        return {key: replace_strings(value, old, new) for key, value in payload.items()}
    if isinstance(payload, list):
        return [replace_strings(item, old, new) for item in payload]
    return payload


def rewrite_urls(payload: Any, local: Callable[[str], str]) -> Any:
    """Point every http(s) URL (also inside JSON-encoded lists) at the sandbox."""
    if isinstance(payload, str):
        if payload.startswith(("http://", "https://")):
            return local(extension_of(payload))
        if payload.startswith("[") and "http" in payload:
            try:
                decoded = json.loads(payload)
            except ValueError:
                return payload
            return json.dumps(rewrite_urls(decoded, local))
        return payload
    if isinstance(payload, Mapping):
        return {key: rewrite_urls(value, local) for key, value in payload.items()}
    if isinstance(payload, list):
        return [rewrite_urls(item, local) for item in payload]
    return payload


def extension_of(url: str) -> str:
    """The media extension of a URL's path, `png` when it has none we serve."""
    suffix = urlsplit(url).path.rsplit(".", 1)[-1].lower() if "." in urlsplit(url).path else ""
    return suffix if suffix in MEDIA_TYPES else "png"


def patch_progress(payload: Any, fraction: float) -> Any:
    """Set every `progress` field to `fraction` (as a percentage where the example used one)."""
    if isinstance(payload, Mapping):
        patched = {}
        for key, value in payload.items():
            if key == "progress" and (value is None or isinstance(value, int | float)):
                patched[key] = (
                    round(fraction * 100)
                    if isinstance(value, int | float) and value > 1
                    else round(fraction, 3)
                )
            else:
                patched[key] = patch_progress(value, fraction)
        return patched
    if isinstance(payload, list):
        return [patch_progress(item, fraction) for item in payload]
    return payload
