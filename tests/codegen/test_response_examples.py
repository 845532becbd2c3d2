"""Every documented 2xx JSON example decodes through the public client.

For every operation of every fragment (the project's, and the generator's own
fixtures: its py302 fragments and its plain documents), each `example` and each
entry of `examples` of a 2xx JSON response is served by an `httpx.MockTransport`
to a call made through a `Client` (arguments from the request example, or
synthesized from the schemas). A plain
call's `Result.data` must be its model; a task's submit must give a task id. An
example the spec documents as an in-band error (named or summarised as a failure:
a 200 whose body says the output was filtered, say) must raise the `APIStatusError`
it stands for instead. A documented answer the bindings cannot read is a bug in the
generator or the spec.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from py302 import APIStatusError, Client, PluginHost
from py302._registry import OperationSpec, ProviderRegistry, load_registry, media_type
from py302._transport import is_json_type
from py302.codegen import generate
from py302.contracts import with_sample_files
from py302.contracts._examples import request_arguments
from tests.support import TEST_KEY, no_sleep, project_registries, provider_host

FIXTURE_SPECS = Path(__file__).parent / "fixtures" / "specs"
PLAIN_DIRS = sorted((Path(__file__).parent / "fixtures").glob("plain*"))


_FAILURE_WORDS = ("fail", "error", "filter", "refus", "reject")


def _documents_an_error(name: str, entry: Any) -> bool:
    words = f"{name} {entry.get('summary', '')} {entry.get('description', '')}".lower()
    return any(word in words for word in _FAILURE_WORDS)


def _examples(spec: OperationSpec, polled: bool) -> Iterator[tuple[str, int, Any]]:
    """(label, status, body) for each JSON example of each 2xx response; the label of
    one documented as an in-band error ends in `(error)`. A poll operation's "failed"
    example is a task state, read as a result (the wait turns it into the error)."""
    for status, response in sorted(spec.responses.items()):
        if not str(status).startswith("2"):
            continue
        for media, content in (response.get("media_types") or {}).items():
            if not is_json_type(media_type(media)):
                continue
            if "example" in content:
                yield f"{status} example", int(status), content["example"]
            for name, entry in sorted((content.get("examples") or {}).items()):
                if isinstance(entry, dict) and "value" in entry:
                    error = " (error)" if not polled and _documents_an_error(name, entry) else ""
                    yield f"{status} examples.{name}{error}", int(status), entry["value"]


def _cases(registries: list[ProviderRegistry]) -> list[tuple[str, str, str, int, Any]]:
    cases: list[tuple[str, str, str, int, Any]] = []
    for registry in registries:
        polled = {spec.task.poll for spec in registry.operations.values() if spec.task}
        cases.extend(
            (registry.provider, op_id, label, status, body)
            for op_id, spec in sorted(registry.operations.items())
            for label, status, body in _examples(spec, op_id in polled)
        )
    return cases


PROJECT_CASES = _cases(project_registries())


@pytest.fixture(scope="module")
def fixture_registries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Every fixture document compiled (the zoo's fragments and the plain documents),
    by provider: its registry and its bindings module."""
    root = tmp_path_factory.mktemp("examples")
    folders = {"examples_specs": FIXTURE_SPECS, **{f"examples_{d.name}": d for d in PLAIN_DIRS}}
    modules = {}
    for package, folder in folders.items():
        assert generate(folder, root / package, package=package) == 0
        modules.update(
            {path.stem: f"{package}.{path.stem}" for path in (root / package).glob("*.json")}
        )
    sys.path.insert(0, str(root))
    yield {name: (load_registry(module), module) for name, module in modules.items()}
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m.startswith("examples_")]:
        del sys.modules[name]


def _decode(
    registry: ProviderRegistry, case: tuple[str, str, str, int, Any], host: PluginHost
) -> None:
    _, op_id, label, status, body = case
    if label.endswith("(error)"):
        with pytest.raises(APIStatusError) as caught:
            _call(registry, op_id, status, body, host)
        assert caught.value.status == status  # judged in-band, not by the HTTP status
        return
    _call(registry, op_id, status, body, host)


def _call(registry: ProviderRegistry, op_id: str, status: int, body: Any, host: PluginHost) -> None:
    spec = registry.operations[op_id]
    arguments, _, _ = request_arguments(registry, spec)
    arguments = with_sample_files(arguments)
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    with Client(
        api_key=TEST_KEY,
        http_client=httpx.Client(transport=transport),
        plugins=host,
        sleep=no_sleep,
    ) as client:
        outcome = getattr(client.provider(registry.provider), op_id)(**arguments)
    if spec.task is not None:
        assert outcome.id, "the submit answer gave no task id"
        return
    assert outcome.raw == body
    schema = spec.responses.get(str(status), {}).get("schema") or {}
    if isinstance(body, dict) and "$ref" in schema:  # an object model: read into it
        assert attrs.has(type(outcome.data)), f"read as {type(outcome.data).__name__}"


@pytest.mark.parametrize(
    ("provider", "op_id", "label", "status", "body"),
    PROJECT_CASES,
    ids=[f"{p}.{op}[{label}]" for p, op, label, _, _ in PROJECT_CASES],
)
def test_every_project_example_decodes(
    provider: str, op_id: str, label: str, status: int, body: Any
) -> None:
    (registry,) = [r for r in project_registries() if r.provider == provider]
    _decode(registry, (provider, op_id, label, status, body), PluginHost(entry_points=False))


def test_every_fixture_example_decodes(fixture_registries: dict[str, Any]) -> None:
    decoded = 0
    for provider, (registry, module) in sorted(fixture_registries.items()):
        importlib.import_module(module)
        host = provider_host(provider, module)
        for case in _cases([registry]):
            try:
                _decode(registry, case, host)
            except Exception as exc:  # name the example in the failure
                raise AssertionError(f"{provider}.{case[1]} [{case[2]}]: {exc!r}") from exc
            decoded += 1
    # wire, zoo, forms and the plain documents all document answers.
    assert {"wire", "zoo", "forms", "pet_shop", "library", "studio"} <= fixture_registries.keys()
    assert decoded >= 20


def test_the_project_documents_examples_to_decode() -> None:
    assert len(PROJECT_CASES) >= 60
