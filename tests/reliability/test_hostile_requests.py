"""Requests never go somewhere else, and bad keys or values never leave the machine.

Each case is a hostile server of our own (`tests.reliability.hostile`) or a bad input;
each asserts the py302 error class, what was (not) sent, and that the key never shows.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pytest

from py302 import (
    APIStatusError,
    Client,
    ConfigurationError,
    PluginHost,
    RequestValidationError,
    ResponseShapeError,
)
from tests.reliability.hostile import Seen, header_auth_host, hostile, json_answer

KEY = "sk-canary-7f3a9c1e5b2d"
IMAGES = b'{"images": [{"url": "https://file.302.ai/a.png"}]}'


def client(url: str, host: PluginHost | None = None) -> Client:
    return Client(api_key=KEY, base_url=url, plugins=host or PluginHost(entry_points=False))


# -- keys that cannot be sent -------------------------------------------------------------


@pytest.mark.parametrize("bad", ["sk-abc\ndef", "sk-abc\x00def", "sk-abcdéf", "sk abc"])
def test_a_key_that_cannot_go_in_a_header_is_refused_without_showing_it(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="api_key") as caught:
        Client(api_key=bad)
    assert bad.strip() not in str(caught.value)
    assert "abc" not in str(caught.value)


def test_a_bad_key_from_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AI302_API_KEY", "sk-line\r\nX-Injected: 1")
    with pytest.raises(ConfigurationError, match="AI302_API_KEY") as caught:
        Client()
    assert "Injected" not in str(caught.value)


# -- redirects are reported, never followed -----------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_answering_a_paid_call_is_not_followed(status: int) -> None:
    with hostile(lambda seen: json_answer(200, IMAGES)) as elsewhere:
        target = f"{elsewhere.url}/steal?token=signed-secret"
        with (
            hostile(lambda seen: (status, {"location": target}, b"")) as api,
            client(api.url) as c,
            pytest.raises(APIStatusError) as caught,
        ):
            c.flux.dev(prompt="a lighthouse")
    assert caught.value.status == status
    assert len(api.seen) == 1  # sent once: a 3xx is not retried
    assert elsewhere.seen == []  # neither the prompt nor the key went there
    assert "signed-secret" not in str(caught.value)
    assert elsewhere.url in str(caught.value)


def test_a_plugin_credential_header_never_reaches_another_origin() -> None:
    host = header_auth_host("x-api-key")
    with (
        hostile(lambda seen: json_answer(200, IMAGES)) as elsewhere,
        hostile(lambda seen: (307, {"location": f"{elsewhere.url}/x"}, b"")) as api,
        client(api.url, host) as c,
        pytest.raises(APIStatusError),
    ):
        c.flux.dev(prompt="x")
    assert api.seen[0].headers["x-api-key"] == KEY  # it was the provider's auth
    assert elsewhere.seen == []


def test_a_redirect_to_a_dead_port_is_one_submit_not_three() -> None:
    with (
        hostile(lambda seen: (303, {"location": "http://127.0.0.1:9/x"}, b"")) as api,
        client(api.url) as c,
        pytest.raises(APIStatusError),
    ):
        c.flux.generate(model="flux-pro-1.1", prompt="x")
    assert len(api.seen) == 1


# -- values that would change the URL -----------------------------------------------------


@pytest.mark.parametrize("task_id", [".", ".."])
def test_dot_path_segments_are_refused_before_sending(task_id: str) -> None:
    with (
        hostile(lambda seen: json_answer(200, b"{}")) as api,
        client(api.url) as c,
        pytest.raises(RequestValidationError, match=r"'\.\.'"),
    ):
        c.resume_task("kling.images_generations", task_id)
    assert api.seen == []


@pytest.mark.parametrize("bad_id", ["..", {"o": 1}, True, ["t-1"]])
def test_a_server_task_id_that_is_no_id_is_a_shape_error(bad_id: Any) -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        return json_answer(200, json.dumps({"id": bad_id}).encode())

    with (
        hostile(answer) as api,
        client(api.url) as c,
        pytest.raises(ResponseShapeError, match="not a usable id"),
    ):
        c.flux.generate(model="flux-pro-1.1", prompt="x")
    assert [seen.method for seen in api.seen] == ["POST"]  # never polled


# -- values JSON cannot carry -------------------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_naming_the_field(value: float) -> None:
    with (
        hostile(lambda seen: json_answer(200, IMAGES)) as api,
        client(api.url) as c,
        pytest.raises(RequestValidationError) as caught,
    ):
        c.flux.dev(prompt="x", guidance_scale=value)
    assert api.seen == []
    assert ("guidance_scale", "must be a finite number: JSON has no NaN or Infinity") in (
        caught.value.problems
    )


@pytest.mark.parametrize(
    "value", [b"a cat", bytearray(b"a cat"), io.BytesIO(b"a cat"), Path("cat.txt")], ids=repr
)
def test_a_file_given_for_a_text_field_is_refused_naming_the_field(value: Any) -> None:
    with (
        hostile(lambda seen: json_answer(200, IMAGES)) as api,
        client(api.url) as c,
        pytest.raises(RequestValidationError, match=r"prompt: is a file \(\w+\)"),
    ):
        c.flux.dev(prompt=value)
    assert api.seen == []


def test_a_file_for_a_declared_binary_field_is_still_sent() -> None:
    with (
        hostile(lambda seen: json_answer(200, b'{"id": "t-1"}')) as api,
        client(api.url) as c,
    ):
        task = c.stability.upscale_creative(image=io.BytesIO(b"\x89PNG"), prompt="x")
    assert task.id == "t-1"
    assert b"\x89PNG" in api.seen[0].body
