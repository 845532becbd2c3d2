"""Every exception that leaves py302 is a `Py302Error`, whatever the server or the caller does.

Each hostile case of the hardening issue, driven through the public API (and the
worst of them through the CLI), must end in the named `Py302Error` subclass: never a
raw httpx, sqlite3, OS, Unicode, recursion or runtime error.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from py302 import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    Asset,
    Client,
    ConfigurationError,
    DownloadError,
    DownloadTooLargeError,
    JournalError,
    MalformedResponseError,
    OutputExistsError,
    PluginHost,
    Py302Error,
    RequestValidationError,
    ResponseShapeError,
    ResponseTooLargeError,
    TaskTimeoutError,
)
from tests.reliability.hostile import Seen, hostile, json_answer

KEY = "sk-canary-7f3a9c1e5b2d"
Answer = Callable[[Seen], tuple[int, dict[str, str], Any]]


def client(url: str, **options: Any) -> Client:
    return Client(api_key=KEY, base_url=url, plugins=PluginHost(entry_points=False), **options)


def always(status: int, headers: dict[str, str], body: Any) -> Answer:
    return lambda seen: (status, headers, body)


def images_at(path: str, url: list[str]) -> Answer:
    """Flux answers naming one file on this server; the file itself from `path`."""

    def answer(seen: Seen) -> tuple[int, dict[str, str], Any]:
        return json_answer(200, json.dumps({"images": [{"url": url[0] + path}]}).encode())

    return answer


def trickle() -> Iterator[bytes]:
    import time

    for byte in b'{"images": []}' + b" " * 30:
        time.sleep(0.1)
        yield bytes([byte])


JSON = {"content-type": "application/json"}

# (id, the server's answer, what the caller does, the class expected)
CASES: list[tuple[str, Answer, Callable[[Client, Path], Any], type[Py302Error]]] = [
    (
        "303 redirect answering a submit",
        always(303, {"location": "http://127.0.0.1:9/x"}, b""),
        lambda c, _: c.flux.generate(model="flux-pro-1.1", prompt="x"),
        APIStatusError,
    ),
    (
        "307 redirect loop",
        lambda seen: (307, {"location": seen.path}, b""),
        lambda c, _: c.flux.dev(prompt="x"),
        APIStatusError,
    ),
    (
        "task id that is an object",
        always(200, JSON, b'{"id": {"o": 1}}'),
        lambda c, _: c.flux.generate(model="flux-pro-1.1", prompt="x"),
        ResponseShapeError,
    ),
    (
        "body that is not gzip",
        always(200, {**JSON, "content-encoding": "gzip"}, b"garbage"),
        lambda c, _: c.flux.dev(prompt="x"),
        APIConnectionError,
    ),
    (
        "HTML error page",
        always(502, {"content-type": "text/html"}, b"<title>502 Bad Gateway</title>"),
        lambda c, _: c.flux.dev(prompt="x"),
        APIStatusError,
    ),
    (
        "broken UTF-8 body",
        always(200, JSON, b'{"images": "\xff\xfe"}'),
        lambda c, _: c.flux.dev(prompt="x"),
        MalformedResponseError,
    ),
    (
        "JSON nested 100,000 deep",
        always(200, JSON, b"[" * 100_000 + b"]" * 100_000),
        lambda c, _: c.flux.dev(prompt="x"),
        MalformedResponseError,
    ),
    (
        "answer past the size cap",
        always(200, {**JSON, "content-encoding": "gzip"}, gzip.compress(b" " * 3_000_000)),
        lambda c, _: client(c.base_url, max_response_bytes=1_000_000).flux.dev(prompt="x"),
        ResponseTooLargeError,
    ),
    (
        "answer trickled past the timeout",
        lambda seen: (200, JSON, trickle()),
        lambda c, _: client(c.base_url, timeout=1.0, max_retries=0).flux.dev(prompt="x"),
        APITimeoutError,
    ),
    (
        "task that never finishes",
        lambda seen: json_answer(
            200, b'{"id": "t-1"}' if seen.method == "POST" else b'{"status": "Pending"}'
        ),
        lambda c, _: c.flux.generate(model="flux-pro-1.1", prompt="x").wait(timeout=0.5),
        TaskTimeoutError,
    ),
    (
        "download answered 404",
        lambda seen: (
            (404, {}, b"gone") if seen.path == "/f.png" else images_at("/f.png", [URL[0]])(seen)
        ),
        lambda c, tmp: c.flux.dev(prompt="x").save(tmp),
        DownloadError,
    ),
    (
        "download past the size cap",
        lambda seen: (
            (200, {"content-encoding": "gzip"}, gzip.compress(bytes(3_000_000)))
            if seen.path == "/f.png"
            else images_at("/f.png", [URL[0]])(seen)
        ),
        lambda c, tmp: (
            client(c.base_url, max_download_bytes=1_000_000).flux.dev(prompt="x").save(tmp)
        ),
        DownloadTooLargeError,
    ),
    (
        "download redirected to an unsupported scheme",
        lambda seen: (
            (302, {"location": "ftp://files.test/f.png"}, b"")
            if seen.path == "/f.png"
            else images_at("/f.png", [URL[0]])(seen)
        ),
        lambda c, _: c.flux.dev(prompt="x").asset.read(),
        DownloadError,
    ),
    (
        "download of a non-http URL",
        always(200, JSON, b'{"images": [{"url": "file:///etc/passwd"}]}'),
        lambda c, _: c.flux.dev(prompt="x").asset.read(),
        DownloadError,
    ),
    (
        "saving over an existing file",
        lambda seen: (
            (200, {}, b"new") if seen.path == "/f.png" else images_at("/f.png", [URL[0]])(seen)
        ),
        lambda c, tmp: (
            (tmp / "f.png").write_bytes(b"old") and c.flux.dev(prompt="x").save(tmp / "f.png")
        ),
        OutputExistsError,
    ),
    (
        "journal that is a folder",
        always(200, JSON, b'{"id": "t-1"}'),
        lambda c, tmp: client(c.base_url, journal=tmp).flux.generate(model="m", prompt="x"),
        JournalError,
    ),
    (
        "path value ..",
        always(200, JSON, b"{}"),
        lambda c, _: c.resume_task("kling.images_generations", ".."),
        RequestValidationError,
    ),
    (
        "NaN in the body",
        always(200, JSON, b"{}"),
        lambda c, _: c.flux.dev(prompt="x", guidance_scale=math.nan),
        RequestValidationError,
    ),
    (
        "bytes for a text field",
        always(200, JSON, b"{}"),
        lambda c, _: c.flux.dev(prompt=io.BytesIO(b"x")),  # type: ignore[arg-type]
        RequestValidationError,
    ),
    (
        "unknown operation to resume",
        always(200, JSON, b"{}"),
        lambda c, _: c.resume_task("flux.nope", "t-1"),
        ConfigurationError,
    ),
    (
        "closed client",
        always(200, JSON, b"{}"),
        lambda c, _: c.close() or c.flux.dev(prompt="x"),  # type: ignore[func-returns-value]
        ConfigurationError,
    ),
    (
        "asset bound to no client",
        always(200, JSON, b"{}"),
        lambda c, _: Asset(url="https://x.test/a.png").read(),
        ConfigurationError,
    ),
]
URL: list[str] = [""]


@pytest.mark.parametrize(
    ("answer", "act", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_each_hostile_case_ends_in_a_py302_error(
    answer: Answer,
    act: Callable[[Client, Path], Any],
    expected: type[Py302Error],
    tmp_path: Path,
) -> None:
    with hostile(answer) as api, client(api.url, max_retries=0) as c:
        URL[0] = api.url
        with pytest.raises(Py302Error) as caught:
            act(c, tmp_path)
    assert isinstance(caught.value, expected), repr(caught.value)


@pytest.mark.parametrize(
    "key", ["sk-canary\n7f3a9c", "sk-canary\x007f3a9c", "sk-canary-é7f3a9c", "sk canary"]
)
def test_a_key_that_cannot_be_sent_is_a_py302_error(key: str) -> None:
    with pytest.raises(ConfigurationError):
        Client(api_key=key)


@pytest.mark.parametrize(
    ("case", "answer"),
    [
        ("redirect", always(303, {"location": "http://127.0.0.1:9/x"}, b"")),
        ("bad gzip", always(200, {**JSON, "content-encoding": "gzip"}, b"garbage")),
        ("deep JSON", always(200, JSON, b"[" * 100_000 + b"]" * 100_000)),
        ("HTML page", always(502, {"content-type": "text/html"}, b"<title>Bad</title>")),
    ],
)
def test_the_cli_reports_hostile_answers_as_py302_errors(
    case: str, answer: Answer, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AI302_", "302AI_"))}
    with hostile(answer) as api:
        env |= {
            "AI302_API_KEY": KEY,
            "AI302_BASE_URL": api.url,
            "PY302_JOURNAL": str(tmp_path / "j.sqlite3"),
        }
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "py302",
                "run",
                "flux.dev",
                "--prompt",
                "x",
                "--out",
                str(tmp_path / "out"),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1, case
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: flux.dev")  # a py302 error names its operation ...
    assert "--debug" not in line  # ... while anything else asks for the traceback
