"""Where a call goes and which headers carry the key, as the spec declares them.

The `routes` fragment (fixtures/routes/routes.yaml) declares a mode in the path with a
default, a task whose poll and cancel URLs repeat the submit's mode, a model path
whose slashes separate segments, and security schemes other than Bearer. Each call
goes through the public client to an `httpx.MockTransport`; the assertions are on
the requests sent.
"""

from __future__ import annotations

import base64
import importlib
import json
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from py302 import (
    Client,
    ConfigurationError,
    PluginHost,
    Provider,
    RequestValidationError,
    TaskStatus,
    hookimpl,
)
from py302.codegen import generate
from py302.codegen._errors import CodegenError
from tests.support import TEST_KEY, no_sleep, provider_host

FIXTURE = Path(__file__).parent / "fixtures" / "routes"


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.ModuleType]:
    root = tmp_path_factory.mktemp("routes")
    assert generate(FIXTURE, root / "routes_bindings", package="routes_bindings") == 0
    sys.path.insert(0, str(root))
    yield importlib.import_module("routes_bindings.routes")
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m.startswith("routes_bindings")]:
        del sys.modules[name]


def client_for(
    answer: Callable[[httpx.Request], httpx.Response],
    sent: list[httpx.Request],
    api_key: str | None = TEST_KEY,
) -> Client:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answer(request)

    return Client(
        api_key=api_key,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        plugins=provider_host("routes", "routes_bindings.routes"),
        sleep=no_sleep,
    )


def job_server(request: httpx.Request) -> httpx.Response:
    """A drawing service: submit answers a job id; the first fetch says running, the
    next done; cancel acknowledges."""
    path = request.url.path
    if path.endswith("/submit/draw"):
        return httpx.Response(200, json={"code": 1, "result": "J1"})
    if path.endswith("/cancel"):
        return httpx.Response(200, json={"code": 1, "result": "J1"})
    fetches = getattr(job_server, "fetches", 0) + 1
    job_server.fetches = fetches  # type: ignore[attr-defined]
    status = "IN_PROGRESS" if fetches % 2 else "SUCCESS"
    return httpx.Response(
        200, json={"id": "J1", "status": status, "imageUrl": "https://files.example/j1.png"}
    )


def test_a_path_parameter_with_a_default_may_be_left_out(routes: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(job_server, sent) as client:
        routes.RoutesOperations(client).draw(prompt="a fox").wait()
    assert [request.url.path for request in sent][:2] == [
        "/fast/submit/draw",
        "/fast/task/J1/fetch",
    ]


def test_the_submit_mode_reaches_the_poll_and_the_cancel(routes: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(job_server, sent) as client:
        ops = routes.RoutesOperations(client)
        result = ops.draw(prompt="a fox", mode="slow").wait()
        task = ops.draw(prompt="a hare", mode="turbo")
        task.cancel()
    assert result.asset.url == "https://files.example/j1.png"
    paths = [request.url.path for request in sent]
    assert paths[:3] == ["/slow/submit/draw", "/slow/task/J1/fetch", "/slow/task/J1/fetch"]
    assert paths[3:] == ["/turbo/submit/draw", "/turbo/task/J1/cancel", "/turbo/task/J1/fetch"]


def test_a_mode_outside_the_enum_is_refused_before_sending(routes: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(job_server, sent) as client, pytest.raises(RequestValidationError) as caught:
        routes.RoutesOperations(client).draw(prompt="a fox", mode="warp")
    assert "mode" in str(caught.value)
    assert sent == []


def test_every_declared_key_header_is_sent(routes: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(job_server, sent) as client:
        routes.RoutesOperations(client).draw(prompt="a fox").wait()
    for request in sent:  # the submit, and the polls: the document's security holds for all
        assert request.headers["authorization"] == f"Bearer {TEST_KEY}"
        assert request.headers["x-route-secret"] == TEST_KEY


def test_an_operation_s_own_security_replaces_the_document_s(routes: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(lambda _: httpx.Response(200, json={"id": "x"}), sent) as client:
        routes.RoutesOperations(client).run_model(model_path="vendor/model", prompt="a fox")
    (request,) = sent
    assert request.headers["x-route-secret"] == TEST_KEY
    assert "authorization" not in request.headers


def test_an_operation_without_security_needs_no_key(routes: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(lambda _: httpx.Response(200, json={"id": "x"}), sent, api_key=None) as client:
        routes.RoutesOperations(client).health()
        with pytest.raises(ConfigurationError, match="no API key"):
            routes.RoutesOperations(client).run_model(model_path="vendor/model", prompt="x")
    (request,) = sent
    assert "authorization" not in request.headers
    assert "x-route-secret" not in request.headers


def test_slashes_of_a_model_path_separate_segments(routes: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(lambda _: httpx.Response(200, json={"id": "x"}), sent) as client:
        ops = routes.RoutesOperations(client)
        ops.run_model(model_path="google/imagen4", prompt="a fox")
        ops.run_model(model_path="vendor/model v2?x", prompt="a fox")
    assert sent[0].url.raw_path == b"/models/google/imagen4"
    assert sent[1].url.raw_path == b"/models/vendor/model%20v2%3Fx"  # segments still encoded


@pytest.mark.parametrize("model_path", ["../admin", "vendor//model", "/vendor/model", "a/./b"])
def test_a_model_path_that_would_change_the_url_is_refused(
    routes: types.ModuleType, model_path: str
) -> None:
    sent: list[httpx.Request] = []
    with client_for(job_server, sent) as client, pytest.raises(RequestValidationError) as caught:
        routes.RoutesOperations(client).run_model(model_path=model_path, prompt="x")
    assert "model_path" in str(caught.value)
    assert "segment" in str(caught.value)
    assert sent == []


def test_a_security_scheme_py302_cannot_send_is_refused_by_name(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    text = (FIXTURE / "routes.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "secretHeader: {type: apiKey, in: header, name: x-route-secret}",
        "secretHeader: {type: apiKey, in: cookie, name: session}",
    )
    (specs / "routes.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CodegenError) as caught:
        generate(specs, tmp_path / "out", package="out")
    message = str(caught.value)
    assert "draw: no security requirement py302 can send" in message
    assert "'secretHeader' is apiKey cookie" in message


def upload_host() -> PluginHost:
    """The routes provider beside py302's own (whose `files.upload` turns a file into a
    URL)."""

    @hookimpl
    def py302_register_providers(register: Callable[[Provider], None]) -> None:
        register(Provider(name="routes", bindings="routes_bindings.routes"))

    plugin = types.ModuleType("routes_plugin")
    plugin.py302_register_providers = py302_register_providers  # type: ignore[attr-defined]
    return PluginHost(builtins=True, entry_points=False, plugins=[("routes", plugin)])


def file_host(request: httpx.Request) -> httpx.Response:
    """302's upload answers each file with a URL; the paint job answers with its id."""
    if request.url.path == "/302/upload-file":
        number = len([line for line in request.content.split(b"\r\n") if line == b"PNGDATA"])
        return httpx.Response(
            200, json={"code": 200, "data": f"https://file.example/{number}-{len(request.content)}"}
        )
    return httpx.Response(200, json={"id": "P1"})


def test_a_file_for_a_url_field_is_refused_unless_uploads_are_allowed(
    routes: types.ModuleType, tmp_path: Path
) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"PNGDATA")
    sent: list[httpx.Request] = []
    with client_for(file_host, sent) as client, pytest.raises(RequestValidationError) as caught:
        routes.RoutesOperations(client).paint(prompt="x", image_urls=[str(image)])
    assert "image_urls.0" in str(caught.value)
    assert "upload_files=True" in str(caught.value)
    assert sent == []


def test_files_for_url_fields_are_uploaded_when_allowed(
    routes: types.ModuleType, tmp_path: Path
) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"PNGDATA")
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return file_host(request)

    with Client(
        api_key=TEST_KEY,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        plugins=upload_host(),
        sleep=no_sleep,
        upload_files=True,
    ) as client:
        routes.RoutesOperations(client).paint(
            prompt="x",
            image_urls=[str(image), "https://already.example/dog.png"],
            style_image=b"PNGDATA",
        )
    uploads, (paint,) = sent[:-1], sent[-1:]
    assert [request.url.path for request in uploads] == ["/302/upload-file"] * 2
    for request in uploads:
        assert request.headers["content-type"].startswith("multipart/form-data")
        assert b'name="file"' in request.content
        assert request.headers["authorization"] == f"Bearer {TEST_KEY}"
    body = json.loads(paint.content)
    first, second = (f"https://file.example/1-{len(r.content)}" for r in uploads)
    assert body["image_urls"] == [first, "https://already.example/dog.png"]
    assert body["style_image"] == second
    assert "upload.py302.invalid" not in paint.content.decode()


def translator(request: httpx.Request) -> httpx.Response:
    """Quick jobs answer finished with no id; slow ones an id, polled by a POST whose
    body names it (running once, then done)."""
    body = json.loads(request.content)
    if request.url.path == "/translate":
        if body["prompt"] == "quick":
            return httpx.Response(200, json={"image": "https://files.example/quick.png"})
        return httpx.Response(200, json={"id": "T9", "status": -1})
    polls = getattr(translator, "polls", 0) + 1
    translator.polls = polls  # type: ignore[attr-defined]
    if polls == 1:
        return httpx.Response(200, json={"id": body["task_id"], "status": -1})
    done = {"id": body["task_id"], "status": 1, "image": "https://files.example/t9.png"}
    return httpx.Response(200, json={**done, "note": "Bonjour"})


def test_a_poll_that_takes_the_task_id_in_its_body(routes: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(translator, sent) as client:
        result = routes.RoutesOperations(client).translate(prompt="slow").wait()
    assert result.asset.url == "https://files.example/t9.png"
    assert result.text == "Bonjour", "read with the submit's own result block, not the poll's"
    polls = [request for request in sent if request.url.path == "/translate/query"]
    assert [json.loads(request.content) for request in polls] == [{"task_id": "T9"}] * 2


def test_a_submit_that_answers_finished_without_an_id_is_done_at_once(
    routes: types.ModuleType,
) -> None:
    sent: list[httpx.Request] = []
    with client_for(translator, sent) as client:
        task = routes.RoutesOperations(client).translate(prompt="quick")
        assert task.status is TaskStatus.SUCCEEDED
        assert task.wait().asset.url == "https://files.example/quick.png"
    assert [request.url.path for request in sent] == ["/translate"], "nothing to poll"


def test_nested_file_fields_are_found_and_encoded(routes: types.ModuleType, tmp_path: Path) -> None:
    registry = json.loads(Path(str(routes.__file__)).with_suffix(".json").read_text())
    marked = registry["operations"]["scene"]["extensions"]["x-py302-file-fields"]
    assert marked == {"reference.url": "url", "contents[].parts[].inline.data": "base64"}
    picture = tmp_path / "cat.png"
    picture.write_bytes(b"\x89PNG-cat")
    parts: list[dict[str, Any]] = [
        {"text": "hi"},
        {"inline": {"data": picture, "mime_type": "image/png"}},
    ]
    sent: list[httpx.Request] = []
    with client_for(lambda _: httpx.Response(200, json={"id": "x"}), sent) as client:
        routes.RoutesOperations(client).scene(contents=[{"parts": parts}])
        with pytest.raises(RequestValidationError) as caught:
            routes.RoutesOperations(client).scene(reference={"url": str(picture)})
    body = json.loads(sent[0].content)
    encoded = body["contents"][0]["parts"][1]["inline"]["data"]
    assert base64.b64decode(encoded) == b"\x89PNG-cat"
    assert body["contents"][0]["parts"][0] == {"text": "hi"}
    assert parts[1]["inline"]["data"] == picture, "the caller's own structure is left as it was"
    assert "reference.url" in str(caught.value)
    assert "upload_files=True" in str(caught.value)
    assert len(sent) == 1
