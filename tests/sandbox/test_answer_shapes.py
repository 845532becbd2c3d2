"""The sandbox answers the request it got, not the spec's example verbatim: as many
images as `n` asks, base64 or URLs as `response_format` says (never both in one
item), files drawn at the requested size and format, bytes or JSON as `Accept` asks,
and the request's model, prompt and seed where the answer names them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from py302 import Client
from py302.sandbox import Sandbox
from py302.sandbox._images import VIDEO_PLACEHOLDER, render


def pixels(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        return str(image.format), image.size


@pytest.mark.parametrize("count", [1, 3])
def test_n_images_come_back_as_urls_when_asked(client: Client, count: int) -> None:
    result = client.images.generations(
        prompt="a fox", model="dall-e-3", n=count, response_format="url"
    )
    assert len(result.assets) == count
    assert all(asset.url and asset.data is None for asset in result.assets)
    for item in result.raw["data"]:
        assert "b64_json" not in item, "one form per item, not both"


def test_base64_comes_back_inline_when_asked(client: Client) -> None:
    result = client.images.generations(
        prompt="a fox", model="dall-e-2", n=2, response_format="b64_json", size="256x128"
    )
    assert len(result.assets) == 2
    for asset, item in zip(result.assets, result.raw["data"], strict=True):
        assert "url" not in item
        assert asset.data is not None
        assert pixels(asset.data) == ("PNG", (256, 128))


def test_files_are_drawn_at_the_requested_size_and_format(client: Client) -> None:
    result = client.images.generations(
        prompt="a fox", model="dall-e-3", size="1024x1792", response_format="url"
    )
    assert pixels(result.asset.read()) == ("PNG", (1024, 1792))
    wide = client.hosted.sdxl_lightning(prompt="a fox", image_size={"width": 640, "height": 360})
    assert pixels(wide.asset.read()) == ("JPEG", (640, 360))
    webp = client.images.generations(
        prompt="a fox", model="gpt-image-1", output_format="webp", response_format="url"
    )
    assert pixels(webp.asset.read())[0] == "WEBP"


def test_accept_picks_bytes_or_json(client: Client) -> None:
    as_bytes = client.stability.generate_core(prompt="a fox", output="bytes", output_format="jpeg")
    assert isinstance(as_bytes.data, bytes)
    assert pixels(as_bytes.data)[0] == "JPEG"
    as_json = client.stability.generate_core(prompt="a fox", output="json")
    assert not isinstance(as_json.data, bytes)
    assert as_json.assets


def test_the_request_s_model_prompt_and_seed_are_echoed(client: Client, sandbox: Sandbox) -> None:
    task = client.unified.generate(
        model="seedream-4", prompt="a paper boat", run_async=True, extra_body={"seed": 4242}
    )
    finished = task.wait()
    assert finished.raw["model"] == "seedream-4"
    assert finished.raw["req"]["prompt"] == "a paper boat"
    mj = client.midjourney.imagine(prompt="a glass whale").wait()
    assert mj.raw["prompt"] == "a glass whale"
    size = {"width": 512, "height": 512}
    seeded = client.hosted.sdxl_lightning(prompt="x", image_size=size, extra_body={"seed": 77})
    assert seeded.raw["seed"] == 77
    # What the request did not give stays the example's.
    unseeded = client.hosted.sdxl_lightning(prompt="x", image_size=size)
    assert isinstance(unseeded.raw["seed"], int)
    assert unseeded.raw["seed"] != 77
    assert sandbox.state.bodies[0]["seed"] == 4242


@pytest.mark.parametrize(
    ("extension", "check"),
    [
        ("svg", lambda data: data.startswith(b"<svg") and b"a fox" in data),
        ("gif", lambda data: pixels(data) == ("GIF", (64, 48))),
        ("glb", lambda data: data[:4] == b"glTF"),
        ("mp4", lambda data: data[4:8] == b"ftyp" and VIDEO_PLACEHOLDER in data),
    ],
)
def test_result_files_of_every_kind_are_real_files(extension: str, check: Any) -> None:
    data = render("a fox", extension, (64, 48))
    assert check(data)
    if extension == "mp4":  # every box's length adds up to the file: a parseable container
        offset, kinds = 0, []
        while offset < len(data):
            length = int.from_bytes(data[offset : offset + 4], "big")
            kinds.append(data[offset + 4 : offset + 8])
            offset += length
        assert offset == len(data)
        assert kinds == [b"ftyp", b"moov", b"free"]
