"""The generator: golden output, the features it must compile, drift, loud failures."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from py302 import Client, PluginHost, RequestValidationError, TaskSnapshot, TaskStatus, hookimpl
from py302._convert import structure, unstructure
from py302._tasks import TaskPattern
from py302.binding import Call
from py302.codegen import generate, main
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


@pytest.mark.parametrize("name", ["zoo.py", "zoo.json", "__init__.py"])
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


def client_for(handler: httpx.MockTransport, host: PluginHost | None = None) -> Client:
    return Client(
        api_key=TEST_KEY,
        http_client=httpx.Client(transport=handler),
        plugins=host or PluginHost(entry_points=False),
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

    @hookimpl
    def py302_request_headers(operation: object, call: Call[object]) -> dict[str, str]:
        seen.append(dict(call.options))
        return {"Accept": "application/json" if call.options["output"] == "json" else "image/*"}

    plugin = types.ModuleType("accept")
    plugin.py302_request_headers = py302_request_headers  # type: ignore[attr-defined]
    host = PluginHost(builtins=False, entry_points=False, plugins=[("accept", plugin)])
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


@hookimpl
def py302_task_pattern(name: str) -> TaskPattern | None:
    return WalkPattern() if name == "zoo.walk" else None


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

    @hookimpl
    def py302_request_headers(operation: object, call: Call[object]) -> None:
        seen_options.append(dict(call.options))

    plugin = types.ModuleType("walks")
    plugin.py302_task_pattern = py302_task_pattern  # type: ignore[attr-defined]
    plugin.py302_request_headers = py302_request_headers  # type: ignore[attr-defined]
    host = PluginHost(builtins=False, entry_points=False, plugins=[("walks", plugin)])
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
