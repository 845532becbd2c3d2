"""Files given for text fields: written into them as the spec says the field takes them.

A JSON field that takes an image as text (base64, or a `data:` URI) is marked
`x-py302-file: base64` or `x-py302-file: data-uri` in its spec; the generator lists such
fields in the registry (`x-py302-file-fields`). A caller may give such a field a local
path, `bytes` or an open file: it is read and encoded here, before the request is
checked, so what is sent is the text the field takes. A URL, a `data:` URI or text
that is no path is sent as given; a path to no file is refused before anything is sent.
A field marked `x-py302-file: url` takes a public URL only: a file given there is
uploaded first when the client allows it (see `py302._uploads`), and refused otherwise.
"""

from __future__ import annotations

import base64
import mimetypes
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ._registry import OperationSpec
from ._uploads import PendingUpload
from .payloads import sniff_mime

__all__ = ["EncodedBody", "encode_file_fields"]

#: Endings of text that is meant as a path to an image, not as base64 (which has no dot).
_FILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic")


@attrs.frozen
class EncodedBody:
    """A body with its files encoded: the problems found (`(field, rule)` pairs), and
    the files to upload before sending (their fields hold placeholders meanwhile)."""

    body: Any
    problems: list[tuple[str, str]] = attrs.field(factory=list)
    uploads: list[PendingUpload] = attrs.field(factory=list)


def encode_file_fields(spec: OperationSpec, body: Any, *, uploads: bool = False) -> EncodedBody:
    """`body` with the files given for its file-taking text fields encoded. `uploads`:
    whether a file given for a URL field may be uploaded (else it is a problem)."""
    fields = spec.extensions.get("x-py302-file-fields")
    if not isinstance(fields, Mapping) or not isinstance(body, Mapping):
        return EncodedBody(body)
    result = EncodedBody(dict(body))
    for field, encoding in fields.items():
        # A top-level wire name (which may itself hold a dot), else a nested path.
        segments = [field] if field in body else field.split(".")
        walk = _Walk(str(encoding), uploads, result)
        result.body.update(walk.at(result.body, segments, ""))
    return result


@attrs.frozen
class _Walk:
    """Encodes the files found along one marked field's path, copying what it changes."""

    encoding: str
    uploads: bool
    result: EncodedBody

    def at(self, value: Any, segments: list[str], where: str) -> Any:
        """`value` with the field at `segments` below it encoded (`where`: its place)."""
        if not segments:
            return self.field(value, where)
        head, rest = segments[0], segments[1:]
        key = head.removesuffix("[]")
        if not isinstance(value, Mapping) or key not in value:
            return value
        here = f"{where}.{key}" if where else key
        inner = value[key]
        if head.endswith("[]") and isinstance(inner, list | tuple):
            inner = [self.at(item, rest, f"{here}.{n}") for n, item in enumerate(inner)]
        elif not head.endswith("[]"):
            inner = self.at(inner, rest, here)
        return {**value, key: inner}

    def field(self, value: Any, where: str) -> Any:
        """The marked field's value (one file, or a list of them) as it takes it."""
        items = value if isinstance(value, list | tuple) else [value]
        written = []
        for number, item in enumerate(items):
            place = f"{where}.{number}" if isinstance(value, list | tuple) else where
            text, problem = self.encoded(item, place)
            if problem is not None:
                self.result.problems.append((place, problem))
            written.append(text)
        return written if isinstance(value, list | tuple) else written[0]

    def encoded(self, value: Any, where: str) -> tuple[Any, str | None]:
        """One value as the field takes it, or why it cannot be."""
        if isinstance(value, str):
            if value.startswith(("http://", "https://", "data:")) or not _names_a_file(value):
                return value, None
            path = Path(value)
        elif isinstance(value, os.PathLike):
            path = Path(value)
        elif isinstance(value, bytes | bytearray):
            return self.given(bytes(value), None, where)
        elif hasattr(value, "read"):
            content = value.read()
            content = content.encode() if isinstance(content, str) else bytes(content)
            return self.given(content, getattr(value, "name", None), where)
        else:
            return value, None
        if not path.is_file():
            return value, (
                f"no file at {str(path)!r}: pass the path of an existing file, its bytes, an "
                "open file, or the image's URL"
            )
        return self.given(path, path.name, where)

    def given(self, file: bytes | Path, name: Any, where: str) -> tuple[Any, str | None]:
        """A file as the field takes it: encoded text, or for a URL field the placeholder
        of its upload (when uploads are allowed)."""
        if self.encoding != "url":
            content = file.read_bytes() if isinstance(file, Path) else file
            return _text(content, name, self.encoding), None
        if not self.uploads:
            return None, (
                "takes a public URL, not a file: pass the image's URL, or let py302 upload "
                "the file to 302's file host with Client(upload_files=True) (the file gets a "
                "public URL; each upload is billed)"
            )
        pending = self.result.uploads
        placeholder = f"https://upload.py302.invalid/{len(pending)}/{where}"
        pending.append(PendingUpload(placeholder, file))
        return placeholder, None


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
