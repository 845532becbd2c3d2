"""A saved result never replaces another file unless asked.

BFL's result URLs all end in `sample.jpeg`, bytes answers have no name at all, and a
sandbox's counter restarts each run: names collide. Saving into a folder takes the
next free name; saving to a named file that exists raises `OutputExistsError`;
`overwrite=True` (CLI `--overwrite`) replaces. Placing a file is atomic and
refuses to replace, so two processes saving one name both keep their file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from py302 import Asset, OutputExistsError, Py302Error, Result
from py302._downloads import STALE_PART_SECONDS
from tests.reliability.hostile import Seen, hostile, json_answer

KEY = "sk-canary-7f3a9c1e5b2d"


class Files:
    """A downloader serving distinct bytes for every fetch, for asset tests."""

    def __init__(self) -> None:
        self.count = 0

    def stream(self, url: str) -> Any:
        from contextlib import contextmanager

        @contextmanager
        def opened() -> Any:
            self.count += 1
            yield iter([f"{url} #{self.count}".encode()])

        return opened()

    def astream(self, url: str) -> Any:
        raise NotImplementedError


def sample(files: Files, n: int = 1) -> Result[Any]:
    assets = tuple(
        Asset(url=f"https://delivery.test/{i}/sample.jpeg", downloader=files) for i in range(n)
    )
    return Result(operation="flux.generate", data=None, raw=None, assets=assets)


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_results_with_the_same_file_name_keep_both_files(tmp_path: Path) -> None:
    files = Files()
    first = sample(files).save(tmp_path)
    second = sample(files).save(tmp_path)
    assert [p.name for p in first + second] == ["sample.jpeg", "sample-1.jpeg"]
    assert len(set(contents(tmp_path).values())) == 2


def test_assets_of_one_result_never_replace_each_other(tmp_path: Path) -> None:
    saved = sample(Files(), 3).save(tmp_path, overwrite=True)  # even with overwrite
    assert [p.name for p in saved] == ["sample.jpeg", "sample-1.jpeg", "sample-2.jpeg"]
    assert len(set(contents(tmp_path).values())) == 3


def test_bytes_answers_do_not_all_land_on_result_0(tmp_path: Path) -> None:
    def png(data: bytes) -> Result[Any]:
        asset = Asset(data=data, mime_type="image/png")
        return Result(operation="stability.x", data=None, raw=None, assets=(asset,))

    saved = [png(b"one").save(tmp_path)[0], png(b"two").save(tmp_path)[0]]
    assert [p.name for p in saved] == ["result-0.png", "result-0-1.png"]
    assert [p.read_bytes() for p in saved] == [b"one", b"two"]


def test_a_named_file_that_exists_is_kept_unless_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "cat.jpeg"
    target.write_bytes(b"the good one")
    with pytest.raises(OutputExistsError, match="overwrite=True") as caught:
        sample(Files()).save(target)
    assert isinstance(caught.value, Py302Error)
    assert caught.value.path == str(target)
    assert target.read_bytes() == b"the good one"
    assert [p.name for p in tmp_path.iterdir()] == ["cat.jpeg"]  # no .part left
    sample(Files()).save(target, overwrite=True)
    assert target.read_bytes().endswith(b"#1")


def test_two_savers_of_one_name_at_once_both_keep_their_file(tmp_path: Path) -> None:
    start = threading.Barrier(8)
    saved: list[Path] = []

    def save(n: int) -> None:
        asset = Asset(data=f"saver {n}".encode(), mime_type="image/png", name="same.png")
        start.wait()
        saved.append(asset.save(tmp_path))

    threads = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(set(saved)) == 8
    assert sorted(p.read_bytes() for p in saved) == sorted(f"saver {n}".encode() for n in range(8))


def test_another_savers_part_file_is_spared_and_a_stale_one_swept(tmp_path: Path) -> None:
    busy = tmp_path / ".same.png.abc123.part"
    stale = tmp_path / ".same.png.old999.part"
    busy.write_bytes(b"being written by another process")
    stale.write_bytes(b"left by a killed process")
    long_ago = time.time() - STALE_PART_SECONDS - 60
    os.utime(stale, (long_ago, long_ago))
    Asset(data=b"x", name="same.png").save(tmp_path)
    assert busy.exists()
    assert not stale.exists()


# -- the command line ---------------------------------------------------------------------


def cli(url: str, *args: str, journal: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI302_", "302AI_"))}
    env |= {"AI302_API_KEY": KEY, "AI302_BASE_URL": url, "PY302_JOURNAL": str(journal)}
    return subprocess.run(
        [sys.executable, "-m", "py302", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def bfl_like(url: list[str], counter: list[int]) -> Any:
    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if seen.path.endswith("/sample.jpeg"):
            counter[0] += 1
            return 200, {"content-type": "image/jpeg"}, f"image {counter[0]}".encode()
        body = f'{{"images": [{{"url": "{url[0]}/delivery/sample.jpeg"}}]}}'
        return json_answer(200, body.encode())

    return answer


def test_two_cli_runs_into_one_folder_keep_both_files(tmp_path: Path) -> None:
    url: list[str] = []
    with hostile(bfl_like(url, [0])) as api:
        url.append(api.url)
        out = tmp_path / "out"
        for _ in range(2):
            done = cli(
                api.url,
                "run",
                "flux.dev",
                "--prompt",
                "x",
                "--out",
                str(out),
                journal=tmp_path / "j.sqlite3",
            )
            assert done.returncode == 0, done.stderr
        assert contents(out) == {"sample.jpeg": b"image 1", "sample-1.jpeg": b"image 2"}
        done = cli(
            api.url,
            "run",
            "flux.dev",
            "--prompt",
            "x",
            "--out",
            str(out),
            "--overwrite",
            journal=tmp_path / "j.sqlite3",
        )
        assert done.returncode == 0, done.stderr
        assert contents(out)["sample.jpeg"] == b"image 3"


def test_an_out_folder_that_cannot_be_written_is_refused_before_paying(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with hostile(lambda seen: json_answer(200, b'{"images": []}')) as api:
        done = cli(
            api.url,
            "run",
            "flux.dev",
            "--prompt",
            "x",
            "--out",
            str(blocker / "sub"),
            journal=tmp_path / "j.sqlite3",
        )
    assert done.returncode == 2
    assert "--out" in done.stderr
    assert "cannot write there" in done.stderr
    assert api.seen == []  # nothing sent, nothing paid
