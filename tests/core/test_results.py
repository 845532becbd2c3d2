"""Results and downloads: safe names, atomic writes, nothing half-written."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from py302 import Asset, DownloadError, Result
from py302._downloads import check_download_url, target_path


class Downloads:
    """A `Downloader` serving fixed bodies; `fail_after` breaks a stream midway."""

    def __init__(self, body: bytes, fail_after: int | None = None) -> None:
        self.body = body
        self.fail_after = fail_after
        self.urls: list[str] = []

    @contextlib.contextmanager
    def stream(self, url: str) -> Iterator[Iterator[bytes]]:
        self.urls.append(url)

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(self.body), 4):
                if self.fail_after is not None and start >= self.fail_after:
                    raise ConnectionResetError("reset mid-body")
                yield self.body[start : start + 4]

        yield chunks()

    def astream(self, url: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[bytes]]:
        raise NotImplementedError


def test_save_into_folder_uses_a_safe_server_name(tmp_path: Path) -> None:
    asset = Asset(
        url="https://file.302.ai/a/b/..%2F..%2Fevil%20name.png", downloader=Downloads(b"PNGDATA!")
    )
    saved = asset.save(tmp_path)
    assert saved.parent == tmp_path
    assert saved.read_bytes() == b"PNGDATA!"
    assert ".." not in saved.name


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "..", ""])
def test_target_path_never_leaves_the_folder(tmp_path: Path, name: str) -> None:
    path = target_path(tmp_path, suggested=name, mime_type="image/png", index=3)
    assert path.parent == tmp_path
    assert path.name not in {"", ".", ".."}


def test_saved_files_get_the_usual_permissions(tmp_path: Path) -> None:
    saved = Asset(data=b"PNG", mime_type="image/png").save(tmp_path / "a.png")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o666 & ~umask


def test_failed_download_leaves_the_old_file_untouched(tmp_path: Path) -> None:
    good = tmp_path / "image.png"
    good.write_bytes(b"the good one")
    asset = Asset(
        url="https://file.302.ai/image.png", downloader=Downloads(b"0123456789abcdef", fail_after=8)
    )
    with pytest.raises(ConnectionResetError):
        asset.save(good)
    assert good.read_bytes() == b"the good one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.png"]


def test_only_http_urls_are_downloaded() -> None:
    with pytest.raises(DownloadError, match="refusing"):
        check_download_url("file:///etc/passwd")
    asset = Asset(url="ftp://host/x.png", downloader=Downloads(b""))
    with pytest.raises(DownloadError, match="refusing"):
        asset.read()


def test_base64_and_data_urls() -> None:
    asset = Asset.from_base64("data:image/png;base64,UE5H")
    assert asset.read() == b"PNG"
    assert asset.mime_type == "image/png"
    assert "bytes" in repr(asset)


def test_result_save_many_assets_into_a_new_folder(tmp_path: Path) -> None:
    downloads = Downloads(b"data")
    result: Result[None] = Result(
        operation="p.op",
        data=None,
        raw={},
        assets=(
            Asset(url="https://h/one.png", downloader=downloads),
            Asset(url="https://h/two.jpg", downloader=downloads),
        ),
    )
    saved = result.save(tmp_path / "out")
    assert [p.name for p in saved] == ["one.png", "two.jpg"]


def test_result_without_assets_says_so() -> None:
    result: Result[None] = Result(operation="p.op", data=None, raw={})
    with pytest.raises(LookupError, match="no assets"):
        _ = result.asset
