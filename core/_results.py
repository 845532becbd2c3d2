"""What every finished call returns: a `Result`, with its files as `Asset`s."""

from __future__ import annotations

import base64
import json
import mimetypes
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

import attrs

from ._downloads import (
    atomic_write,
    atomic_write_async,
    check_download_url,
    is_folder,
    target_path,
)
from ._errors import ConfigurationError, DownloadError

__all__ = ["Asset", "Downloader", "Normalized", "Result", "Usage"]

M = TypeVar("M")


class Downloader(Protocol):
    """Fetches asset URLs for `Asset.read()` and `Asset.save()`; the client supplies it."""

    def stream(self, url: str) -> AbstractContextManager[Iterator[bytes]]:
        """Open `url` and yield its body in chunks."""
        ...

    def astream(self, url: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """The async twin of `stream`."""
        ...


@attrs.frozen(kw_only=True)
class Asset:
    """One produced file: a URL to fetch, or the bytes themselves.

    `read()` returns the bytes (downloading them if needed), `save(path)` writes them
    (a folder as `path` keeps the server's file name, made safe). Async clients use
    `aread()` and `asave()`.
    """

    url: str | None = None
    data: bytes | None = attrs.field(
        default=None, repr=lambda d: "None" if d is None else f"<{len(d)} bytes>"
    )
    mime_type: str | None = None
    name: str | None = None
    downloader: Downloader | None = attrs.field(default=None, repr=False, eq=False)

    @classmethod
    def from_base64(cls, encoded: str, *, mime_type: str | None = None) -> Asset:
        """An asset from base64 text (a `data:` URL prefix is accepted and read)."""
        if encoded.startswith("data:") and "," in encoded:
            header, encoded = encoded.split(",", 1)
            mime_type = mime_type or header[5:].split(";")[0] or None
        return cls(data=base64.b64decode(encoded), mime_type=mime_type)

    @property
    def guessed_mime_type(self) -> str | None:
        """`mime_type`, or a guess from the URL's file extension."""
        if self.mime_type:
            return self.mime_type
        if self.url:
            return mimetypes.guess_type(urlsplit(self.url).path)[0]
        return None

    def _suggested_name(self) -> str | None:
        return self.name or self.url

    def read(self) -> bytes:
        """The asset's bytes, downloaded if they are not held already."""
        if self.data is not None:
            return self.data
        with self._require_downloader().stream(self._require_url()) as chunks:
            return b"".join(chunks)

    def save(
        self, path: str | os.PathLike[str], *, index: int = 0, overwrite: bool = False
    ) -> Path:
        """Write the asset to `path` (or into the folder `path`) atomically; return the file.

        An existing file is kept: into a folder the next free name is taken
        (`cat-1.png`); to a named file `OutputExistsError` is raised, unless
        `overwrite=True`.
        """
        return self._write(self._target(path, index), **_placing(path, overwrite))

    async def aread(self) -> bytes:
        """The async twin of `read()`."""
        if self.data is not None:
            return self.data
        parts = []
        async with self._require_downloader().astream(self._require_url()) as chunks:
            async for chunk in chunks:
                parts.append(chunk)
        return b"".join(parts)

    async def asave(
        self, path: str | os.PathLike[str], *, index: int = 0, overwrite: bool = False
    ) -> Path:
        """The async twin of `save()`."""
        return await self._awrite(self._target(path, index), **_placing(path, overwrite))

    def _target(self, path: str | os.PathLike[str], index: int) -> Path:
        return target_path(
            path, suggested=self._suggested_name(), mime_type=self.guessed_mime_type, index=index
        )

    def _write(self, target: Path, *, overwrite: bool, free_name: bool) -> Path:
        if self.data is not None:
            return atomic_write(target, [self.data], overwrite=overwrite, free_name=free_name)
        with self._require_downloader().stream(self._require_url()) as chunks:
            return atomic_write(target, chunks, overwrite=overwrite, free_name=free_name)

    async def _awrite(self, target: Path, *, overwrite: bool, free_name: bool) -> Path:
        if self.data is not None:
            return atomic_write(target, [self.data], overwrite=overwrite, free_name=free_name)
        async with self._require_downloader().astream(self._require_url()) as chunks:
            return await atomic_write_async(
                target, chunks, overwrite=overwrite, free_name=free_name
            )

    def _require_url(self) -> str:
        if not self.url:
            raise DownloadError("the asset has neither bytes nor a URL", url="(no URL)")
        return check_download_url(self.url)

    def _require_downloader(self) -> Downloader:
        if self.downloader is None:
            raise ConfigurationError(
                "this asset is bound to no client, so it cannot download; use the assets "
                "of a Result a client returned"
            )
        return self.downloader


@attrs.frozen(kw_only=True)
class ToolCall:
    """A function the model asks the caller to run: the same shape whatever the format
    (a chat completion's `tool_calls`, a message's `tool_use` blocks, a `functionCall`
    part of generated content).

    `arguments` is the decoded JSON object; when a model sent arguments that are not
    valid JSON, it is the text as sent (`arguments_text` always holds the text form).
    `id` is None where the format gives none.
    """

    name: str
    arguments: Any
    id: str | None = None

    @property
    def arguments_text(self) -> str:
        """The arguments as JSON text."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False)


@attrs.frozen(kw_only=True)
class Usage:
    """What a call consumed, as far as the provider reports it."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cost: float | None = None
    unit: str | None = None


def _to_assets(assets: Iterable[Asset]) -> tuple[Asset, ...]:
    return tuple(assets)


def _to_tool_calls(calls: Iterable[ToolCall]) -> tuple[ToolCall, ...]:
    return tuple(calls)


def _placing(path: str | os.PathLike[str], overwrite: bool) -> dict[str, bool]:
    """How a save into `path` treats an existing file (see `Asset.save`)."""
    return {"overwrite": overwrite, "free_name": is_folder(path) and not overwrite}


def _distinct(targets: list[Path]) -> list[Path]:
    """`targets` with names repeated within one result numbered (`sample-1.jpeg`), so
    the files of one result never replace each other, even with overwrite."""
    seen: set[Path] = set()
    distinct = []
    for target in targets:
        candidate, number = target, 0
        while candidate in seen:
            number += 1
            candidate = target.with_name(f"{target.stem}-{number}{target.suffix}")
        seen.add(candidate)
        distinct.append(candidate)
    return distinct


@attrs.frozen(kw_only=True)
class Normalized:
    """What a provider plugin extracts from a finished payload (see the hooks)."""

    assets: tuple[Asset, ...] = attrs.field(default=(), converter=_to_assets)
    text: str | None = None
    usage: Usage | None = None
    reasoning: str | None = None
    tool_calls: tuple[ToolCall, ...] = attrs.field(default=(), converter=_to_tool_calls)


@attrs.frozen(kw_only=True)
class Result(Generic[M]):
    """A finished call, the same shape for every provider.

    `data` is the body read into the operation's generated model; `raw` is the body
    as received (JSON value or bytes), unknown fields included; `assets` are the files
    it produced; `text` any text it produced; `reasoning` the model's reasoning text
    where it shows it; `tool_calls` the functions it asks to be run; `usage` cost or
    token counts if reported.
    """

    operation: str
    data: M
    raw: Any = attrs.field(repr=False)
    assets: tuple[Asset, ...] = ()
    text: str | None = None
    usage: Usage | None = None
    reasoning: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    task_id: str | None = None
    request_id: str | None = None
    #: The task journal's row for this call, when the client keeps a journal.
    journal_entry: int | None = attrs.field(default=None, repr=False, eq=False)

    @property
    def asset(self) -> Asset:
        """The first asset; `LookupError` when the call produced none."""
        if not self.assets:
            raise LookupError(f"{self.operation}: the result has no assets")
        return self.assets[0]

    def save(self, destination: str | os.PathLike[str], *, overwrite: bool = False) -> list[Path]:
        """Save every asset into the folder `destination` (created if needed), or as the
        file `destination` when there is one asset and it has an extension; return the
        files written. Existing files are kept as `Asset.save` says, unless `overwrite`.
        """
        targets = self._targets(destination)
        placing = self._placing(destination, overwrite)
        return [asset._write(target, **placing) for asset, target in targets]

    async def asave(
        self, destination: str | os.PathLike[str], *, overwrite: bool = False
    ) -> list[Path]:
        """The async twin of `save()`."""
        targets = self._targets(destination)
        placing = self._placing(destination, overwrite)
        return [await asset._awrite(target, **placing) for asset, target in targets]

    def _targets(self, destination: str | os.PathLike[str]) -> list[tuple[Asset, Path]]:
        targets = [
            asset._target(self._place(destination, i), i) for i, asset in enumerate(self.assets)
        ]
        return list(zip(self.assets, _distinct(targets), strict=True))

    def _placing(self, destination: str | os.PathLike[str], overwrite: bool) -> dict[str, bool]:
        folder = len(self.assets) > 1 or is_folder(destination)
        return {"overwrite": overwrite, "free_name": folder and not overwrite}

    def _place(self, destination: str | os.PathLike[str], index: int) -> str | os.PathLike[str]:
        path = Path(destination)
        if len(self.assets) > 1 or is_folder(destination):
            path.mkdir(parents=True, exist_ok=True)
            return path
        return destination
