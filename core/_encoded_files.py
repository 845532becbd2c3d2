"""Files given for text fields: written into them as the spec says the field takes them.

A JSON field that takes an image as text (base64, or a `data:` URI) is marked
`x-py302-file: base64` or `x-py302-file: data-uri` in its spec; the generator lists such
fields in the registry (`x-py302-file-fields`). A caller may give such a field a local
path, `bytes` or an open file: it is read and encoded here, before the request is
checked, so what is sent is the text the field takes. A URL, a `data:` URI or text
that is no path is sent as given; a path to no file is refused before anything is sent.
"""

from __future__ import annotations

import base64
import mimetypes
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._registry import OperationSpec
from .payloads import sniff_mime

__all__ = ["encode_file_fields"]

#: Endings of text that is meant as a path to an image, not as base64 (which has no dot).
_FILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic")


def encode_file_fields(spec: OperationSpec, body: Any) -> tuple[Any, list[tuple[str, str]]]:
    """`body` with the files given for its file-taking text fields encoded, and the
    problems (a path to no file) as `(field, rule)` pairs."""
    fields = spec.extensions.get("x-py302-file-fields")
    if not isinstance(fields, Mapping) or not isinstance(body, Mapping):
        return body, []
    problems: list[tuple[str, str]] = []
    encoded = dict(body)
    for wire, encoding in fields.items():
        if wire not in encoded:
            continue
        value = encoded[wire]
        items = value if isinstance(value, list | tuple) else [value]
        written = []
        for number, item in enumerate(items):
            where = wire if not isinstance(value, list | tuple) else f"{wire}.{number}"
            text, problem = _encoded(item, str(encoding))
            if problem is not None:
                problems.append((where, problem))
            written.append(text)
        encoded[wire] = written if isinstance(value, list | tuple) else written[0]
    return encoded, problems


def _encoded(value: Any, encoding: str) -> tuple[Any, str | None]:
    """One value as the field takes it, or why it cannot be."""
    if isinstance(value, str):
        if value.startswith(("http://", "https://", "data:")) or not _names_a_file(value):
            return value, None
        path = Path(value)
    elif isinstance(value, os.PathLike):
        path = Path(value)
    elif isinstance(value, bytes | bytearray):
        return _text(bytes(value), None, encoding), None
    elif hasattr(value, "read"):
        content = value.read()
        content = content.encode() if isinstance(content, str) else bytes(content)
        return _text(content, getattr(value, "name", None), encoding), None
    else:
        return value, None
    if not path.is_file():
        return value, (
            f"no file at {str(path)!r}: pass the path of an existing file, its bytes, an "
            "open file, or the image's URL"
        )
    return _text(path.read_bytes(), path.name, encoding), None


def _names_a_file(text: str) -> bool:
    """Whether text is meant as a path: it ends like an image file (base64 never has a
    dot), or names an existing file."""
    if len(text) > 4096 or "\n" in text:
        return False
    return text.lower().endswith(_FILE_SUFFIXES) or Path(text).is_file()


def _text(content: bytes, name: Any, encoding: str) -> str:
    encoded = base64.b64encode(content).decode("ascii")
    if encoding != "data-uri":
        return encoded
    kind = (
        sniff_mime(content)
        or (mimetypes.guess_type(str(name))[0] if name else None)
        or "application/octet-stream"
    )
    return f"data:{kind};base64,{encoded}"
