"""Plain OpenAPI documents (no `x-py302-*`) compile into bindings that work.

Two documents written for these tests the way vendors write theirs, one OpenAPI
3.0 (YAML) and one 3.1 (JSON), each with several operations, are compiled as a
third-party plugin would compile a vendor's published spec. The package must
import, pass `mypy --strict`, make calls through a `Client` (checked on the wire
and in what they decode), and come out byte-identical when compiled again.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from py302 import Client, RequestValidationError
from py302.codegen import generate
from py302.codegen._plain import PLAIN_NOTE
from tests.support import TEST_KEY, no_sleep, provider_host

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("plain")
    for version in ("30", "31"):
        package = f"plain{version}_bindings"
        assert generate(FIXTURES / f"plain{version}", root / package, package=package) == 0
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m.startswith(("plain30_", "plain31_"))]:
        del sys.modules[name]


def client_for(
    provider: str,
    bindings: str,
    answer: Callable[[httpx.Request], httpx.Response],
    sent: list[httpx.Request],
) -> Client:
    host = provider_host(provider, bindings)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answer(request)

    return Client(
        api_key=TEST_KEY,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        plugins=host,
        sleep=no_sleep,
    )


def test_the_packages_pass_mypy_strict(compiled: Path) -> None:
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            str(compiled / "plain30_bindings"),
            str(compiled / "plain31_bindings"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_compiling_again_gives_the_same_bytes(compiled: Path, tmp_path: Path) -> None:
    again = tmp_path / "plain30_bindings"
    assert generate(FIXTURES / "plain30", again, package="plain30_bindings") == 0
    for produced in sorted((compiled / "plain30_bindings").iterdir()):
        assert (again / produced.name).read_bytes() == produced.read_bytes(), produced.name


def test_an_openapi_30_document_makes_calls(compiled: Path) -> None:
    shop = importlib.import_module("plain30_bindings.pet_shop")
    listing = {"pets": [{"id": 1, "name": "Tom", "species": "cat"}]}  # nickname left out
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201, json={"id": 2, "name": "Rex", "species": "dog"})
        return httpx.Response(200, json=listing)

    with client_for("pet_shop", "plain30_bindings.pet_shop", answer, sent) as client:
        ops = shop.PetShopOperations(client)
        pets = ops.list_pets(species="cat", maxPrice=20)  # camelCase id -> snake_case method
        created = ops.post_pets(x_shop_clerk="ann", name="Rex", species="dog", price=None)
        with pytest.raises(RequestValidationError, match="maxPrice"):
            ops.list_pets(maxPrice=0)  # 3.0's exclusiveMinimum: true, converted
    assert pets.data.pets == [shop.PetRecord(id=1, name="Tom", species="cat", nickname=None)]
    assert pets.data.next is None  # 3.0 nullable, absent: tolerated
    assert created.data.name == "Rex"
    listed, posted = sent
    assert dict(listed.url.params) == {"species": "cat", "maxPrice": "20"}
    assert posted.headers["x-shop-clerk"] == "ann"
    assert json.loads(posted.read()) == {"name": "Rex", "species": "dog"}
    registry = json.loads((compiled / "plain30_bindings" / "pet_shop.json").read_text())
    (operation,) = [op for name, op in registry["operations"].items() if name == "list_pets"]
    assert operation["evidence"] == "upstream"
    assert operation["notes"] == PLAIN_NOTE
    assert operation["sources"] == ["plain30/pet_shop.yaml"]


def test_an_openapi_31_json_document_makes_calls(compiled: Path, tmp_path: Path) -> None:
    library = importlib.import_module("plain31_bindings.library")
    book = {"isbn": "978-0", "title": "Dune", "year": None, "tags": ["sf"]}
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(
                200, content=b"\x89PNG cover", headers={"content-type": "image/png"}
            )
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(200, json=book)

    cover = tmp_path / "cover.png"
    cover.write_bytes(b"\x89PNG original")
    with client_for("library", "plain31_bindings.library", answer, sent) as client:
        ops = library.LibraryOperations(client)
        found = ops.get_book(isbn="978-0")
        stored = ops.upload_cover(isbn="978-0", picture=cover)
        ops.withdraw_book(isbn="978-0")
    assert found.data == library.Book(isbn="978-0", title="Dune", year=None, tags=["sf"])
    assert stored.asset.read() == b"\x89PNG cover"
    got, put, deleted = sent
    assert got.url.path == "/books/978-0"  # path-level parameter
    assert b"\x89PNG original" in put.read()  # an inline multipart schema's file field
    assert (deleted.method, deleted.url.path) == ("DELETE", "/books/978-0")


def test_a_vendor_style_31_document_streams_chooses_media_and_sends_whole_bodies(
    compiled: Path, tmp_path: Path
) -> None:
    studio = importlib.import_module("plain31_bindings.studio")
    whole = {"text": "hi", "finish_reason": None, "meta": {"model": "m1", "ms": 12}}
    chunks = (
        b'data: {"delta": "h", "finish_reason": null}\n\n'
        b'data: {"delta": "i", "finish_reason": "stop"}\n\n'
        b"data: [DONE]\n\n"
    )
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/completions" and json.loads(request.read()).get("stream"):
            return httpx.Response(
                200, content=chunks, headers={"content-type": "text/event-stream"}
            )
        if request.url.path == "/completions":
            return httpx.Response(200, json=whole)
        if request.url.path == "/images/edits":
            return httpx.Response(200, json={"url": "https://example.com/e.png"})
        return httpx.Response(204)

    image = tmp_path / "in.png"
    image.write_bytes(b"\x89PNG in")
    with client_for("studio", "plain31_bindings.studio", answer, sent) as client:
        ops = studio.StudioOperations(client)
        completed = ops.create_completion(prompt="say hi")
        with ops.create_completion.stream(prompt="say hi") as stream:
            deltas = [event.delta for event in stream]
        edited = ops.edit_image(prompt="bluer", image=image)
        ops.edit_image(prompt="bluer", image_url="https://example.com/in.png",
                       content_type="application/json")  # fmt: skip
        ops.put_file(id="f1", id_query=7, body=b"\x00\x01")
        ops.set_labels(body=["a", "b"])
    # `nullable: true` in a 3.1 document still means null is allowed.
    assert completed.data.finish_reason is None
    assert completed.data.meta == {"model": "m1", "ms": 12}  # a named free-form object
    assert deltas == ["h", "i"]  # the `[DONE]` line ends the stream
    assert isinstance(edited.data, studio.NoneModel)  # a schema named None, renamed
    whole_call, streamed, multipart, as_json, stored, labels = sent
    assert json.loads(streamed.read())["stream"] is True  # the boolean `stream` field
    assert "stream" not in json.loads(whole_call.read())
    assert multipart.headers["content-type"].startswith("multipart/form-data")
    assert json.loads(as_json.read()) == {
        "prompt": "bluer",
        "image_url": "https://example.com/in.png",
    }
    assert (stored.url.path, dict(stored.url.params)) == ("/files/f1", {"id": "7"})
    assert stored.read() == b"\x00\x01"
    assert stored.headers["content-type"] == "application/octet-stream"
    assert json.loads(labels.read()) == ["a", "b"]


def test_a_default_that_breaks_its_schema_is_dropped_from_a_plain_document(
    compiled: Path,
) -> None:
    registry = json.loads((compiled / "plain31_bindings" / "studio.json").read_text())
    request = registry["components"]["schemas"]["CreateCompletionRequest"]
    assert "default" not in request["properties"]["temperature"]  # "warm" is no number
    assert request["properties"]["stream"]["default"] is False  # a good one stays
