"""The generator: golden output, the features it must compile, drift, loud failures."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import re
import shutil
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from py302 import (
    Client,
    PluginHost,
    Provider,
    RequestValidationError,
    TaskSnapshot,
    TaskStatus,
    hookimpl,
)
from py302._convert import structure, unstructure
from py302._declared import DeclaredTaskPattern
from py302._tasks import TaskPattern
from py302.binding import Call, StreamCall, TaskCall, operation, streamable, streaming, task
from py302.codegen import generate, main
from py302.codegen._extensions import merged_result
from py302.codegen._load import check_document
from py302.codegen._models import prune_models
from tests.support import TEST_KEY, no_sleep

HERE = Path(__file__).parent
FIXTURE_SPECS = HERE / "fixtures" / "specs"
GOLDEN = HERE / "golden"


@pytest.fixture(scope="module")
def zoo_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The zoo fragment compiled into an importable package `zoo_bindings`."""
    root = tmp_path_factory.mktemp("zoo")
    assert generate(FIXTURE_SPECS, root / "zoo_bindings", package="zoo_bindings") == 0
    sys.path.insert(0, str(root))
    yield root / "zoo_bindings"
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m.startswith("zoo_bindings")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def zoo(zoo_dir: Path) -> types.ModuleType:
    return importlib.import_module("zoo_bindings.zoo")


@pytest.mark.parametrize(
    "name", ["zoo.py", "zoo.json", "wire.py", "wire.json", "forms.py", "forms.json", "__init__.py"]
)
def test_golden_output(zoo_dir: Path, name: str) -> None:
    produced = (zoo_dir / name).read_text(encoding="utf-8")
    golden = GOLDEN / name
    if os.environ.get("PY302_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(produced, encoding="utf-8")
    assert produced == golden.read_text(encoding="utf-8"), (
        f"{name}: generator output changed; review, then accept with PY302_UPDATE_GOLDEN=1"
    )


def test_discriminated_union_and_allof(zoo: types.ModuleType) -> None:
    adoption = structure(
        {
            "id": "a1",
            "pet": {"pet_type": "dog", "barks": 2},
            "note": None,
            "toys": [{"name": "ball"}],
        },
        zoo.Adoption,
        operation="zoo.adopt",
    )
    assert isinstance(adoption.pet, zoo.Dog)
    assert adoption.pet.barks == 2
    assert adoption.note is None
    assert adoption.toys == [zoo.Toy(name="ball")]
    owner = zoo.Owner(name="Ada", email="ada@example.com", from_="Leeds")
    assert isinstance(owner, zoo.Named), "allOf became inheritance"
    assert unstructure(owner) == {"name": "Ada", "email": "ada@example.com", "from": "Leeds"}
    assert (
        structure({"name": "Ada", "email": "e", "from": "York"}, zoo.Owner, operation="x").from_
        == "York"
    )


def test_unknown_enum_value_from_the_server_is_kept(zoo: types.ModuleType) -> None:
    walk = structure({"id": "w", "state": "teleported"}, zoo.Walk, operation="zoo.get_walk")
    assert walk.state == "teleported"
    assert not walk.state.is_known
    assert zoo.WalkState("home") is zoo.WalkState.HOME


def zoo_host(**behaviour: Any) -> PluginHost:
    """A plugin host with one plugin: the one that registers the zoo provider."""

    @hookimpl
    def py302_register_providers(register: Callable[[Provider], None]) -> None:
        register(Provider(name="zoo", bindings="zoo_bindings.zoo", **behaviour))

    plugin = types.ModuleType("zoo_plugin")
    plugin.py302_register_providers = py302_register_providers  # type: ignore[attr-defined]
    host = PluginHost(builtins=False, entry_points=False, plugins=[("zoo", plugin)])
    assert host.failures == []
    return host


def client_for(handler: httpx.MockTransport, host: PluginHost | None = None) -> Client:
    return Client(
        api_key=TEST_KEY,
        http_client=httpx.Client(transport=handler),
        plugins=host or zoo_host(),
        sleep=no_sleep,
    )


def test_json_operation_with_query_and_models(zoo: types.ModuleType) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(
            200, json={"id": "a1", "pet": {"pet_type": "cat", "meows": 1}, "size": "small"}
        )

    with client_for(httpx.MockTransport(handler)) as client:
        ops = zoo.ZooOperations(client)
        result = ops.adopt(
            pet={"pet_type": "cat", "meows": 1},
            owner=zoo.Owner(name="Ada", email="ada@example.com", from_="Leeds"),
            size="small",
            dry_run=True,
        )
        with pytest.raises(RequestValidationError) as caught:
            ops.adopt(pet={"pet_type": "cat"}, owner={"name": "Bo"}, size="huge")
    assert len(sent) == 1
    assert sent[0].url.params["dry-run"] == "true"
    assert b'"from": "Leeds"' in sent[0].read()
    assert isinstance(result.data.pet, zoo.Cat)
    assert result.data.size is zoo.Size.SMALL
    fields = dict(caught.value.problems)
    assert set(fields) == {"owner.email", "size"}


def test_options_reach_plugins_with_defaults_and_are_checked(zoo: types.ModuleType) -> None:
    seen: list[dict[str, object]] = []

    def request_headers(operation: object, call: Call[object]) -> dict[str, str]:
        seen.append(dict(call.options))
        return {"Accept": "application/json" if call.options["output"] == "json" else "image/*"}

    host = zoo_host(request_headers=request_headers)
    accepts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        accepts.append(request.headers["accept"])
        assert b'name="output"' not in request.read(), "options are never sent"
        if request.headers["accept"] == "application/json":
            return httpx.Response(200, json={"url": "https://h/p.png"})
        return httpx.Response(200, headers={"content-type": "image/png"}, content=b"PNG")

    with client_for(httpx.MockTransport(handler), host) as client:
        ops = zoo.ZooOperations(client)
        as_bytes = ops.upload_photo(photo=b"x")
        as_json = ops.upload_photo(photo=b"x", output="json")
        with pytest.raises(RequestValidationError, match="output: must be one of"):
            ops.upload_photo(photo=b"x", output="xml")
    assert seen == [{"output": "bytes"}, {"output": "json"}]
    assert accepts == ["image/*", "application/json"]
    assert as_bytes.data == b"PNG"
    assert as_json.data == zoo.PhotoStored(url="https://h/p.png")


def test_multipart_upload_and_binary_answer(zoo: types.ModuleType, tmp_path: Path) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, headers={"content-type": "image/png"}, content=b"\x89PNG-stored")

    photo = tmp_path / "rex.png"
    photo.write_bytes(b"\x89PNG-original")
    with client_for(httpx.MockTransport(handler)) as client:
        ops = zoo.ZooOperations(client)
        result = ops.upload_photo(photo=photo, caption="Rex", tags=["dog"])
        ops.upload_photo(photo=b"raw-bytes")
        with photo.open("rb") as handle:
            ops.upload_photo(photo=handle)
        with pytest.raises(RequestValidationError, match="photo: is required"):
            ops.upload_photo(photo=None, caption="no photo")
    assert result.data == b"\x89PNG-stored"
    first = sent[0].read()
    assert sent[0].headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'filename="rex.png"' in first
    assert b"\x89PNG-original" in first
    assert b'name="caption"' in first
    assert b"raw-bytes" in sent[1].read()
    assert b'filename="rex.png"' in sent[2].read()
    assert len(sent) == 3


class WalkPattern(TaskPattern):
    name = "zoo.walk"

    def snapshot(self, payload: object, response: httpx.Response | None) -> TaskSnapshot:
        state = payload.get("state") if isinstance(payload, dict) else None
        if state == "home":
            return TaskSnapshot(status=TaskStatus.SUCCEEDED, provider_status=state)
        return TaskSnapshot(status=TaskStatus.RUNNING, provider_status=state)


def test_task_with_dotted_id_and_path_parameter_poll(zoo: types.ModuleType) -> None:
    paths: list[str] = []
    answers = iter(
        [
            {"walk": {"id": "w-9"}},
            {"id": "w-9", "state": "walking"},
            {"id": "w-9", "state": "home", "metres": 812.5},
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json=next(answers))

    seen_options: list[dict[str, object]] = []

    def request_headers(operation: object, call: Call[object]) -> None:
        seen_options.append(dict(call.options))

    host = zoo_host(task_patterns={WalkPattern.name: WalkPattern}, request_headers=request_headers)
    with client_for(httpx.MockTransport(handler), host) as client:
        task = zoo.ZooOperations(client).start_walk(pet_id=3, units="imperial")
        result = task.wait()
    assert seen_options == [{"units": "imperial"}] * 3, "the submit's options carry over to polls"
    assert task.id == "w-9"
    assert paths == ["POST /zoo/pets/3/walks", "GET /zoo/walks/w-9", "GET /zoo/walks/w-9"]
    assert result.data.metres == 812.5
    assert result.data.state is zoo.WalkState.HOME


def test_drift_check_finds_edits_missing_and_stray_files(
    zoo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "zoo_bindings"
    shutil.copytree(zoo_dir, out, ignore=shutil.ignore_patterns("__pycache__"))
    assert generate(FIXTURE_SPECS, out, package="zoo_bindings", check=True) == 0

    module = out / "zoo.py"
    module.write_text(module.read_text().replace("What it is called.", "Hand edit."))
    (out / "zoo.json").unlink()
    (out / "stray.py").write_text("x = 1\n")
    capsys.readouterr()
    assert generate(FIXTURE_SPECS, out, package="zoo_bindings", check=True) == 1
    report = capsys.readouterr().out
    assert '-    """Hand edit."""' in report
    assert "zoo.json (missing)" in report
    assert "stray.py (should not exist)" in report


def test_unchanged_fragments_are_skipped(
    zoo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "zoo_bindings"
    shutil.copytree(zoo_dir, out, ignore=shutil.ignore_patterns("__pycache__"))
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    capsys.readouterr()
    assert generate(FIXTURE_SPECS, out, package="zoo_bindings") == 0
    assert "nothing to do" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


BROKEN = """
openapi: 3.1.0
info: {title: Broken, version: "1"}
x-py302-provider: broken
paths:
  /a:
    post:
      operationId: BadName
      tags: [broken]
      summary: bad id
      x-py302-doc: [x]
      x-py302-evidence: doc
      x-py302-sources: [https://example.com]
      responses: {'200': {description: ok}}
  /b:
    post:
      operationId: inline_body
      tags: [broken]
      summary: inline body, bad example, unknown poll, missing evidence notes
      x-py302-doc: [x]
      x-py302-evidence: inferred
      x-py302-sources: []
      x-py302-task: {pattern: p, poll: nowhere}
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {n: {type: integer}}}
            example: {n: "three"}
      responses: {'200': {description: ok}}
"""


def test_broken_fragment_fails_loudly_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "broken.yaml").write_text(BROKEN)
    (specs / "doc-inventory.tsv").write_text("id\tsection\ngood/id\timage\n")
    out = tmp_path / "out"
    assert main(["--specs", str(specs), "--out", str(out)]) == 2
    errors = capsys.readouterr().err
    for expected in [
        "operationId 'BadName' is not snake_case",
        "x-py302-doc id 'x' is not in doc-inventory.tsv",
        "evidence inferred needs x-py302-notes",
        "x-py302-task.poll names no operation: 'nowhere'",
        "the application/json request body must be a $ref",
        "inline_body request example at n: 'three' is not of type 'integer'",
    ]:
        assert expected in errors
    assert not out.exists()


# Operation kinds: read from the responses and x-py302-stream.


@pytest.mark.parametrize(
    ("name", "decorator", "call"),
    [
        ("adopt", operation, Call),
        ("start_walk", task, TaskCall),
        ("ask_keeper", streamable, StreamCall),
        ("watch_heartbeat", streaming, StreamCall),
    ],
)
def test_each_kind_gets_its_decorator_and_call(
    zoo: types.ModuleType, name: str, decorator: type, call: type
) -> None:
    builder: Any = zoo.ZooOperations.__dict__[name]
    returns = inspect.signature(builder.__wrapped__).return_annotation
    assert returns.startswith(f"{call.__name__}[")
    assert type(builder) is decorator


def test_streamable_builder_names_its_event_model_and_flag(zoo: types.ModuleType) -> None:
    namespace = zoo.ZooOperations(client=None)
    built = zoo.ZooOperations.ask_keeper.build(namespace, question="Where is Rex?")
    assert isinstance(built, StreamCall)
    assert (built.model, built.event_model, built.flag) == (
        zoo.KeeperAnswer,
        zoo.KeeperChunk,
        "stream",
    )
    assert built.body == {"question": "Where is Rex?"}


def test_stream_only_builder_has_no_whole_model_and_no_flag(zoo: types.ModuleType) -> None:
    built = zoo.ZooOperations.watch_heartbeat.build(zoo.ZooOperations(client=None), pet_id=3)
    assert (built.model, built.event_model, built.flag) == (Any, zoo.Heartbeat, None)
    assert built.path == {"pet_id": 3}


def test_the_stream_flag_is_no_keyword_but_stays_in_the_request_schema(
    zoo: types.ModuleType, zoo_dir: Path
) -> None:
    builder = zoo.ZooOperations.ask_keeper
    assert "stream" not in inspect.signature(builder.__wrapped__).parameters
    with pytest.raises(TypeError, match="stream"):
        builder.build(zoo.ZooOperations(client=None), question="q", stream=True)
    registry = json.loads((zoo_dir / "zoo.json").read_text(encoding="utf-8"))
    entry = registry["operations"]["ask_keeper"]
    assert [argument["wire"] for argument in entry["arguments"]] == ["question", "about"]
    schemas = registry["components"]["schemas"]
    assert schemas["KeeperQuestion"]["properties"]["stream"] == {
        "type": "boolean",
        "description": "Answer as an event stream (set by the client, not a keyword).",
    }


def test_the_registry_keeps_the_stream_block_and_the_event_stream_media(zoo_dir: Path) -> None:
    registry = json.loads((zoo_dir / "zoo.json").read_text(encoding="utf-8"))
    entry = registry["operations"]["ask_keeper"]
    assert entry["extensions"]["x-py302-stream"] == {
        "flag": "stream",
        "done": "[DONE]",
        "accumulator": "zoo.keeper",
        "text_delta": "delta.text",
    }
    media = entry["responses"]["200"]["media_types"]["text/event-stream"]
    assert media["schema"] == {"$ref": "#/components/schemas/KeeperChunk"}
    assert media["example"].endswith("data: [DONE]\n")


def test_root_result_is_every_operations_default_and_the_operations_keys_win(
    zoo_dir: Path,
) -> None:
    registry = json.loads((zoo_dir / "zoo.json").read_text(encoding="utf-8"))
    results = {
        op_id: entry["extensions"]["x-py302-result"]
        for op_id, entry in registry["operations"].items()
    }
    error = {"path": "error.code", "ok": [0], "message": "error.message"}
    assert results["adopt"] == {"text": "note", "error": error}
    assert results["ask_keeper"] == {
        "text": "answer",  # the operation's own, over the root's `note`
        "usage": {"input_tokens": "usage.asked", "output_tokens": "usage.answered"},
        "error": error,  # the root's
    }


def test_an_operation_removes_a_default_result_key_with_null() -> None:
    root = {"text": "note", "error": {"path": "code"}}
    assert merged_result(root, {"error": None, "text": "answer"}) == {"text": "answer"}
    assert merged_result(root, None) == root
    assert merged_result(None, {"text": None}) is None


# Request bodies: their fields are keywords, so no class unless something else needs one.


def test_request_bodies_have_no_class_but_what_they_nest_keeps_one(
    zoo: types.ModuleType,
) -> None:
    for body in ("AdoptRequest", "PhotoUpload", "KeeperQuestion"):
        assert not hasattr(zoo, body), body
    for nested in ("Owner", "Named", "Toy", "Size", "Pet"):
        assert hasattr(zoo, nested), nested


PRUNABLE = """
@frozen(kw_only=True)
class Base:
    a: int | None = None


@frozen(kw_only=True)
class Body(Base):
    inner: Inner | None = None
    kind: Literal["Orphan"] | None = None


@frozen(kw_only=True)
class Inner:
    x: int


@frozen(kw_only=True)
class Echoed:
    y: int


@frozen(kw_only=True)
class Orphan:
    z: int
"""


def test_pruning_keeps_what_builders_and_responses_reach() -> None:
    def op(body: str, answer: str) -> dict[str, Any]:
        ref = {"schema": {"$ref": f"#/components/schemas/{body}"}}
        answered = {"schema": {"$ref": f"#/components/schemas/{answer}"}}
        return {
            "operationId": body.lower(),
            "requestBody": {"content": {"application/json": ref}},
            "responses": {"200": {"content": {"application/json": answered}}},
        }

    document = {
        "paths": {"/a": {"post": op("Body", "Echoed")}, "/b": {"post": op("Echoed", "Echoed")}}
    }
    kept = prune_models(PRUNABLE, document, used={"Inner"})  # Body.inner is a keyword
    defined = {node.name for node in ast.parse(kept).body if isinstance(node, ast.ClassDef)}
    # Inner: a builder names it; Echoed: a request body, but also an answer. Dropped:
    # Body (a request body only), Base (only Body's base), Orphan (reached by nothing: a
    # Literal value that spells its name is no reference).
    assert defined == {"Inner", "Echoed"}


def _references(module: Path) -> tuple[set[str], set[str]]:
    """The classes a generated module defines, and the names its code and registry use."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    defined: set[str] = set()
    used: set[str] = set()
    for node in tree.body:
        own = node.name if isinstance(node, ast.ClassDef) else None
        if own and not own.endswith("Operations"):
            defined.add(own)
        used |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id != own}
    registry = json.loads(module.with_suffix(".json").read_text(encoding="utf-8"))
    text = json.dumps(
        [[op["responses"], op.get("webhook")] for op in registry["operations"].values()]
    )
    used |= {ref.rsplit("/", 1)[-1] for ref in re.findall(r'"\$ref": "([^"]+)"', text)}
    return defined, used


@pytest.mark.parametrize(
    "module",
    [GOLDEN / "zoo.py", *sorted((HERE.parents[1] / "generated").glob("[!_]*.py"))],
    ids=lambda path: path.name,
)
def test_every_generated_class_is_referenced(module: Path) -> None:
    defined, used = _references(module)
    assert sorted(defined - used) == []


# The rules of x-py302-stream and event-stream answers, one broken fragment per rule.


def streaming_fragment() -> dict[str, Any]:
    """A valid fragment with one streamable operation, for the rule tests to break."""

    def schema(name: str) -> dict[str, Any]:
        return {"schema": {"$ref": f"#/components/schemas/{name}"}}

    return {
        "openapi": "3.1.0",
        "info": {"title": "Talk", "version": "1"},
        "x-py302-provider": "talk",
        "paths": {
            "/talk": {
                "post": {
                    "operationId": "chat",
                    "tags": ["talk"],
                    "summary": "Chat.",
                    "x-py302-doc": ["talk/chat"],
                    "x-py302-evidence": "inferred",
                    "x-py302-sources": [],
                    "x-py302-notes": "Test.",
                    "x-py302-stream": {"flag": "stream", "done": "[DONE]", "text_delta": "text"},
                    "requestBody": {"content": {"application/json": schema("Ask")}},
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": schema("Answer"),
                                "text/event-stream": {
                                    **schema("Chunk"),
                                    "example": 'data: {"text": "hi"}\n\ndata: [DONE]\n',
                                },
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Ask": {
                    "type": "object",
                    "properties": {"q": {"type": "string"}, "stream": {"type": "boolean"}},
                },
                "Answer": {"type": "object", "properties": {"text": {"type": "string"}}},
                "Chunk": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {"text": {"type": "string"}},
                },
            }
        },
    }


def _chat(document: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = document["paths"]["/talk"]["post"]
    return op


def _stream_media(document: dict[str, Any]) -> dict[str, Any]:
    media: dict[str, Any] = _chat(document)["responses"]["200"]["content"]["text/event-stream"]
    return media


def _problems(edit: Callable[[dict[str, Any]], object]) -> list[str]:
    document = streaming_fragment()
    edit(document)
    return check_document(document, "specs/talk.yaml", None)


def test_the_streaming_fragment_itself_is_valid() -> None:
    assert _problems(lambda document: None) == []


STREAM_RULES = {
    "event stream without a $ref schema": (
        lambda d: _stream_media(d).update(schema={"type": "object"}),
        "the 200 text/event-stream response needs a $ref schema",
    ),
    "x-py302-stream without an event-stream answer": (
        lambda d: _chat(d)["responses"]["200"]["content"].pop("text/event-stream"),
        "x-py302-stream is declared but no 2xx response is text/event-stream",
    ),
    "JSON beside the stream without a flag": (
        lambda d: _chat(d)["x-py302-stream"].pop("flag"),
        "answers application/json or text/event-stream, so x-py302-stream.flag must name",
    ),
    "flag that is not a boolean body field": (
        lambda d: _chat(d)["x-py302-stream"].update(flag="q"),
        "x-py302-stream.flag 'q' is not a boolean property of the request body",
    ),
    "flag that is no body field at all": (
        lambda d: _chat(d)["x-py302-stream"].update(flag="streaming"),
        "x-py302-stream.flag 'streaming' is not a boolean property of the request body",
    ),
    "event-stream example that does not parse": (
        lambda d: _stream_media(d).update(example='data {"text": "hi"}\n'),
        "response 200 text/event-stream example does not parse: line 1 is not a data",
    ),
    "event-stream example that is not text": (
        lambda d: _stream_media(d).update(example={"text": "hi"}),
        "text/event-stream example does not parse: is not event-stream text but dict",
    ),
    "event-stream example whose event breaks the schema": (
        lambda d: _stream_media(d).update(example='data: {"text": 3}\n\ndata: [DONE]\n'),
        "text/event-stream example: event 1 at text: 3 is not of type 'string'",
    ),
    "event-stream example whose data is not JSON": (
        lambda d: _stream_media(d).update(example="data: hi\n"),
        "text/event-stream example: event 1 is not JSON: 'hi'",
    ),
    "whole without fields": (
        lambda d: _chat(d)["x-py302-stream"].update(whole={"from": "[?done]"}),
        "x-py302-stream.whole must map `from` (a path selecting the final event) and `fields`",
    ),
    "whole beside an accumulator": (
        lambda d: _chat(d)["x-py302-stream"].update(
            whole={"from": "[?done]", "fields": {"text": "text"}}, accumulator="talk.chat"
        ),
        "x-py302-stream.whole and accumulator both fold the stream; keep one",
    ),
    "event-stream example with data after the done sentinel": (
        lambda d: _stream_media(d).update(example='data: [DONE]\n\ndata: {"text": "x"}\n'),
        "event 1 is the done sentinel, yet more follow",
    ),
    "sentinel that is not the declared one": (
        lambda d: _chat(d)["x-py302-stream"].update(done="[END]"),
        "event 2 is not JSON: '[DONE]'",
    ),
    "unknown x-py302-stream key": (
        lambda d: _chat(d)["x-py302-stream"].update({"text-delta": "text"}),
        "x-py302-stream has unknown keys ['text-delta']",
    ),
    "text_delta that is no path": (
        lambda d: _chat(d)["x-py302-stream"].update(text_delta="choices..delta"),
        "x-py302-stream.text_delta must be a dotted path",
    ),
    "task that streams": (
        lambda d: _chat(d).update({"x-py302-task": {"pattern": "p", "poll": "chat"}}),
        "an operation submits a task or answers with a stream, not both",
    ),
}


@pytest.mark.parametrize("rule", STREAM_RULES)
def test_each_stream_rule_is_an_error_naming_the_operation(rule: str) -> None:
    edit, message = STREAM_RULES[rule]
    problems = _problems(edit)
    assert [p for p in problems if p.startswith("specs/talk.yaml: chat") and message in p], problems


RESULT_RULES = {
    "unknown key": ({"files": "data.url"}, "x-py302-result has unknown keys ['files']"),
    "assets not a list": ({"assets": "data.url"}, "x-py302-result.assets must list paths"),
    "asset mapping without url": (
        {"assets": [{"mime_type": "data.type"}]},
        "x-py302-result.assets[0] must be one of {url: path, mime_type: path}",
    ),
    "asset path with a bad fan-out": (
        {"assets": ["data.[0]"]},
        "x-py302-result.assets[0] must be a dotted path (`[]` or a filter",
    ),
    "text with an empty filter": (
        {"text": "data[?].text"},
        "x-py302-result.text must be a dotted path",
    ),
    "usage without counts": (
        {"usage": {"unit": "USD"}},
        "x-py302-result.usage must map some of input_tokens, output_tokens",
    ),
    "usage with an unknown count": (
        {"usage": {"input_tokens": "u.in", "tokens": "u.all"}},
        "x-py302-result.usage has unknown keys ['tokens']",
    ),
    "usage unit not a literal": (
        {"usage": {"cost": "u.cost", "unit": 1}},
        "x-py302-result.usage.unit must be a literal string",
    ),
    "error without a path": (
        {"error": {"ok": [0]}},
        "x-py302-result.error must be a mapping with a path",
    ),
    "error ok not a list": (
        {"error": {"path": "code", "ok": 0}},
        "x-py302-result.error.ok must list the values that mean success",
    ),
    "error message not a path": (
        {"error": {"path": "code", "message": ["msg"]}},
        "x-py302-result.error.message must be a dotted path",
    ),
}


@pytest.mark.parametrize("rule", RESULT_RULES)
def test_each_result_rule_is_an_error_on_the_operation_and_at_the_root(rule: str) -> None:
    block, message = RESULT_RULES[rule]
    on_operation = _problems(lambda d: _chat(d).update({"x-py302-result": block}))
    assert [p for p in on_operation if p.startswith(f"specs/talk.yaml: chat: {message}")], (
        on_operation
    )
    at_root = _problems(lambda d: d.update({"x-py302-result": block}))
    assert [p for p in at_root if p.startswith(f"specs/talk.yaml: the document root: {message}")]


def test_a_valid_result_block_passes_and_null_only_removes_on_operations() -> None:
    block = {
        "assets": ["data.images[].url", {"url": "video.url", "mime_type": "video.type"}, "[].url"],
        "text": "choices.0.message.content",
        "usage": {"input_tokens": "usage.in", "cost": "usage.cost", "unit": "USD"},
        "error": {"path": "code", "ok": [0, "ok"], "message": "msg", "request_id": "trace"},
    }
    assert _problems(lambda d: d.update({"x-py302-result": block})) == []
    assert _problems(lambda d: _chat(d).update({"x-py302-result": {"text": None}})) == []
    assert _problems(lambda d: d.update({"x-py302-result": {"text": None}})) == [
        "specs/talk.yaml: the document root: x-py302-result.text must be a dotted path "
        "(`[]` or a filter `[?key]`, `[?!key]`, `[?key=value]` after a key fans out over a "
        "list), got None"
    ]


# The rules of x-py302-task: who reads the task's answers is always named.


def _task_rule_problems(block: dict[str, Any]) -> list[str]:
    """The problems of the talk fragment with `chat` made a task that polls itself."""

    def edit(document: dict[str, Any]) -> None:
        op = _chat(document)
        del op["x-py302-stream"], op["responses"]["200"]["content"]["text/event-stream"]
        op["x-py302-task"] = block

    return _problems(edit)


def test_a_task_without_a_pattern_is_told_declared_reads_it_from_the_spec() -> None:
    assert _task_rule_problems({"poll": "chat", "status_path": "state"}) == [
        "specs/talk.yaml: chat: x-py302-task needs pattern and poll; pattern is the name of a "
        "task pattern a plugin registers, or declared for one read from this block "
        "(status_path, succeeded, failed and the optional keys in specs/README.md)"
    ]


def test_a_declared_task_lists_the_keys_it_lacks_as_the_runtime_does() -> None:
    block: dict[str, Any] = {"pattern": "declared", "poll": "chat", "succeeded": ["done"]}
    assert _task_rule_problems(block) == [
        "specs/talk.yaml: chat: x-py302-task with pattern declared lacks status_path, failed"
    ]
    with pytest.raises(ValueError, match="lacks status_path, failed"):
        DeclaredTaskPattern.from_options(block, "talk.chat")  # what the runtime would say
    complete = {**block, "status_path": "state", "failed": ["broken"]}
    assert _task_rule_problems(complete) == []
    assert _task_rule_problems({"pattern": "talk.jobs", "poll": "chat"}) == []  # a plugin's own


def test_a_finished_answer_without_a_status_succeeds_by_its_done_path() -> None:
    pattern = DeclaredTaskPattern.from_options(
        {
            "status_path": "status",
            "succeeded": ["DONE"],
            "failed": ["FAILED"],
            "done_path": "images",
        },
        "art.draw",
    )
    assert pattern.snapshot({"request_id": "r1"}, None).status is TaskStatus.QUEUED
    assert pattern.snapshot({"images": []}, None).status is TaskStatus.QUEUED
    assert pattern.snapshot({"status": "IN_QUEUE"}, None).status is TaskStatus.RUNNING
    assert pattern.snapshot({"images": [{"url": "u"}]}, None).status is TaskStatus.SUCCEEDED
    # A status, where there is one, still decides.
    failed = {"status": "FAILED", "images": [{"url": "u"}]}
    assert pattern.snapshot(failed, None).status is TaskStatus.FAILED


def test_declared_status_values_must_be_lists() -> None:
    block = {"pattern": "declared", "poll": "chat", "status_path": "state"}
    problems = _task_rule_problems({**block, "succeeded": "SUCCESS", "failed": [["x"]]})
    assert problems == [
        "specs/talk.yaml: chat: x-py302-task.succeeded must list status values, got 'SUCCESS'",
        "specs/talk.yaml: chat: x-py302-task.failed must list status values, got [['x']]",
    ]


class KeeperAccumulator:
    """Folds the keeper's chunks into the whole answer (the `zoo.keeper` accumulator)."""

    def __init__(self) -> None:
        self.answer: dict[str, Any] = {"answer": ""}

    def add(self, event: Any) -> None:
        self.answer["id"] = event["id"]
        self.answer["answer"] += event.get("delta", {}).get("text", "")
        if "usage" in event:
            self.answer["usage"] = event["usage"]

    def body(self) -> Any:
        return self.answer


def test_streamable_operation_through_the_client_whole_and_streamed(
    zoo: types.ModuleType, zoo_dir: Path
) -> None:
    registry = json.loads((zoo_dir / "zoo.json").read_text(encoding="utf-8"))
    media = registry["operations"]["ask_keeper"]["responses"]["200"]["media_types"]
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.read()))
        if bodies[-1].get("stream"):
            stream = media["text/event-stream"]["example"].encode()
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=stream
            )
        return httpx.Response(200, json=media["application/json"]["example"])

    host = zoo_host(accumulators={"zoo.keeper": KeeperAccumulator})
    with client_for(httpx.MockTransport(handler), host) as client:
        ops = zoo.ZooOperations(client)
        whole = ops.ask_keeper(question="Where is Rex?", extra_body={"stream": True})
        with ops.ask_keeper.stream(question="Where is Rex?") as stream:
            texts = [event.delta.text for event in stream]
            streamed = stream.result()
    assert bodies == [{"question": "Where is Rex?"}, {"question": "Where is Rex?", "stream": True}]
    assert texts == ["Rex ", "is asleep.", None]
    assert (
        whole.data
        == streamed.data
        == zoo.KeeperAnswer(
            id="q1", answer="Rex is asleep.", usage=zoo.KeeperUsage(asked=4, answered=3)
        )
    )


def test_stream_only_operation_through_the_client(zoo: types.ModuleType) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        beats = b'data: {"bpm": 80}\n\ndata: {"bpm": 82}\n\n'
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=beats)

    with (
        client_for(httpx.MockTransport(handler)) as client,
        zoo.ZooOperations(client).watch_heartbeat(pet_id=3) as stream,
    ):
        beats = list(stream)
    assert beats == [zoo.Heartbeat(bpm=80), zoo.Heartbeat(bpm=82)]


def test_a_task_s_own_result_block_follows_the_result_rules() -> None:
    block: dict[str, Any] = {"pattern": "declared", "poll": "chat", "status_path": "s"}
    block |= {"succeeded": ["ok"], "failed": ["no"], "result": {"text": "note", "colour": "x"}}
    (problem,) = _task_rule_problems(block)
    assert problem.startswith("specs/talk.yaml: chat: x-py302-task.result: x-py302-result")
    assert "unknown keys ['colour']" in problem
    assert _task_rule_problems({**block, "result": {"text": "note"}}) == []
