"""Image generation end to end on the sandbox (a real loopback socket): Midjourney's
imagine → action → fetch chain, a 302 V2 task whose webhook the sandbox delivers and
the client confirms by fetching, Wavespeed's submit → poll → files, and local files
given where an image goes in, encoded as each field declares."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from py302 import (
    Client,
    ConfigurationError,
    InvalidWebhookError,
    Journal,
    NotFoundError,
    PluginHost,
    RequestValidationError,
    TaskStatus,
)
from py302.sandbox import Sandbox

from .conftest import ManualClock

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg=="
)


def test_midjourney_imagine_then_a_button_then_fetch(client: Client, sandbox: Sandbox) -> None:
    grid = client.midjourney.imagine(prompt="a lighthouse at dusk", mode="mj-relax")
    result = grid.wait()
    assert str(result.asset.url).startswith(sandbox.base_url + "/sandbox/files/")
    buttons = {
        button.label: button.customId for button in result.data.buttons or [] if button.customId
    }
    assert "U1" in buttons, "the finished task keeps the buttons an action needs"

    upscale = client.midjourney.action(customId=buttons["U1"], taskId=grid.id, mode="mj-relax")
    assert upscale.id != grid.id
    upscaled = upscale.wait()
    fetched = client.midjourney.fetch(id=upscale.id, mode="mj-relax")

    assert fetched.data.status == "SUCCESS"
    assert upscaled.assets
    submitted = [body for body in sandbox.state.bodies if isinstance(body, dict) and body]
    assert submitted[0]["prompt"] == "a lighthouse at dusk"
    assert submitted[1] == {"customId": buttons["U1"], "taskId": grid.id}
    paths = [line.split(" ", 1)[1] for line in sandbox.state.requests]
    assert "/mj-relax/submit/action" in paths
    assert all(path.startswith("/mj-relax/") for path in paths), "the mode reached every poll"


def test_midjourney_refuses_a_request_without_its_key_header(sandbox: Sandbox) -> None:
    import httpx

    answer = httpx.post(
        f"{sandbox.base_url}/mj/submit/imagine",
        json={"prompt": "x"},
        headers={"Authorization": "Bearer sandbox"},
    )
    assert answer.status_code == 401
    assert "mj-api-secret" in answer.text


class Receiver:
    """A webhook endpoint on loopback that keeps every body posted to it."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[bytes] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                receiver.bodies.append(self.rfile.read(length))
                receiver.arrived.set()
                self.send_response(status)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/302"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait(self, count: int = 1, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while len(self.bodies) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} webhook post(s) expected, got {len(self.bodies)}")
            time.sleep(0.01)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    made.thread.start()
    yield made
    made.server.shutdown()
    made.server.server_close()


@pytest.fixture
def quick_sandbox() -> Iterator[Sandbox]:
    """Tasks that finish in a fifth of a second of real time (webhooks wait for real)."""
    with Sandbox(task_seconds=0.2) as running:
        yield running


def recorded_deliveries(
    sandbox: Sandbox, count: int, seconds: float = 10
) -> list[tuple[str, str, int | str]]:
    """The sandbox's record of webhook posts, once it holds `count` of them."""
    deadline = time.monotonic() + seconds
    while len(sandbox.state.webhook_deliveries) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} delivery record(s) expected within {seconds} s")
        time.sleep(0.01)
    return list(sandbox.state.webhook_deliveries)


def test_a_v2_task_s_webhook_is_delivered_and_confirmed_by_fetching(
    quick_sandbox: Sandbox, receiver: Receiver, host: PluginHost
) -> None:
    with Client(api_key="sandbox", base_url=quick_sandbox.base_url, plugins=host) as client:
        task = client.unified.generate(
            model="flux-schnell", prompt="a red kite", run_async=True, webhook=receiver.url
        )
        receiver.wait()
        body = receiver.bodies[0]
        parsed = client.webhooks.parse(body, "unified.generate")
        assert parsed.task_id == task.id
        requests_before = len(quick_sandbox.state.requests)

        confirmed = client.webhooks.confirm(body, "unified.generate")
        assert confirmed.status is TaskStatus.SUCCEEDED
        assert not confirmed.duplicate
        assert confirmed.result is not None
        assert confirmed.result.assets
        fetches = quick_sandbox.state.requests[requests_before:]
        assert fetches == [f"GET /302/v2/image/fetch/{task.id}"], "confirmed by one fetch"

        again = client.webhooks.confirm(body, "unified.generate")  # 302 retries, or a replay
        assert again.duplicate
        assert again.result == confirmed.result
        assert len(quick_sandbox.state.requests) == requests_before + 1, "nothing fetched again"

    # The sandbox records a delivery once the receiver's answer is back, which can be
    # after the receiver has handed the body to this test.
    (delivery,) = recorded_deliveries(quick_sandbox, count=1)
    assert delivery == (receiver.url, task.id, 200)
    assert json.loads(body)["status"] == "completed"


def test_a_forged_or_broken_callback_is_not_believed(
    quick_sandbox: Sandbox, host: PluginHost
) -> None:
    with Client(api_key="sandbox", base_url=quick_sandbox.base_url, plugins=host) as client:
        forged = {"task_id": "sbx-0000000000000000", "status": "completed", "image_urls": ["x"]}
        with pytest.raises(NotFoundError):
            client.webhooks.confirm(forged, "unified.generate")
        with pytest.raises(InvalidWebhookError, match="not JSON"):
            client.webhooks.parse(b"<html>", "unified.generate")
        with pytest.raises(InvalidWebhookError, match="no task id at 'task_id'"):
            client.webhooks.parse({"status": "completed"}, "unified.generate")
        with pytest.raises(ConfigurationError, match="declares no webhook"):
            client.webhooks.parse({"id": "x"}, "unified.fetch")


def test_a_wavespeed_model_is_submitted_polled_and_read_as_files(
    client: Client, sandbox: Sandbox, clock: ManualClock
) -> None:
    task = client.wavespeed.google_imagen4(prompt="a snow leopard", aspect_ratio="16:9")
    result = task.wait()
    assert str(result.asset.url).startswith(sandbox.base_url + "/sandbox/files/")
    paths = [line for line in sandbox.state.requests if "predictions" in line]
    assert paths
    assert all(line == f"GET /ws/api/v3/predictions/{task.id}/result" for line in paths)
    assert sandbox.state.requests[0] == "POST /ws/api/v3/google/imagen4"
    assert clock.slept, "the task was polled, not answered at once"

    universal = client.wavespeed.generate(model_path="google/imagen4", prompt="a lynx")
    assert universal.wait().assets
    assert sandbox.state.requests.count("POST /ws/api/v3/google/imagen4") == 2


def test_local_files_are_encoded_as_each_field_declares(
    client: Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    picture = tmp_path / "cat.png"
    picture.write_bytes(PNG)

    # Wavespeed's edit model takes a URL or a data URI in JSON.
    client.wavespeed.wavespeed_ai_step1x_edit(prompt="add a hat", image=picture).wait()
    sent = sandbox.state.bodies[0]["image"]
    assert sent == "data:image/png;base64," + base64.b64encode(PNG).decode()

    # GPT-Image edits take the file itself, as a multipart part.
    client.images.edits(image=picture, prompt="add a hat", model="gpt-image-1")
    assert ("image", "cat.png", PNG) in sandbox.state.received_files

    # A field that takes only a public URL refuses a file unless uploads are allowed.
    with pytest.raises(RequestValidationError, match="upload_files=True"):
        client.google.flash_image_edit(prompt="x", image_urls=[picture])


def test_gpt_image_streams_partial_images_then_the_final_one(
    client: Client, sandbox: Sandbox
) -> None:
    with client.images.generations.stream(
        prompt="a paper crane", model="gpt-image-1", partial_images=1
    ) as stream:
        events = list(stream)
        result = stream.result()
    kinds = [event.type for event in events]
    assert kinds == ["image_generation.partial_image", "image_generation.completed"]
    partial = base64.b64decode(events[0].b64_json or "")
    assert partial.startswith(b"\x89PNG"), "each partial image is a picture of its own"
    assert sandbox.state.bodies[0]["stream"] is True
    assert sandbox.state.bodies[0]["partial_images"] == 1
    # The stream adds up to what the whole call answers: the final image, and its usage.
    whole = client.images.generations(prompt="a paper crane", model="gpt-image-1")
    assert result.asset.read() == base64.b64decode(events[-1].b64_json or "")
    assert result.assets[0].data == whole.assets[0].data
    assert result.usage == whole.usage
    assert result.usage is not None


def test_a_journaled_relax_task_is_resumed_on_its_relax_urls(
    sandbox: Sandbox, clock: ManualClock, host: PluginHost, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "tasks.sqlite3")
    with Client(
        api_key="sandbox",
        base_url=sandbox.base_url,
        plugins=host,
        sleep=clock.sleep,
        journal=journal,
    ) as client:
        submitted = client.midjourney.imagine(prompt="a kite", mode="mj-relax")
    (entry,) = journal.entries()
    assert entry.submit_path == {"mode": "mj-relax"}
    sandbox.state.requests.clear()
    with Client(
        api_key="sandbox", base_url=sandbox.base_url, plugins=host, sleep=clock.sleep
    ) as later:  # another process, days later: only the journal remembers the mode
        resumed = later.resume_task(entry.operation, str(entry.task_id), path=entry.submit_path)
        assert resumed.id == submitted.id
        assert resumed.wait().assets
    assert sandbox.state.requests
    assert all(
        line.startswith("GET /mj-relax/task/") for line in sandbox.state.requests if "task" in line
    )


def test_a_local_file_deep_in_gemini_parts_is_sent_as_base64(
    client: Client, sandbox: Sandbox, tmp_path: Path
) -> None:
    picture = tmp_path / "cat.png"
    picture.write_bytes(PNG)
    part = {"inlineData": {"mimeType": "image/png", "data": picture}}
    client.google.gemini_generate_content(
        contents=[{"role": "user", "parts": [{"text": "make it blue"}, part]}]
    )
    sent = sandbox.state.bodies[0]["contents"][0]["parts"][1]["inlineData"]["data"]
    assert base64.b64decode(sent) == PNG
