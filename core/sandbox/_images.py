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
def render(prompt: str, extension: str, size: int = 256) -> bytes:
    """An image of `size` pixels square showing `prompt`, or a GLB for `glb`.

    Above 256 pixels the background is noise, so the file is as large as real
    photographs of that size (benchmarks ask for multi-megabyte answers this way).
    """
    if extension == "glb":
        return _glb()
    from PIL import Image, ImageDraw

    if size > 256:
        image = Image.frombytes("RGB", (size, size), os.urandom(size * size * 3))
    else:
        image = Image.new("RGB", (size, size), _colour(prompt))
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, size - 5, size - 5), outline=(255, 255, 255), width=2)
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
