"""Image processing end to end through the command line, as a user runs it: `py302 run`
in a process of its own, without a key (so against the built-in sandbox), a local
image given as a path, the result saved (or printed, for text)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from tests.cli.test_commands import py302

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg=="
)


@pytest.fixture
def cat(tmp_path: Path) -> Path:
    picture = tmp_path / "cat.png"
    picture.write_bytes(PNG)
    return picture


def run(*args: str, cwd: Path) -> dict[str, object]:
    done = py302("run", *args, "--json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    outcome: dict[str, object] = json.loads(done.stdout)
    return outcome


def saved(outcome: dict[str, object], cwd: Path) -> list[Path]:
    """The files the command says it saved (paths as printed, relative to its folder)."""
    files = [cwd / str(path) for path in outcome["saved"]]  # type: ignore[attr-defined]
    assert files, outcome
    assert all(path.is_file() for path in files)
    return files


def test_a_302_tool_task_takes_a_local_file_and_saves_its_result(cat: Path, tmp_path: Path) -> None:
    outcome = run("tools.super_upscale", "--image", str(cat), "--out", "out", cwd=tmp_path)
    assert outcome["task_id"], "submitted, then polled through tools.fetch"
    (image,) = saved(outcome, tmp_path)
    assert image.parent == tmp_path / "out"  # where --out said
    with Image.open(image) as opened:
        opened.verify()


def test_a_comfyui_workflow_task_takes_two_local_files(cat: Path, tmp_path: Path) -> None:
    outcome = run(
        "comfyui.create_face_swapper_task",
        "--faceImageFile",
        str(cat),
        "--targetImageFile",
        str(cat),
        "--out",
        "out",
        cwd=tmp_path,
    )
    assert outcome["task_id"]
    assert all(path.stat().st_size > 0 for path in saved(outcome, tmp_path))


def test_a_bria_call_sends_the_file_and_saves_the_image(cat: Path, tmp_path: Path) -> None:
    outcome = run("bria.remove_background", "--file", str(cat), "--out", "out", cwd=tmp_path)
    (image,) = saved(outcome, tmp_path)
    assert image.read_bytes()[:4] == b"\x89PNG"


def test_a_3d_task_uploads_its_picture_and_saves_a_glb(cat: Path, tmp_path: Path) -> None:
    refused = py302(
        "run", "hyper3d.generate", "--input-image-urls", json.dumps([str(cat)]), cwd=tmp_path
    )
    assert refused.returncode != 0
    assert "upload_files=True" in refused.stderr or "--upload-files" in refused.stderr
    outcome = run(
        "hyper3d.generate",
        "--input-image-urls",
        json.dumps([str(cat)]),
        "--upload-files",
        "--out",
        "out",
        cwd=tmp_path,
    )
    models = [path for path in saved(outcome, tmp_path) if path.suffix == ".glb"]
    assert models
    assert models[0].read_bytes()[:4] == b"glTF"


def test_a_call_whose_result_is_text_prints_it(cat: Path, tmp_path: Path) -> None:
    done = py302("run", "bria.caption", "--file", str(cat), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "the caption is printed"
    as_json = run("bria.caption", "--file", str(cat), cwd=tmp_path)
    assert as_json["text"] == done.stdout.strip()


def test_a_url_only_tool_uploads_the_local_file_first(cat: Path, tmp_path: Path) -> None:
    outcome = run(
        "tools.upscale", "--image", str(cat), "--upload-files", "--out", "out", cwd=tmp_path
    )
    for path in saved(outcome, tmp_path):
        with Image.open(io.BytesIO(path.read_bytes())) as opened:
            opened.verify()
