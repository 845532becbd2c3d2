"""Real files for result URLs: small images with the prompt drawn in, a minimal GLB."""

from __future__ import annotations

import functools
import io
import json
import os
import struct
import textwrap

__all__ = ["MEDIA_TYPES", "render"]

MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "glb": "model/gltf-binary",
}


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
    if extension == "glb":
        return _glb()
    from PIL import Image, ImageDraw

    width, height = (size, size) if isinstance(size, int) else size
    if noise if noise is not None else isinstance(size, int) and size > 256:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), _colour(prompt))
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, width - 5, height - 5), outline=(255, 255, 255), width=2)
    text = "\n".join(textwrap.wrap(prompt or "(no prompt)", 30)[:12])
    draw.multiline_text((12, 12), f"py302 sandbox\n\n{text}", fill=(255, 255, 255))
    out = io.BytesIO()
    kind = {"jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP"}.get(extension, "PNG")
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
