"""Contract checks: does recorded (or documented) traffic agree with the specs?

Every interaction of a VCR cassette is matched to an operation by method and path,
then its request (query, body) and its response (status, body) are validated
against that operation's schemas. An event-stream answer is checked event by event:
each event's data against the stream's event schema, then its end marker looked for
(see `_events`). Requests to hosts other than the API (result file downloads) are
reported as skipped. Used by `py302 cassette check` and the tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs

from py302._registry import OperationSpec, ProviderRegistry, load_registry
from py302._transport import is_json_type
from py302._validation import coerce_text, schema_problems
from py302.payloads import dig

from ._cassettes import NOT_JSON, CassetteError, is_recorded, json_body, read_cassette
from ._drift import interaction_findings
from ._events import is_event_stream, read_stream
from ._match import find_operation
from ._scrub import is_placeholder_secret, is_secret_header

__all__ = [
    "DEFAULT_API_HOSTS",
    "InteractionReport",
    "check_cassette",
    "default_registries",
]

DEFAULT_API_HOSTS = frozenset({"api.302.ai"})


@attrs.frozen(kw_only=True)
class InteractionReport:
    """The verdict on one interaction of a cassette."""

    cassette: str
    index: int
    method: str
    url: str
    status: int | None
    operation: str | None
    problems: tuple[str, ...] = ()
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the interaction agrees with the spec (skipped ones count as ok)."""
        return not self.problems

    def line(self) -> str:
        """One line for people: verdict, operation, request, status and problems."""
        path = urlsplit(self.url).path
        head = f"{self.cassette}#{self.index} {self.method} {path} -> {self.status}"
        if self.skipped:
            return f"skip {head}: {self.skipped}"
        if self.ok:
            return f"ok   {head} [{self.operation}]"
        return f"FAIL {head} [{self.operation or '?'}]: " + "; ".join(self.problems)


def default_registries() -> list[ProviderRegistry]:
    """The registries of every generated provider and every plugin-registered one."""
    from py302._plugins import default_host
    from py302.generated import PROVIDER_MODULES

    modules = dict(PROVIDER_MODULES)
    modules.update({p.name: p.bindings for p in default_host().providers.values()})
    return [load_registry(module) for _, module in sorted(modules.items())]


def check_cassette(
    path: Path,
    registries: Sequence[ProviderRegistry] | None = None,
    *,
    api_hosts: Iterable[str] = DEFAULT_API_HOSTS,
    strict: bool | None = None,
) -> list[InteractionReport]:
    """Check every interaction of the cassette at `path`.

    With `strict`, drift counts too: a field the spec does not declare, a value
    outside its listed values, an undeclared status (errors included) is a problem,
    for recorded traffic that shows the spec is incomplete. By default a cassette is
    checked strictly when its `provenance` says it was recorded; cassettes built from
    the specs' examples (whose running states may be illustrative) are not.
    """
    registries = list(registries) if registries is not None else default_registries()
    hosts = frozenset(api_hosts)
    name = path.as_posix()
    try:
        cassette = read_cassette(path)
    except CassetteError as exc:
        return [
            InteractionReport(
                cassette=name,
                index=0,
                method="?",
                url="?",
                status=None,
                operation=None,
                problems=(str(exc),),
            )
        ]
    if strict is None:
        strict = is_recorded(cassette)
    called = dig(cassette, "provenance.operation")
    return [
        _check_interaction(
            name,
            index,
            item,
            registries,
            hosts,
            strict=strict,
            named=called if isinstance(called, str) else None,
        )
        for index, item in enumerate(cassette["interactions"])
    ]


def _check_interaction(
    name: str,
    index: int,
    item: Mapping[str, Any],
    registries: Sequence[ProviderRegistry],
    hosts: frozenset[str],
    *,
    strict: bool,
    named: str | None = None,
) -> InteractionReport:
    request, response = item["request"], item["response"]
    method = str(request["method"]).upper()
    url = str(request["uri"])
    status = int(response["status"]["code"])
    parts = urlsplit(url)
    problems = _secret_problems(request)

    def report(
        operation: str | None, found: list[str], skipped: str | None = None
    ) -> InteractionReport:
        return InteractionReport(
            cassette=name,
            index=index,
            method=method,
            url=url,
            status=status,
            operation=operation,
            problems=tuple(found),
            skipped=skipped,
        )

    found = find_operation(registries, method, url, named=named)
    if found is None:
        if parts.hostname not in hosts:
            return report(None, problems, skipped="not an API host (a download)")
        return report(None, [*problems, "no operation in the specs matches this request"])
    registry, spec = found
    problems += _request_problems(registry, spec, request, parts.query)
    problems += _response_problems(registry, spec, status, response)
    if strict:
        drift = interaction_findings(registry, spec, request, response)
        problems += [f"drift: {f.where} {f.path or '(body)'}: {f.detail}" for f in drift]
    return report(spec.qualified_name, problems)


def _secret_problems(request: Mapping[str, Any]) -> list[str]:
    """Credential headers holding anything but a documentation placeholder."""
    headers = {key.lower(): value for key, value in (request.get("headers") or {}).items()}
    return [
        f"request header {name} is recorded; cassettes must not hold credentials"
        for name, values in sorted(headers.items())
        if is_secret_header(name)
        and not all(
            is_placeholder_secret(str(v))
            for v in (values if isinstance(values, list) else [values])
        )
    ]


def _request_problems(
    registry: ProviderRegistry, spec: OperationSpec, request: Mapping[str, Any], query: str
) -> list[str]:
    problems = []
    values = dict(parse_qsl(query, keep_blank_values=True))
    for param in spec.parameters:
        if param.location != "query":
            continue
        if param.name not in values:
            if param.required:
                problems.append(f"request: query parameter {param.name} is missing")
            continue
        value = coerce_text(values[param.name], param.schema)
        problems += [
            f"request: query {param.name}: {rule}"
            for _, rule in schema_problems(registry, param.schema, value)
        ]
    if (
        spec.request_schema is not None
        and spec.request_content_type
        and is_json_type(spec.request_content_type)
    ):
        body = json_body(request.get("body"))
        if body is NOT_JSON:
            problems.append("request: body is not JSON")
        else:
            problems += [
                f"request: {field}: {rule}"
                for field, rule in schema_problems(registry, spec.request_schema, body or {})
            ]
    return problems


def _response_problems(
    registry: ProviderRegistry, spec: OperationSpec, status: int, response: Mapping[str, Any]
) -> list[str]:
    declared = spec.response_for(status)
    if declared is None:
        return [] if status >= 400 else [f"response: status {status} is not declared"]
    headers = {key.lower(): value for key, value in (response.get("headers") or {}).items()}
    content_type = (headers.get("content-type") or [""])[0]
    media = spec.media_for(status, content_type)
    if media is None:
        if declared.get("media_types") and status < 400:
            return [f"response: media type {content_type or '(none)'} is not declared for {status}"]
        return []
    schema = media.get("schema")
    raw = (response.get("body") or {}).get("string")
    if is_event_stream(content_type):
        return _stream_problems(registry, spec, schema, raw)
    if schema is None or not is_json_type(content_type):
        return []
    body = json_body(raw)
    if body is NOT_JSON:
        return ["response: body is not JSON"]
    return [
        f"response: {field}: {rule}"
        for field, rule in schema_problems(registry, schema, body, direction="response")
    ]


def _stream_problems(
    registry: ProviderRegistry, spec: OperationSpec, schema: Any, raw: Any
) -> list[str]:
    """Each event's data against the event schema, and the stream's end (`_events`).

    An event that reports an error is the API's answer, not a schema problem: the
    stream ends there, as it does for the client.
    """
    stream = read_stream(raw, spec)
    problems = []
    for event in stream.events:
        if event.data is NOT_JSON:
            problems.append(f"response: event {event.number}: data is not JSON")
        elif schema is not None:
            problems += [
                f"response: event {event.number}: {field}: {rule}"
                for field, rule in schema_problems(
                    registry, schema, event.data, direction="response"
                )
            ]
    if stream.missing_end and spec.stream_declaration.done_required:
        problems.append(
            f"response: the stream ends after {stream.count} event(s) without its end "
            f"marker {stream.done!r}"
        )
    problems += [
        f"response: event {number} comes after the end marker {stream.done!r}"
        for number in stream.after_end
    ]
    return problems
