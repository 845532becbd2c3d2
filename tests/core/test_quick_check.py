"""The quick check accepts only what jsonschema accepts, and accepts the requests
people send, so they skip the generic validator."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from py302._quick_check import quick_check
from py302._registry import OperationSpec, ProviderRegistry, load_registry
from py302._validation import _quick_for, validator_class, validator_for
from tests.reliability.schema_strategy import drawn_request
from tests.support import project_registries

KEYWORDS = validator_class("request").VALIDATORS

CASES = [
    (registry, spec)
    for registry in project_registries()
    for spec in registry.operations.values()
    if spec.request_schema is not None and _quick_for(registry, spec.request_schema) is not None
]


def test_nearly_every_request_schema_has_a_quick_check() -> None:
    total = sum(
        1
        for registry in project_registries()
        for spec in registry.operations.values()
        if spec.request_schema is not None
    )
    assert len(CASES) >= 0.95 * total


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
@pytest.mark.parametrize(("registry", "spec"), CASES, ids=[s.qualified_name for _, s in CASES])
def test_what_the_quick_check_accepts_jsonschema_accepts(
    registry: ProviderRegistry, spec: OperationSpec, data: st.DataObject
) -> None:
    assert spec.request_schema is not None
    value = drawn_request(registry, spec.request_schema, data)
    quick = _quick_for(registry, spec.request_schema)
    assert quick is not None
    if quick(value):
        assert validator_for(registry, spec.request_schema).is_valid(value), value


@pytest.mark.parametrize(
    ("bindings", "operation", "body"),
    [
        ("py302.generated.flux", "dev", {"prompt": "a lighthouse"}),
        (
            "py302.generated.chat",
            "completions",
            {
                "model": "gpt-4o",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                ],
                "temperature": 0.2,
                "logit_bias": {"50256": -100},
            },
        ),
        (
            "py302.generated.claude",
            "messages",
            {"model": "c", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]},
        ),
    ],
)
def test_common_requests_pass_without_the_generic_validator(
    bindings: str, operation: str, body: Any
) -> None:
    registry = load_registry(bindings)
    schema = registry.get(operation).request_schema
    assert schema is not None
    quick = _quick_for(registry, schema)
    assert quick is not None
    assert quick(body)


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "integer", "enum": [1, 2]}, True),  # a bool is no integer
        ({"type": "number", "maximum": 1}, 10**400),  # compared exactly, no overflow
        ({"type": "string", "pattern": "^a+$"}, "ab"),
        ({"type": "object", "additionalProperties": False, "properties": {"a": {}}}, {"b": 1}),
        ({"type": "object", "additionalProperties": {"type": "string"}}, {"b": 1}),
        ({"type": "array", "items": {"type": "string"}, "maxItems": 1}, ["a", "b"]),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, 2.5),
        ({"type": "string", "minLength": 2}, "é"),
    ],
)
def test_invalid_values_are_not_accepted(schema: dict[str, Any], value: Any) -> None:
    check = quick_check(schema, {}, KEYWORDS)
    assert check is not None
    assert not check(value)


def test_schemas_with_other_keywords_are_left_to_jsonschema() -> None:
    for schema in (
        {"oneOf": [{"type": "string"}, {"type": "string", "minLength": 2}]},
        {"not": {"type": "string"}},
        {"type": "array", "uniqueItems": True},
        {"enum": ["a", None]},
    ):
        assert quick_check(schema, {}, KEYWORDS) is None, schema
