"""Multipart bodies and header parameters reach the wire as OpenAPI's defaults say.

The `forms` fragment (fixtures/specs/forms.yaml) declares what OpenAI's and
Stability's documents do: a multipart array of files, multipart arrays of strings and
of objects beside an object field, and header parameters spelled in lower and mixed
case. Each call goes through the public client to an `httpx.MockTransport`; the
assertions are on the request sent, part by part and header by header.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
import types
from collections.abc import Callable, Iterator
from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path

import attrs
import httpx
import pytest

from py302 import Client, Py302Error
from py302.codegen import generate
from tests.support import TEST_KEY, no_sleep, provider_host

FORMS_SPEC = Path(__file__).parent / "fixtures" / "specs" / "forms.yaml"


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.ModuleType]:
    root = tmp_path_factory.mktemp("forms")
    specs = root / "specs"
    specs.mkdir()
    shutil.copy(FORMS_SPEC, specs / FORMS_SPEC.name)
    assert generate(specs, root / "forms_bindings", package="forms_bindings") == 0
    sys.path.insert(0, str(root))
    yield importlib.import_module("forms_bindings.forms")
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m.startswith("forms_bindings")]:
        del sys.modules[name]


def client_for(
    answer: Callable[[httpx.Request], httpx.Response], sent: list[httpx.Request]
) -> Client:
    host = provider_host("forms", "forms_bindings.forms")

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answer(request)

    return Client(
        api_key=TEST_KEY,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        plugins=host,
        sleep=no_sleep,
    )


@attrs.frozen
class Part:
    """One part of a multipart body, as a server reads it."""

    name: str
    filename: str | None
    content_type: str | None
    content: bytes


def parts_of(request: httpx.Request) -> list[Part]:
    """The parts of a `multipart/form-data` request, in the order sent."""
    kind, _, boundary = request.headers["content-type"].partition("; boundary=")
    assert kind == "multipart/form-data"
    preamble, *chunks, closing = request.read().split(b"--" + boundary.encode())
    assert preamble == b""
    assert closing == b"--\r\n"
    parts = []
    for chunk in chunks:
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers: Message = BytesHeaderParser().parsebytes(head)
        disposition = headers.get_params(header="content-disposition") or []
        params = dict(disposition[1:])
        parts.append(
            Part(
                name=str(params["name"]),
                filename=str(params["filename"]) if "filename" in params else None,
                content_type=headers.get("content-type"),
                content=content.removesuffix(b"\r\n"),
            )
        )
    return parts


def test_an_array_of_file_paths_uploads_each_file(forms: types.ModuleType, tmp_path: Path) -> None:
    first, second = tmp_path / "dawn.png", tmp_path / "dusk.jpg"
    first.write_bytes(b"\x89PNG dawn")
    second.write_bytes(b"\xff\xd8 dusk")
    sent: list[httpx.Request] = []
    answer = {"id": "a1", "pictures": 2}
    with client_for(lambda request: httpx.Response(200, json=answer), sent) as client:
        result = forms.FormsOperations(client).upload_album(
            pictures=[str(first), str(second)], title="Loch"
        )
    (request,) = sent
    assert parts_of(request) == [  # not form-urlencoded, not the paths as text
        Part("pictures", "dawn.png", "image/png", b"\x89PNG dawn"),
        Part("pictures", "dusk.jpg", "image/jpeg", b"\xff\xd8 dusk"),
        Part("title", None, None, b"Loch"),
    ]
    assert result.data == forms.Album(id="a1", pictures=2)


def test_an_array_of_file_paths_beside_a_file_uploads_each_file(
    forms: types.ModuleType, tmp_path: Path
) -> None:
    cover, inside = tmp_path / "cover.png", tmp_path / "inside.png"
    cover.write_bytes(b"\x89PNG cover")
    inside.write_bytes(b"\x89PNG inside")
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(200, json={"id": "a2"}), sent) as client:
        forms.FormsOperations(client).upload_album(
            pictures=[str(inside), b"raw bytes"], cover=cover
        )
    assert parts_of(sent[0]) == [  # not one text part holding the JSON list of paths
        Part("pictures", "inside.png", "image/png", b"\x89PNG inside"),
        Part("pictures", "pictures", "application/octet-stream", b"raw bytes"),
        Part("cover", "cover.png", "image/png", b"\x89PNG cover"),
    ]


def test_a_path_to_no_file_is_refused_before_sending(
    forms: types.ModuleType, tmp_path: Path
) -> None:
    real = tmp_path / "real.png"
    real.write_bytes(b"\x89PNG")
    missing = str(tmp_path / "missing.png")
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(200, json={"id": "a3"}), sent) as client:
        ops = forms.FormsOperations(client)
        with pytest.raises(Py302Error, match=r"pictures: no file at .*missing\.png"):
            ops.upload_album(pictures=[str(real), missing])
        with pytest.raises(Py302Error, match=r"cover: no file at .*missing\.png"):
            ops.upload_album(pictures=[real], cover=missing)
    assert sent == []


def test_multipart_arrays_are_one_part_per_item_and_objects_are_json(
    forms: types.ModuleType,
) -> None:
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(200, json={"id": "p1"}), sent) as client:
        forms.FormsOperations(client).paint(
            text_prompts=[
                forms.TextPrompt(text="a lighthouse", weight=1.0),
                forms.TextPrompt(text="blurry", weight=-0.5),
            ],
            tags=["sea", "night"],
            style=forms.Style(name="ink", strength=0.5),
            seed=7,
            tiled=True,
        )
    (request,) = sent
    json_part = "application/json"
    assert parts_of(request) == [
        Part("text_prompts", None, json_part, b'{"text": "a lighthouse", "weight": 1.0}'),
        Part("text_prompts", None, json_part, b'{"text": "blurry", "weight": -0.5}'),
        Part("tags", None, None, b"sea"),
        Part("tags", None, None, b"night"),
        Part("style", None, json_part, b'{"name": "ink", "strength": 0.5}'),
        Part("seed", None, None, b"7"),
        Part("tiled", None, None, b"true"),
    ]


def test_a_lower_case_accept_parameter_replaces_the_default(forms: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(200, json={"id": "p1"}), sent) as client:
        ops = forms.FormsOperations(client)
        ops.get_painting(painting_id="p1", accept="image/png")
        ops.get_frame(painting_id="p1", accept="image/png")
    for request in sent:  # declared as `accept`, then as `Accept`: each sent once
        assert request.headers.get_list("accept") == ["image/png"]


def test_no_header_is_sent_twice_whatever_its_case(forms: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(200, json={"id": "p1"}), sent) as client:
        forms.FormsOperations(client).get_frame(
            painting_id="p1",
            accept="image/png",
            x_frame_style="oak",
            extra_headers={"accept": "application/json", "user-agent": "forms-test/1"},
        )
    (request,) = sent
    names = [name.lower() for name, _ in request.headers.raw]
    assert sorted(set(names)) == sorted(names)
    assert request.headers.get_list("accept") == ["application/json"]  # extra_headers win
    assert request.headers.get_list("user-agent") == ["forms-test/1"]
    assert request.headers.get_list("x-frame-style") == ["oak"]
    assert request.headers.get_list("authorization") == [f"Bearer {TEST_KEY}"]


def test_a_json_part_keeps_text_beyond_ascii(forms: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(200, json={"id": "p2"}), sent) as client:
        forms.FormsOperations(client).paint(
            text_prompts=[forms.TextPrompt(text="café \u2603")],
        )
    (part,) = parts_of(sent[0])
    assert part.content_type == "application/json"
    assert json.loads(part.content) == {"text": "café \u2603"}
