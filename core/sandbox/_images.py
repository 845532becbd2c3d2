"""Real files for result URLs: small images with the prompt drawn in (PNG, JPEG, WEBP,
GIF, SVG), a minimal GLB, and a placeholder MP4.

The MP4 is a structurally valid ISO media file (ftyp, a movie header, no tracks) whose
`free` box says it is the sandbox's placeholder: there is no small video encoder to
draw frames with, and a video's bytes matter to py302 only as a file to save.
"""

from __future__ import annotations

import functools
import io
import json
import os
import struct
import textwrap
from xml.sax.saxutils import escape

__all__ = ["MEDIA_TYPES", "VIDEO_PLACEHOLDER", "render"]

MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "glb": "model/gltf-binary",
    "mp4": "video/mp4",
}
#: What the placeholder video says about itself, in its `free` box.
VIDEO_PLACEHOLDER = b"py302 sandbox placeholder video: a valid MP4 container with no frames"


@functools.lru_cache(maxsize=256)
def render(
    prompt: str, extension: str, size: int | tuple[int, int] = 256, *, noise: bool | None = None
) -> bytes:
    """An image showing `prompt`, `size` pixels square (or `(width, height)`), or a GLB
    for `glb`.

    With `noise` (by default: above 256 pixels square) the background is noise, so the
    file is as large as a real photograph of that size (benchmarks ask for
    multi-megabyte answers this way); otherwise it is one colour, quick to make.
    """
    width, height = (size, size) if isinstance(size, int) else size
    if extension == "glb":
        return _glb()
    if extension == "mp4":
        return _mp4()
    if extension == "svg":
        return _svg(prompt, width, height)
    from PIL import Image, ImageDraw

    if noise if noise is not None else isinstance(size, int) and size > 256:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), _colour(prompt))
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, width - 5, height - 5), outline=(255, 255, 255), width=2)
    text = "\n".join(textwrap.wrap(prompt or "(no prompt)", 30)[:12])
    draw.multiline_text((12, 12), f"py302 sandbox\n\n{text}", fill=(255, 255, 255))
    out = io.BytesIO()
    kind = {"jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}.get(extension, "PNG")
    image.save(out, format=kind)
    return out.getvalue()


def _colour(prompt: str) -> tuple[int, int, int]:
    seed = sum(prompt.encode()) if prompt else 0
    return (40 + seed % 120, 40 + (seed // 3) % 120, 40 + (seed // 7) % 120)


def _glb() -> bytes:
    """The smallest valid glTF binary: a header and an empty scene."""
    document = json.dumps({"asset": {"version": "2.0"}, "scenes": [{}], "scene": 0}).encode()
    document += b" " * (-len(document) % 4)
    chunk = struct.pack("<II", len(document), 0x4E4F534A) + document
    return struct.pack("<III", 0x46546C67, 2, 12 + len(chunk)) + chunk


def _svg(prompt: str, width: int, height: int) -> bytes:
    """A vector drawing of the prompt's colour with the prompt written on it."""
    red, green, blue = _colour(prompt)
    text = escape(prompt or "(no prompt)")[:120]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect width="100%" height="100%" '
        f'fill="rgb({red},{green},{blue})"/><text x="12" y="24" fill="white" '
        f'font-family="sans-serif" font-size="14">py302 sandbox: {text}</text></svg>'
    ).encode()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _mp4() -> bytes:
    """An MP4 with a movie header and no tracks, marked as the sandbox's placeholder."""
    brands = _box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isommp41")
    header = struct.pack(">IIIII", 0, 0, 0, 1000, 0)  # version/flags, times, timescale, 0 s
    header += struct.pack(">IHH", 0x00010000, 0x0100, 0)  # rate 1.0, volume 1.0, reserved
    header += bytes(8)  # reserved
    header += struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)  # matrix
    header += bytes(24)  # pre-defined
    header += struct.pack(">I", 1)  # next track id
    movie = _box(b"moov", _box(b"mvhd", header))
    return brands + movie + _box(b"free", VIDEO_PLACEHOLDER)
