"""Writing results to disk without ever leaving a half-written file behind."""

from __future__ import annotations

import contextlib
import functools
import mimetypes
import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ._errors import DownloadError, Py302Error

if TYPE_CHECKING:
    import httpx

__all__ = [
    "MAX_DOWNLOAD_BYTES",
    "DownloadTooLargeError",
    "atomic_write",
    "atomic_write_async",
    "check_download_url",
    "download_error",
    "is_folder",
    "target_path",
]

# Generated images are a few MB; a video may reach hundreds. Beyond this is a mistake.
MAX_DOWNLOAD_BYTES = 2 * 1024**3
# Well under the 255 bytes most file systems allow, leaving room for the `.part` suffix.
MAX_NAME = 120
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class DownloadTooLargeError(Py302Error, ValueError):
    """Raised when a download would exceed the size cap."""


def download_error(url: str, failure: httpx.Response | Exception) -> DownloadError:
    """The py302 error for a file host's error answer or a failed connection."""
    bare = urlsplit(url)._replace(query="", fragment="").geturl()
    if isinstance(failure, Exception):
        detail = str(failure) or type(failure).__name__
        return DownloadError(f"{type(failure).__name__}: {detail}", url=bare)
    return DownloadError(
        f"HTTP {failure.status_code} {failure.reason_phrase}", url=bare, status=failure.status_code
    )


def check_download_url(url: str) -> str:
    """Accept only http(s) URLs for downloads; anything else is refused."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in {"http", "https"}:
        raise ValueError(f"refusing to download {scheme or 'scheme-less'} URL {url[:80]!r}")
    return url


def target_path(
    destination: str | os.PathLike[str], *, suggested: str | None, mime_type: str | None, index: int
) -> Path:
    """Where to save: `destination` itself, or a safe file name inside it if it is a folder.

    `destination` is a folder when it exists as one, ends with a separator, or has no
    file extension (`out`, `out/`); otherwise it is the file to write (`out/cat.png`).
    A server-supplied name is reduced to its last path segment and to safe characters,
    so it can never point outside the folder.
    """
    path = Path(destination)
    if not is_folder(destination):
        return path
    name = _SAFE_NAME.sub("_", Path(unquote(urlsplit(suggested or "").path)).name).strip("._")
    if not name:
        name = f"result-{index}"
    if not Path(name).suffix and mime_type:
        name += mimetypes.guess_extension(mime_type) or ""
    return path / _short(name)


def _short(name: str) -> str:
    """`name` cut to `MAX_NAME` characters, keeping its extension (file systems refuse
    names over 255 bytes; a server's name can be any length)."""
    if len(name) <= MAX_NAME:
        return name
    suffix = Path(name).suffix[:16]
    return name[: MAX_NAME - len(suffix)] + suffix


def is_folder(destination: str | os.PathLike[str]) -> bool:
    """Whether a save destination names a folder (see `target_path`)."""
    path = Path(destination)
    return path.is_dir() or str(destination).endswith(("/", os.sep)) or not path.suffix


class _AtomicFile:
    """A temporary file beside `path` that replaces `path` only once complete."""

    def __init__(self, path: Path, limit: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        self._out = os.fdopen(fd, "wb")
        self._path = path
        self._limit = limit
        self._written = 0

    def write(self, chunk: bytes) -> None:
        self._written += len(chunk)
        if self._written > self._limit:
            raise DownloadTooLargeError(f"{self._path.name}: more than {self._limit} bytes")
        self._out.write(chunk)

    def __enter__(self) -> _AtomicFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            if exc_type is None:
                self._out.flush()
                os.fsync(self._out.fileno())
        finally:
            self._out.close()
        if exc_type is None:
            try:
                # mkstemp makes files private (0600); a saved result gets the usual mode.
                os.chmod(self._temp, 0o666 & ~_umask())
                os.replace(self._temp, self._path)
            except OSError:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._temp)
                raise
            # Leftovers of earlier attempts at this file (a killed process) go too.
            for stale in self._path.parent.glob(f".{self._path.name}.*.part"):
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._temp)


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    # The only portable way to read the umask is to set it; done once, at first save.
    current = os.umask(0o022)
    os.umask(current)
    return current


def atomic_write(path: Path, chunks: Iterable[bytes], *, limit: int = MAX_DOWNLOAD_BYTES) -> Path:
    """Write `chunks` to a temporary file beside `path`, then rename it into place."""
    with _AtomicFile(path, limit) as out:
        for chunk in chunks:
            out.write(chunk)
    return path


async def atomic_write_async(
    path: Path, chunks: AsyncIterator[bytes], *, limit: int = MAX_DOWNLOAD_BYTES
) -> Path:
    """The async twin of `atomic_write` (file writes stay blocking: they are local)."""
    with _AtomicFile(path, limit) as out:
        async for chunk in chunks:
            out.write(chunk)
    return path
