"""Writing results to disk without ever leaving a half-written file behind."""

from __future__ import annotations

import contextlib
import functools
import mimetypes
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ._errors import DownloadError, DownloadTooLargeError, OutputExistsError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "atomic_write",
    "atomic_write_async",
    "bounded_chunks",
    "bounded_chunks_async",
    "check_download_url",
    "download_error",
    "is_folder",
    "target_path",
]

# Well under the 255 bytes most file systems allow, leaving room for the `.part` suffix.
MAX_NAME = 120
# How many numbered names a folder save tries before giving up (`name-1.png`, ...).
MAX_FREE_NAME_TRIES = 10_000
# A `.part` file untouched this long belongs to no running save.
STALE_PART_SECONDS = 24 * 3600
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def download_error(url: str, failure: httpx.Response | Exception) -> DownloadError:
    """The py302 error for a file host's error answer or a failed connection."""
    bare = _bare(url)
    if isinstance(failure, Exception):
        detail = str(failure) or type(failure).__name__
        return DownloadError(f"{type(failure).__name__}: {detail}", url=bare)
    return DownloadError(
        f"HTTP {failure.status_code} {failure.reason_phrase}", url=bare, status=failure.status_code
    )


def bounded_chunks(chunks: Iterator[bytes], url: str, limit: int) -> Iterator[bytes]:
    """`chunks` (decoded), stopped by `DownloadTooLargeError` once past `limit` bytes."""
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise DownloadTooLargeError(url=_bare(url), limit=limit)
        yield chunk


async def bounded_chunks_async(
    chunks: AsyncIterator[bytes], url: str, limit: int
) -> AsyncIterator[bytes]:
    """The async twin of `bounded_chunks`."""
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise DownloadTooLargeError(url=_bare(url), limit=limit)
        yield chunk


def _bare(url: str) -> str:
    # Signed URLs carry their credentials in the query string.
    return urlsplit(url)._replace(query="", fragment="").geturl()


def check_download_url(url: str) -> str:
    """Accept only http(s) URLs for downloads; anything else is refused."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in {"http", "https"}:
        raise DownloadError(
            f"refusing a {scheme or 'scheme-less'} URL; only http(s) files are fetched",
            url=_bare(url)[:200],
        )
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
    """A temporary file beside `path` that takes its place only once complete.

    An existing file is never replaced unless `overwrite`: with `free_name` (a folder
    save) the next free name is taken instead (`name-1.png`, `name-2.png`, ...),
    otherwise `OutputExistsError` is raised and the new bytes are dropped. Placing is
    a hard link, which fails rather than replace, so two processes saving the same
    name at once both keep their file.
    """

    def __init__(self, path: Path, *, overwrite: bool, free_name: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        self._out = os.fdopen(fd, "wb")
        self._path = path
        self._overwrite = overwrite
        self._free_name = free_name
        self.placed = path

    def write(self, chunk: bytes) -> None:
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
        try:
            if exc_type is None:
                # mkstemp makes files private (0600); a saved result gets the usual mode.
                os.chmod(self._temp, 0o666 & ~_umask())
                self.placed = self._place()
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._temp)
        if exc_type is None:
            _sweep_stale_parts(self._path)

    def _place(self) -> Path:
        if self._overwrite:
            os.replace(self._temp, self._path)
            return self._path
        for candidate in self._candidates():
            if _link_new(self._temp, candidate):
                return candidate
        raise OutputExistsError(str(self._path))

    def _candidates(self) -> Iterator[Path]:
        yield self._path
        if self._free_name:
            stem, suffix = self._path.stem, self._path.suffix
            for number in range(1, MAX_FREE_NAME_TRIES):
                yield self._path.with_name(f"{stem}-{number}{suffix}")


def _link_new(temp: str, target: Path) -> bool:
    """Put `temp` at `target` if nothing is there; False if something is."""
    try:
        os.link(temp, target)
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: check, then rename
        if target.exists():
            return False
        os.rename(temp, target)
    return True


def _sweep_stale_parts(path: Path) -> None:
    """Remove what killed processes left of earlier saves of this name; recent `.part`
    files are spared, another process may be writing them right now."""
    cutoff = time.time() - STALE_PART_SECONDS
    for stale in path.parent.glob(f".{path.name}.*.part"):
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < cutoff:
                stale.unlink()


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    # The only portable way to read the umask is to set it; done once, at first save.
    current = os.umask(0o022)
    os.umask(current)
    return current


def atomic_write(
    path: Path, chunks: Iterable[bytes], *, overwrite: bool = False, free_name: bool = False
) -> Path:
    """Write `chunks` to a temporary file beside `path`, then move it into place;
    return where it went (see `_AtomicFile` for what happens when `path` exists)."""
    with _AtomicFile(path, overwrite=overwrite, free_name=free_name) as out:
        for chunk in chunks:
            out.write(chunk)
    return out.placed


async def atomic_write_async(
    path: Path, chunks: AsyncIterator[bytes], *, overwrite: bool = False, free_name: bool = False
) -> Path:
    """The async twin of `atomic_write` (file writes stay blocking: they are local)."""
    with _AtomicFile(path, overwrite=overwrite, free_name=free_name) as out:
        async for chunk in chunks:
            out.write(chunk)
    return out.placed
