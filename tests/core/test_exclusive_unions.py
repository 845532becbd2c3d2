"""Unions whose branches exclude each other are checked branch by branch: the same
values accepted and refused as by the spec's `oneOf`, the errors of the branch the
value chose, and a fraction of the time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from py302 import RequestValidationError
from py302._exclusive_unions import with_exclusive_unions
from py302._registry import OperationSpec, ProviderRegistry, load_registry
from py302._validation import rebase_refs, validate_request, validator_class, validator_for
from tests.reliability.schema_strategy import drawn_request
from tests.support import project_registries

CHAT = load_registry("py302.generated.chat")


def _problems(message: Any) -> tuple[tuple[str, str], ...]:
    body = {"model": "gpt-4o", "messages": [message]}
    with pytest.raises(RequestValidationError) as caught:
        validate_request(CHAT, CHAT.get("completions"), path={}, query={}, body=body)
    return caught.value.problems


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"role": "user"}, ("messages.0.content", "is required")),
        (
            {"role": "user", "content": 5},
            ("messages.0.content", "must be of type string or array, got 5"),
        ),
        (
            {"role": "user", "content": [{"type": "image_url"}]},
            ("messages.0.content.0.image_url", "is required"),
        ),
        ({"content": "hi"}, ("messages.0.role", "is required")),
        ("hi", ("messages.0", "must be of type object, got 'hi'")),
    ],
)
def test_the_error_is_the_chosen_branchs(message: Any, problem: tuple[str, str]) -> None:
    assert _problems(message) == (problem,)


def test_a_value_naming_no_branch_is_told_the_names() -> None:
    ((field, rule),) = _problems({"role": "robot", "content": "hi"})
    assert field == "messages.0.role"
    assert rule.startswith("must be one of ['system', 'developer', 'user', 'assistant', 'tool']")


def test_unions_that_may_overlap_stay_one_of() -> None:
    document: dict[str, Any] = {}
    overlapping = {"oneOf": [{"type": "integer"}, {"type": "number"}]}
    untagged = {
        "oneOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"type": "object", "properties": {"b": {"type": "string"}}},
        ]
    }
    shared_tag = {
        "oneOf": [
            {"type": "object", "required": ["k"], "properties": {"k": {"const": "x"}}},
            {"type": "object", "required": ["k"], "properties": {"k": {"const": "x"}}},
        ]
    }
    for schema in (overlapping, untagged, shared_tag):
        assert with_exclusive_unions(schema, document) == schema


def _plain_validator(registry: ProviderRegistry, schema: Mapping[str, Any]) -> Any:
    """A validator of the spec's schema as written (every `oneOf` kept)."""
    resource = Resource.from_contents(dict(registry.document), default_specification=DRAFT202012)
    store: Registry[Any] = Registry().with_resource(registry.schema_uri, resource)
    rooted = {
        "$id": registry.schema_uri + "/request",
        **rebase_refs(registry.resolve(schema), registry.schema_uri),
    }
    return validator_class("request")(rooted, registry=store)


def _with_unions() -> list[tuple[ProviderRegistry, OperationSpec]]:
    """Every operation whose request schema reaches a union that is rewritten."""
    found = []
    for registry in project_registries():
        rewritten = with_exclusive_unions(registry.document, registry.document)
        if rewritten == registry.document:
            continue
        found += [
            (registry, spec)
            for spec in registry.operations.values()
            if spec.request_schema is not None and spec.request_content_type == "application/json"
        ]
    return found


CASES = _with_unions()


def test_the_chat_formats_are_among_the_rewritten() -> None:
    names = {spec.qualified_name for _, spec in CASES}
    assert {"chat.completions", "claude.messages"} <= names


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
@pytest.mark.parametrize(("registry", "spec"), CASES, ids=[s.qualified_name for _, s in CASES])
def test_the_rewrite_accepts_and_refuses_what_the_spec_does(
    registry: ProviderRegistry, spec: OperationSpec, data: st.DataObject
) -> None:
    assert spec.request_schema is not None
    value = drawn_request(registry, spec.request_schema, data)
    plain = _plain_validator(registry, spec.request_schema)
    ours = validator_for(registry, spec.request_schema)
    assert ours.is_valid(value) == plain.is_valid(value), value
