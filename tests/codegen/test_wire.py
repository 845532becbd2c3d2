"""What OpenAPI lets a document say the long way reaches the wire as the short way would.

The `wire` fragment (fixtures/specs/wire.yaml) declares a path-level `$ref`
parameter, header parameters, a `$ref` request body and `$ref` responses. Each call
goes through the public client to an `httpx.MockTransport`: the assertions are on
the request sent and the value decoded. Documents that cannot be put into one shape
are refused, naming the JSON pointer.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import json
import re
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from py302 import (
    Client,
    RequestValidationError,
    ResponseShapeError,
)
from py302.codegen import generate
from py302.codegen._errors import CodegenError
from tests.support import TEST_KEY, no_sleep, provider_host

FIXTURE_SPECS = Path(__file__).parent / "fixtures" / "specs"


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.ModuleType]:
    root = tmp_path_factory.mktemp("wire")
    assert generate(FIXTURE_SPECS, root / "wire_bindings", package="wire_bindings") == 0
    sys.path.insert(0, str(root))
    yield importlib.import_module("wire_bindings.wire")
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m.startswith("wire_bindings")]:
        del sys.modules[name]


def client_for(
    answer: Callable[[httpx.Request], httpx.Response], sent: list[httpx.Request]
) -> Client:
    host = provider_host("wire", "wire_bindings.wire")

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answer(request)

    return Client(
        api_key=TEST_KEY,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        plugins=host,
        sleep=no_sleep,
    )


def test_path_level_ref_and_header_parameters_reach_the_wire(wire: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    animal = {"id": 7, "name": "Nessie", "pen": "loch"}
    with client_for(lambda request: httpx.Response(200, json=animal), sent) as client:
        result = wire.WireOperations(client).get_animal(
            pen_id="loch", animal_id=7, x_keeper="ada", accept="application/json", limit=3
        )
    (request,) = sent
    assert request.url.path == "/wire/pens/loch/animals/7"  # not /wire/pens/%7Bpen_id%7D/...
    assert dict(request.url.params) == {"limit": "3"}  # pen_id is not sent in the query too
    assert request.headers["x-keeper"] == "ada"
    assert request.headers["accept"] == "application/json"
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"  # not a parameter
    assert result.data == wire.Animal(id=7, name="Nessie", pen="loch")  # $ref response


def test_a_required_header_parameter_is_checked_before_sending(wire: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(200, json={}), sent) as client:
        ops = wire.WireOperations(client)
        with pytest.raises(RequestValidationError, match="X-Keeper: is required"):
            ops.get_animal(pen_id="p", animal_id=1, x_keeper=None)
        with pytest.raises(RequestValidationError, match="Accept"):
            ops.get_animal(pen_id="p", animal_id=1, x_keeper="k", accept="text/html")
    assert sent == []


def test_a_ref_request_body_sends_its_fields(wire: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(201, json={"eaten_grams": 450}), sent) as client:
        result = wire.WireOperations(client).feed(pen_id="loch", food="hay", grams=500)
    (request,) = sent
    assert request.url.path == "/wire/pens/loch/feedings"
    assert request.read() == b'{"food": "hay", "grams": 500}'  # not {}
    assert result.data == wire.Fed(eaten_grams=450)


def compile_problems(tmp_path: Path, paths: str, components: str = "") -> str:
    document = textwrap.dedent(
        """\
        openapi: 3.1.0
        info: {title: Bad, version: "1"}
        x-py302-provider: bad
        tags: [{name: bad}]
        paths:
        """
    ) + textwrap.indent(textwrap.dedent(paths), "  ")
    if components:
        document += "components:\n" + textwrap.indent(textwrap.dedent(components), "  ")
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "bad.yaml").write_text(document, encoding="utf-8")
    with pytest.raises(CodegenError) as caught:
        generate(specs, tmp_path / "out", package="bad_bindings")
    assert not (tmp_path / "out").exists(), "nothing is written on error"
    return str(caught.value)


OPERATION = """\
    operationId: {op}
    tags: [bad]
    summary: x
    x-py302-doc: [bad/x]
    x-py302-evidence: inferred
    x-py302-sources: []
    x-py302-notes: x
    responses: {{'204': {{description: done}}}}
"""


def test_a_placeholder_without_a_parameter_is_refused_naming_the_pointer(tmp_path: Path) -> None:
    problems = compile_problems(
        tmp_path,
        "/items/{item_id}:\n  get:\n" + OPERATION.format(op="get_item"),
    )
    assert "#/paths/~1items~1{item_id}/get" in problems
    assert "{item_id} has no parameter" in problems


def test_a_path_parameter_without_a_placeholder_is_refused(tmp_path: Path) -> None:
    problems = compile_problems(
        tmp_path,
        "/items:\n  parameters:\n    - {name: item_id, in: path, required: true, "
        "schema: {type: string}}\n  get:\n" + OPERATION.format(op="list_items"),
    )
    assert "path parameter 'item_id' has no {item_id} in the path" in problems


def test_a_ref_that_names_nothing_is_refused_naming_where(tmp_path: Path) -> None:
    problems = compile_problems(
        tmp_path,
        "/items:\n  get:\n    parameters:\n      - $ref: '#/components/parameters/Nope'\n"
        + OPERATION.format(op="list_items"),
    )
    assert "#/paths/~1items/get/parameters/0" in problems
    assert "$ref #/components/parameters/Nope names nothing" in problems


def test_a_nullable_type_list_on_a_parameter_compiles(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    op = OPERATION.format(op="list_items")
    (specs / "ok.yaml").write_text(
        textwrap.dedent(
            """\
            openapi: 3.1.0
            info: {title: Ok, version: "1"}
            x-py302-provider: ok
            tags: [{name: ok}]
            paths:
              /items:
                get:
                  parameters:
                    - {name: cursor, in: query, schema: {type: [string, "null"]}}
            """
        )
        + textwrap.indent(op.replace("[bad]", "[ok]").replace("bad/x", "ok/x"), "  "),
        encoding="utf-8",
    )
    assert generate(specs, tmp_path / "out", package="ok_bindings") == 0
    text = (tmp_path / "out" / "ok.py").read_text(encoding="utf-8")
    assert "cursor: str | None = None" in text


def test_a_file_field_typed_by_a_ref_is_sent_as_a_file(
    wire: types.ModuleType, tmp_path: Path
) -> None:
    picture = tmp_path / "pen.png"
    picture.write_bytes(b"\x89PNG from disk")
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(200, json={"id": "p1"}), sent) as client:
        ops = wire.WireOperations(client)
        ops.upload_photo(pen_id="loch", picture=picture, caption="dawn")
        ops.upload_photo(pen_id="loch", picture=b"\x89PNG in memory")
    from_disk, in_memory = (request.read() for request in sent)
    assert sent[0].headers["content-type"].startswith("multipart/form-data")
    assert b'filename="pen.png"' in from_disk
    assert b"\x89PNG from disk" in from_disk  # the file, not its path as text
    assert str(picture).encode() not in from_disk
    assert b"\x89PNG in memory" in in_memory


def test_list_and_dict_defaults_are_not_shared_between_instances(
    wire: types.ModuleType,
) -> None:
    first, second = wire.Photo(id="a"), wire.Photo(id="b")
    assert first.tags == []
    assert first.sizes == {}
    assert first.tags is not second.tags
    assert first.sizes is not second.sizes


def test_a_schema_named_like_an_import_is_refused(tmp_path: Path) -> None:
    problems = compile_problems(
        tmp_path,
        "/items:\n  get:\n" + OPERATION.format(op="list_items"),
        "schemas:\n  Call: {type: object, properties: {x: {type: string}}}\n",
    )
    assert "#/components/schemas/Call" in problems
    assert "rename the schema" in problems


def test_array_and_object_query_values_follow_their_openapi_style(
    wire: types.ModuleType,
) -> None:
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(200, json={}), sent) as client:
        wire.WireOperations(client).search(
            tags=["a", "b"],
            ids=[1, 2, 3],
            pipes=["x", "y"],
            filter={"color": "red", "size": "big"},
            spread={"mood": "calm"},
            packed={"k": "v", "w": "z"},
            x_trace=["t1", "t2"],
        )
    (request,) = sent
    assert request.url.params.multi_items() == [
        ("format", "json"),  # a required const: sent by the binding, no keyword
        ("tags", "a"),  # form, exploded (the default): the key repeats
        ("tags", "b"),
        ("ids", "1,2,3"),  # form, not exploded
        ("pipes", "x|y"),  # pipeDelimited
        ("filter[color]", "red"),  # deepObject
        ("filter[size]", "big"),
        ("mood", "calm"),  # an exploded object spreads its keys
        ("packed", "k,v,w,z"),  # an object, not exploded
    ]
    assert request.headers["x-trace"] == "t1,t2"  # simple style
    with client_for(lambda request: httpx.Response(200), []) as client:
        assert "format" not in inspect.signature(wire.WireOperations(client).search).parameters
    assert "%27" not in str(request.url)  # never a Python repr


def test_a_required_but_nullable_answer_field_may_be_left_out(wire: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    answer = {"text": "Feed them hay."}  # no "refusal", though the schema requires it
    with client_for(lambda request: httpx.Response(200, json=answer), sent) as client:
        ops = wire.WireOperations(client)
        result = ops.ask(question="what now?", context="dawn")
        context = inspect.signature(ops.ask).parameters["context"]
    assert result.data == wire.Reply(text="Feed them hay.", refusal=None)
    # ... while the builder still asks for the request's required-but-nullable field.
    assert context.default is inspect.Parameter.empty
    assert json.loads(sent[0].read()) == {"question": "what now?", "context": "dawn"}


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ({"unit": "bar"}, {"unit": "bar"}),
        (["a", "b"], ["a", "b"]),
        (3, 3),  # stays an int: the exact JSON kind wins over float
        (2.5, 2.5),
        (True, True),  # not 1
        ("dial", "dial"),
    ],
)
def test_unions_of_containers_and_scalars_read_by_json_kind(
    wire: types.ModuleType, value: object, read: object
) -> None:
    sent: list[httpx.Request] = []
    body = {"value": value, "anything": {"free": ["form"]}}
    with client_for(lambda request: httpx.Response(200, json=body), sent) as client:
        result = wire.WireOperations(client).read_gauge()
    assert result.data.value == read
    assert type(result.data.value) is type(read)
    assert result.data.anything == {"free": ["form"]}  # the `{}` branch keeps it as it came


def test_an_object_where_an_array_belongs_is_a_shape_error(wire: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    body = {"labels": {"artifacts": ["x"]}}  # cattrs would have read the keys as items
    with (
        client_for(lambda request: httpx.Response(200, json=body), sent) as client,
        pytest.raises(ResponseShapeError, match=r"expected list\[str\] \| None @ body\.labels"),
    ):
        wire.WireOperations(client).read_gauge()


def test_every_openapi_violation_is_listed_at_its_pointer(tmp_path: Path) -> None:
    problems = compile_problems(
        tmp_path,
        "/items:\n  get:\n    parameters:\n      - {name: q, in: nowhere}\n"
        + OPERATION.format(op="list_items").replace(
            "responses: {'204': {description: done}}", "responses: {'204': {descriptio: done}}"
        ),
    )
    assert "#/paths/~1items/get/parameters/0/in: not valid OpenAPI 3.1" in problems
    assert "#/paths/~1items/get/responses/204: not valid OpenAPI 3.1" in problems


def test_an_allof_part_that_redefines_a_property_compiles(tmp_path: Path) -> None:
    """It was refused as "both a parameter and a body field"."""
    specs = tmp_path / "specs"
    specs.mkdir()
    op = OPERATION.format(op="make_item").replace("[bad]", "[ok]").replace("bad/x", "ok/x")
    op = op.replace(
        "    responses:",
        "    requestBody:\n      content:\n        application/json:\n"
        "          schema: {$ref: '#/components/schemas/Special'}\n    responses:",
    )
    (specs / "ok.yaml").write_text(
        textwrap.dedent(
            """\
            openapi: 3.1.0
            info: {title: Ok, version: "1"}
            x-py302-provider: ok
            tags: [{name: ok}]
            paths:
              /items:
                post:
            """
        )
        + textwrap.indent(op, "  ")
        + textwrap.dedent(
            """\
            components:
              schemas:
                Base:
                  type: object
                  properties:
                    size: {type: string}
                Special:
                  allOf:
                    - $ref: '#/components/schemas/Base'
                    - type: object
                      required: [size]
                      properties:
                        size: {type: string, enum: [s, m]}
            """
        ),
        encoding="utf-8",
    )
    assert generate(specs, tmp_path / "out", package="ok_bindings") == 0
    text = (tmp_path / "out" / "ok.py").read_text(encoding="utf-8")
    assert len(re.findall(r"^        size: ", text, re.MULTILINE)) == 1  # one keyword


KEEPER = {
    "id": "k1",
    "name": "Ada",
    "mood": "calm",
    "trusted": True,
    "badge": {"kind": "gold", "stars": 3},
    "notes": {"shifts": ["early", {"late": ["sunday"]}]},
    "hired": "2026-05-01T09:30:00Z",
    "pronouns": "she",
    "languages": 2,
}


def hire(wire: types.ModuleType, answer: object, **arguments: object) -> tuple[Any, httpx.Request]:
    sent: list[httpx.Request] = []
    given: dict[str, object] = {"role": "vet", "session": "s1", "name": "Ada", "password": "pw"}
    with client_for(lambda request: httpx.Response(200, json=answer), sent) as client:
        result = wire.WireOperations(client).hire_keeper(**{**given, **arguments})
    (request,) = sent
    return result, request


def test_read_only_fields_are_answers_and_write_only_fields_are_requests(
    wire: types.ModuleType,
) -> None:
    with client_for(lambda request: httpx.Response(200), []) as client:
        builder = inspect.signature(wire.WireOperations(client).hire_keeper).parameters
    assert "id" not in builder  # readOnly: the zoo assigns it, and a request need not send it
    assert builder["password"].default is inspect.Parameter.empty  # writeOnly, required
    result, request = hire(wire, KEEPER)
    assert json.loads(request.read()) == {"name": "Ada", "password": "pw"}
    assert result.data.id == "k1"  # read from an answer that has no password
    assert "password" not in attrs.fields_dict(type(result.data))


def test_parameters_typed_by_ref_and_anyof_reach_the_wire(wire: types.ModuleType) -> None:
    _, request = hire(wire, KEEPER, role=wire.Role.FEEDER, order="desc", shifts=["am", "pm"])
    assert request.url.path == "/wire/keepers/feeder"
    assert dict(request.url.params) == {"order": "desc"}
    # Cookie parameters, `form` style: a non-exploded array joins its items.
    assert request.headers["cookie"] == "session=s1; shifts=am,pm"


def test_a_cookie_value_cannot_break_the_cookie_header(wire: types.ModuleType) -> None:
    _, request = hire(wire, KEEPER, session="a b;c=d", extra_headers={"Cookie": "theirs=1"})
    assert request.headers["cookie"] == "theirs=1; session=a%20b%3Bc=d"


def test_aliases_decode_to_what_they_stand_for(wire: types.ModuleType) -> None:
    result, _ = hire(wire, KEEPER)
    keeper = result.data
    assert keeper.mood is wire.Mood.CALM  # an alias of an enum or null
    assert keeper.trusted is True  # an alias of a boolean
    assert keeper.notes == {"shifts": ["early", {"late": ["sunday"]}]}  # a recursive alias
    assert keeper.hired == "2026-05-01T09:30:00Z"  # date-time stays the string sent


def test_keys_the_schema_does_not_name_are_kept_and_sent_back(wire: types.ModuleType) -> None:
    from py302._convert import unstructure

    result, _ = hire(wire, KEEPER)
    assert result.data.additional_properties == {"pronouns": "she", "languages": 2}
    assert unstructure(result.data) == KEEPER  # nothing lost on the way back


def test_a_member_of_a_discriminated_union_reads_without_its_discriminator(
    wire: types.ModuleType,
) -> None:
    result, _ = hire(wire, {"id": "k2", "name": "Bo", "badge": {"shine": 0.5}})
    badge = result.data.badge
    assert isinstance(badge, wire.SilverBadge)
    assert badge.kind == "silver"  # the one value its member allows
    assert badge.shine == 0.5
    gold, _ = hire(wire, {"id": "k3", "name": "Cy", "badge": {"kind": "gold", "stars": 1}})
    assert isinstance(gold.data.badge, wire.GoldBadge)


def test_descriptions_with_backslashes_and_quotes_read_back(wire: types.ModuleType) -> None:
    doc = inspect.getdoc(wire.WireOperations.hire_keeper) or ""
    assert 'backslashes (C:\\zoo\\keepers) and """triple quotes"""' in doc
    assert "a trailing backslash \\" in doc
    assert 'The keeper\'s "session" cookie.' in doc


def test_builder_types_accept_what_the_schema_allows_and_only_that(
    wire: types.ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mypy, on calls to the compiled bindings: enum aliases keep their values, an
    alias of a boolean takes no mapping."""
    from mypy import api

    module = Path(str(wire.__file__)).parent
    (tmp_path / "calls.py").write_text(
        textwrap.dedent(
            """            from py302.binding import Sync
            from wire_bindings.wire import WireOperations

            def valid(ops: WireOperations[Sync]) -> None:
                ops.hire_keeper(role="vet", session="s", name="n", password="p", mood="busy",
                                order=3, trusted=False, badge={"stars": 2}, notes=["a"])

            def wrong_enum(ops: WireOperations[Sync]) -> None:
                ops.hire_keeper(role="cook", session="s", name="n", password="p")

            def mapping_for_bool(ops: WireOperations[Sync]) -> None:
                ops.hire_keeper(role="vet", session="s", name="n", password="p",
                                trusted={"bogus": 1})
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("MYPYPATH", str(module.parent))
    out, err, status = api.run(["--strict", "--no-incremental", str(tmp_path / "calls.py")])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1, out + err
    assert [line.split(":")[1] for line in errors] == ["9", "13"], out
    assert '"role"' in errors[0]
    assert '"trusted"' in errors[1]


def test_a_schema_renamed_by_the_model_generator_is_named_in_the_refusal(
    tmp_path: Path,
) -> None:
    problems = compile_problems(
        tmp_path,
        "/items:\n  get:\n" + OPERATION.format(op="list_items"),
        "schemas:\n  None: {type: object, properties: {x: {type: string}}}\n",
    )
    assert "#/components/schemas/None: schema None became None1" in problems


def test_several_request_media_types_let_the_caller_choose(
    wire: types.ModuleType, tmp_path: Path
) -> None:
    picture = tmp_path / "goose.png"
    picture.write_bytes(b"\x89PNG goose")
    sent: list[httpx.Request] = []
    answer = {"id": "s1", "text": "Mind the geese", "meta": {"paint": "red", "coats": 2}}
    with client_for(lambda request: httpx.Response(200, json=answer), sent) as client:
        ops = wire.WireOperations(client)
        painted = ops.put_up_sign(pen_id="loch", text="Mind the geese", picture=picture)
        ops.put_up_sign(
            pen_id="loch",
            text="Mind the geese",
            picture_url="https://example.com/goose.png",
            content_type="application/json",
        )
        with pytest.raises(RequestValidationError, match="picture_url: is required"):
            ops.put_up_sign(pen_id="loch", text="x", content_type="application/json")
    multipart, as_json = sent
    assert multipart.headers["content-type"].startswith("multipart/form-data")  # the first
    assert b'filename="goose.png"' in multipart.read()
    assert as_json.headers["content-type"] == "application/json"
    assert json.loads(as_json.read()) == {
        "text": "Mind the geese",
        "picture_url": "https://example.com/goose.png",
    }
    assert painted.data.meta == {"paint": "red", "coats": 2}  # a named free-form object


def test_a_body_that_is_one_file_is_sent_as_its_bytes(
    wire: types.ModuleType, tmp_path: Path
) -> None:
    chart = tmp_path / "pen.png"
    chart.write_bytes(b"\x89PNG map")
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(204), sent) as client:
        ops = wire.WireOperations(client)
        ops.upload_map(pen_id="loch", body=chart)
        ops.upload_map(pen_id="loch", body=b"GIF89a")
        with pytest.raises(RequestValidationError, match=r"\(body\): no file at"):
            ops.upload_map(pen_id="loch", body=str(tmp_path / "missing.png"))
    from_disk, in_memory = sent
    assert from_disk.read() == b"\x89PNG map"
    assert from_disk.headers["content-type"] == "image/png"  # image/* narrowed by the name
    assert in_memory.read() == b"GIF89a"


def test_a_body_that_is_a_json_array_is_sent_as_one(wire: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(204), sent) as client:
        ops = wire.WireOperations(client)
        ops.tag_pen(pen_id="loch", body=["muddy", "north"])
        with pytest.raises(RequestValidationError, match="0: must be of type string"):
            ops.tag_pen(pen_id="loch", body=[7])
    (request,) = sent
    assert json.loads(request.read()) == ["muddy", "north"]


def test_a_required_but_nullable_field_can_be_sent_as_null(wire: types.ModuleType) -> None:
    sent: list[httpx.Request] = []
    reply = {"text": "ok", "refusal": None}
    with client_for(lambda request: httpx.Response(200, json=reply), sent) as client:
        wire.WireOperations(client).ask(question="what now?", context=None)
    assert json.loads(sent[0].read()) == {"question": "what now?", "context": None}


def test_a_default_that_breaks_its_schema_is_refused_where_it_is(tmp_path: Path) -> None:
    problems = compile_problems(
        tmp_path,
        "/items:\n  get:\n    parameters:\n      - {name: n, in: query, "
        "schema: {type: string, default: 1}}\n" + OPERATION.format(op="list_items"),
    )
    assert (
        "#/paths/~1items/get/parameters/0/schema/default: the default does not match its own "
        "schema" in problems
    )
    assert "#/: not valid" not in problems


def test_a_summary_over_several_lines_keeps_the_docstring_flush(wire: types.ModuleType) -> None:
    with client_for(lambda request: httpx.Response(200), []) as client:
        doc = inspect.getdoc(wire.WireOperations(client).put_up_sign) or ""
    assert doc.startswith("Put up a sign, painted from a picture (multipart) or from a")
    assert "\nPOST /wire/pens/{pen_id}/signs · evidence: inferred\n" in doc  # not indented


def test_problems_found_while_compiling_are_listed_for_every_fragment(tmp_path: Path) -> None:
    """A fragment that passes the checks but fails to compile does not hide the next
    fragment's problems (they came one fragment per run)."""
    specs = tmp_path / "specs"
    specs.mkdir()
    for provider, schema in (("first", "None"), ("second", "Call")):
        op = OPERATION.format(op="list_items").replace("[bad]", f"[{provider}]")
        header = (
            f"openapi: 3.1.0\ninfo: {{title: T, version: '1'}}\nx-py302-provider: {provider}\n"
            f"tags: [{{name: {provider}}}]\npaths:\n  /items:\n    get:\n"
        )
        components = f"components:\n  schemas:\n    {schema}: {{type: object}}\n"
        (specs / f"{provider}.yaml").write_text(
            header + textwrap.indent(op, "  ") + components, encoding="utf-8"
        )
    with pytest.raises(CodegenError) as caught:
        generate(specs, tmp_path / "out", package="two_bindings")
    assert "schema None became None1" in str(caught.value)
    assert "#/components/schemas/Call" in str(caught.value)
    assert not (tmp_path / "out").exists()


PNG = b"\x89PNG\r\n\x1a\n portrait"


def test_a_text_field_that_takes_a_file_gets_it_encoded(
    wire: types.ModuleType, tmp_path: Path
) -> None:
    sitter = tmp_path / "cow.png"
    sitter.write_bytes(PNG)
    sent: list[httpx.Request] = []
    with client_for(lambda request: httpx.Response(200, json={"id": "p9"}), sent) as client:
        ops = wire.WireOperations(client)
        ops.paint_portrait(pen_id="loch", image=sitter, mask=PNG, references=[str(sitter)])
        ops.paint_portrait(pen_id="loch", image="https://example.com/cow.png")
        with open(sitter, "rb") as handle:
            ops.paint_portrait(pen_id="loch", image=handle)
        with pytest.raises(RequestValidationError, match=r"image: no file at .*missing\.png"):
            ops.paint_portrait(pen_id="loch", image=str(tmp_path / "missing.png"))
    from_path, by_url, from_handle = (json.loads(request.read()) for request in sent)
    encoded = base64.b64encode(PNG).decode()
    assert from_path == {
        "image": encoded,  # base64, as the field declares
        "mask": f"data:image/png;base64,{encoded}",  # a data URI, its type sniffed
        "references": [encoded],
    }
    assert by_url == {"image": "https://example.com/cow.png"}  # a URL is sent as given
    assert from_handle == {"image": encoded}
    assert len(sent) == 3  # the missing file was refused before sending
