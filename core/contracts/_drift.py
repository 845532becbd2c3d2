"""Drift: where recorded traffic and the specs disagree, finding by finding.

Validation (`py302.contracts._contract`) answers "is this interaction allowed by the
spec?"; drift answers "what does the traffic show that the spec does not say?". It
walks each recorded JSON body alongside its schema, and each event of a recorded
event stream alongside the stream's event schema (as `_events` reads the stream: not
the end marker, nor an error event), and notes:

* `unknown_field`   a field was seen that the schema does not declare;
* `unseen_field`    a declared field never appeared in any recording of it;
* `type_mismatch`   a value's JSON type is not one the schema allows;
* `unknown_value`   a value outside the schema's listed values (open enums included);
* `undocumented_status`  an HTTP status the operation does not declare.

Every finding carries the JSON pointer, into the fragment, of the schema that would
have to change, which is what `py302 specs learn` edits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from py302._registry import OperationSpec, ProviderRegistry, media_type
from py302._transport import is_json_type
from py302._validation import coerce_text
from py302.payloads import json_type

from ._cassettes import FILE_PART, NOT_JSON, form_fields, is_recorded, json_body, read_cassette
from ._events import is_event_stream, read_stream
from ._match import find_operation

__all__ = [
    "FINDING_KINDS",
    "DriftReport",
    "Finding",
    "find_drift",
    "interaction_findings",
    "operation_pointer",
]

FindingKind = Literal[
    "unknown_field", "unseen_field", "type_mismatch", "unknown_value", "undocumented_status"
]
FINDING_KINDS: tuple[str, ...] = FindingKind.__args__  # type: ignore[attr-defined]
_MAX_VALUES = 50  # enough for a schema to be inferred, small enough to print


@attrs.frozen(kw_only=True)
class Finding:
    """One disagreement between recordings and an operation's spec.

    `where` is `request` or `response <status>`; `path` the place in the body
    (`result.seed`, `images[].url`, `*` for a map's values, empty for the body);
    `pointer` the JSON pointer of the schema in the fragment that lacks the fact;
    `values` what was recorded there.
    """

    operation: str
    kind: FindingKind
    where: str
    path: str
    detail: str
    pointer: str | None = None
    values: tuple[Any, ...] = ()
    cassettes: tuple[str, ...] = ()
    count: int = 1
    known: tuple[Any, ...] = ()
    """For `unknown_value`: the values the spec lists."""

    @property
    def key(self) -> tuple[str, str, str, str, str | None]:
        """What identifies the finding when merging many recordings."""
        return (self.operation, self.kind, self.where, self.path, self.pointer)

    def line(self) -> str:
        """One line for people."""
        seen = f" (x{self.count})" if self.count > 1 else ""
        return f"{self.kind:<20} {self.where:<13} {self.path or '(body)'}: {self.detail}{seen}"

    def as_json(self) -> dict[str, Any]:
        """The finding as plain JSON."""
        return {
            "operation": self.operation,
            "kind": self.kind,
            "where": self.where,
            "path": self.path,
            "detail": self.detail,
            "pointer": self.pointer,
            "values": list(self.values),
            "cassettes": list(self.cassettes),
            "count": self.count,
        }


@attrs.frozen(kw_only=True)
class DriftReport:
    """The findings over some cassettes, and how many interactions each operation had."""

    findings: tuple[Finding, ...]
    interactions: Mapping[str, int]
    cassettes: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    """Operation -> the cassettes that hold its interactions."""
    unrecorded: frozenset[str] = frozenset()
    """The cassettes whose provenance does not say they are recorded traffic."""
    unmatched: tuple[str, ...] = ()

    def for_operation(self, operation: str) -> list[Finding]:
        """The findings of one operation (`provider.operation`)."""
        return [f for f in self.findings if f.operation == operation]

    def as_json(self) -> dict[str, Any]:
        """The report as plain JSON, findings grouped by operation."""
        operations: dict[str, Any] = {
            name: {"interactions": count, "findings": []}
            for name, count in sorted(self.interactions.items())
        }
        for finding in self.findings:
            operations[finding.operation]["findings"].append(finding.as_json())
        return {"operations": operations, "unmatched": list(self.unmatched)}


def operation_pointer(spec: OperationSpec) -> str:
    """The JSON pointer of the operation object in its fragment."""
    return f"/paths/{_escape(spec.path)}/{spec.method.lower()}"


def interaction_findings(
    registry: ProviderRegistry,
    spec: OperationSpec,
    request: Mapping[str, Any],
    response: Mapping[str, Any],
    *,
    cassette: str = "",
) -> list[Finding]:
    """The drift one interaction shows (no `unseen_field`: that needs them all)."""
    walker = _Walker(registry, spec.qualified_name, cassette)
    walker.interaction(spec, request, response)
    return walker.findings


def find_drift(
    paths: Iterable[Path], registries: Sequence[ProviderRegistry], *, operation: str | None = None
) -> DriftReport:
    """Drift over every interaction of the cassettes at `paths` (optionally one operation)."""
    merged: dict[tuple[str, str, str, str, str | None], Finding] = {}
    declared: dict[tuple[str, str], dict[str, str | None]] = {}
    seen: dict[tuple[str, str], set[str]] = {}
    counts: dict[str, int] = {}
    used: dict[str, dict[str, None]] = {}
    unmatched: list[str] = []
    unrecorded: set[str] = set()
    for path in paths:
        name = path.as_posix()
        cassette = read_cassette(path)
        if not is_recorded(cassette):
            unrecorded.add(name)
        for index, item in enumerate(cassette["interactions"]):
            request, response = item["request"], item["response"]
            found = find_operation(registries, str(request["method"]), str(request["uri"]))
            if found is None:
                unmatched.append(f"{name}#{index} {request['method']} {request['uri']}")
                continue
            registry, spec = found
            if operation is not None and spec.qualified_name != operation:
                continue
            counts[spec.qualified_name] = counts.get(spec.qualified_name, 0) + 1
            used.setdefault(spec.qualified_name, {})[name] = None
            walker = _Walker(registry, spec.qualified_name, name)
            walker.interaction(spec, request, response)
            for finding in walker.findings:
                _merge(merged, finding)
            for where, paths_declared in walker.declared.items():
                declared.setdefault((spec.qualified_name, where), {}).update(paths_declared)
            for where, paths_seen in walker.seen.items():
                seen.setdefault((spec.qualified_name, where), set()).update(paths_seen)
    findings = list(merged.values())
    for (op_name, where), fields in sorted(declared.items()):
        observed = seen.get((op_name, where), set())
        for field, pointer in sorted(fields.items()):
            if field not in observed:
                findings.append(
                    Finding(
                        operation=op_name,
                        kind="unseen_field",
                        where=where,
                        path=field,
                        detail="declared but never seen in these recordings",
                        pointer=pointer,
                        count=counts[op_name],
                    )
                )
    findings.sort(key=lambda f: (f.operation, FINDING_KINDS.index(f.kind), f.where, f.path))
    return DriftReport(
        findings=tuple(findings),
        interactions=counts,
        cassettes={op_name: tuple(names) for op_name, names in used.items()},
        unrecorded=frozenset(unrecorded),
        unmatched=tuple(unmatched),
    )


def _merge(merged: dict[tuple[str, str, str, str, str | None], Finding], new: Finding) -> None:
    old = merged.get(new.key)
    if old is None:
        merged[new.key] = new
        return
    values = list(old.values)
    known = {_fingerprint(v) for v in values}
    for value in new.values:
        if len(values) < _MAX_VALUES and _fingerprint(value) not in known:
            values.append(value)
            known.add(_fingerprint(value))
    cassettes = tuple(dict.fromkeys(old.cassettes + new.cassettes))
    detail = old.detail if old.kind != "unknown_value" else _unknown_detail(values, old.known)
    merged[new.key] = attrs.evolve(
        old, values=tuple(values), cassettes=cassettes, count=old.count + 1, detail=detail
    )


def _unknown_detail(values: Sequence[Any], known: Sequence[Any]) -> str:
    shown = ", ".join(json.dumps(v, ensure_ascii=False) for v in values)
    listed = ", ".join(json.dumps(v, ensure_ascii=False) for v in known)
    return f"unknown value {shown} (known: {listed})"


def _fingerprint(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class _Walker:
    """Walks bodies alongside schemas, collecting findings and declared/seen fields."""

    def __init__(self, registry: ProviderRegistry, operation: str, cassette: str) -> None:
        self.registry = registry
        self.operation = operation
        self.cassette = cassette
        self.findings: list[Finding] = []
        self.declared: dict[str, dict[str, str | None]] = {}
        self.seen: dict[str, set[str]] = {}
        self._where = ""

    def interaction(
        self, spec: OperationSpec, request: Mapping[str, Any], response: Mapping[str, Any]
    ) -> None:
        base = operation_pointer(spec)
        body = self._request_body(spec, request)
        if spec.request_schema is not None and body is not None:
            media = _escape(str(spec.request_content_type))
            self._where = "request"
            self.walk(spec.request_schema, body, "", f"{base}/requestBody/content/{media}/schema")
        status = int(response["status"]["code"])
        key = spec.response_key(status)
        self._where = f"response {status}"
        if key is None:
            self._add(
                "undocumented_status",
                "",
                f"status {status} is not declared",
                f"{base}/responses",
                _response_value(response),
            )
            return
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        content_type = str((headers.get("content-type") or [""])[0])
        media_entry = spec.media_for(status, content_type)
        schema = media_entry.get("schema") if media_entry is not None else None
        if schema is None:
            return
        pointer = f"{base}/responses/{key}/content/{_escape(media_type(content_type))}/schema"
        raw = (response.get("body") or {}).get("string")
        if is_event_stream(content_type):
            for event in read_stream(raw, spec).events:
                if event.data is not NOT_JSON:
                    self.walk(schema, event.data, "", pointer)
            return
        body = json_body(raw) if is_json_type(content_type) else NOT_JSON
        if body is not NOT_JSON:
            self.walk(schema, body, "", pointer)

    def _request_body(self, spec: OperationSpec, request: Mapping[str, Any]) -> Any:
        """The request body as JSON, or a form's fields typed by their schemas."""
        if _is_json(spec.request_content_type):
            body = json_body(request.get("body"))
            return None if body is NOT_JSON else body
        headers = {k.lower(): v for k, v in (request.get("headers") or {}).items()}
        sent_type = str((headers.get("content-type") or [spec.request_content_type or ""])[0])
        fields = form_fields(request.get("body"), sent_type)
        if fields is None:
            return None
        properties = self.registry.body_properties(spec)
        return {
            name: value
            if value == FILE_PART or name not in properties
            else coerce_text(value, properties[name])
            for name, value in fields.items()
        }

    # -- the walk -----------------------------------------------------------------------

    def walk(self, schema: Any, value: Any, path: str, pointer: str) -> None:
        schema, pointer = self._follow(schema, pointer)
        if not isinstance(schema, Mapping) or not schema:
            return
        for keyword in ("anyOf", "oneOf"):
            if keyword in schema:
                branches = [
                    self._follow(branch, f"{pointer}/{keyword}/{i}")
                    for i, branch in enumerate(schema[keyword])
                ]
                self._walk_branches(schema, branches, value, path, pointer)
                return
        if not _type_fits(schema, value):
            self._mismatch(schema, value, path, pointer)
            return
        if "enum" in schema and value not in schema["enum"]:
            self._unknown_value(value, path, pointer, schema["enum"])
        self._descend([(schema, pointer)], value, path)

    def _walk_branches(
        self,
        schema: Mapping[str, Any],
        branches: list[tuple[Any, str]],
        value: Any,
        path: str,
        pointer: str,
    ) -> None:
        fitting = [(s, p) for s, p in branches if isinstance(s, Mapping) and _type_fits(s, value)]
        if not fitting:
            self._mismatch(schema, value, path, pointer, branches)
            return
        fitting = self._discriminated(fitting, value)
        listed = [(s, p) for s, p in fitting if "enum" in s]
        if listed and not any(value in s["enum"] for s, _ in listed):
            known = [v for s, _ in listed for v in s["enum"]]
            self._unknown_value(value, path, listed[0][1], known)
        self._descend(fitting, value, path)

    def _discriminated(self, branches: list[tuple[Any, str]], value: Any) -> list[tuple[Any, str]]:
        """Of object branches, those whose constant fields agree with `value` (a union
        of message kinds told apart by `role: {const: user}` and the like); all of them
        when none does, so that the walk still reports something."""
        if not isinstance(value, dict):
            return branches
        agreeing = [(s, p) for s, p in branches if self._constants_agree(s, value)]
        return agreeing or branches

    def _constants_agree(self, schema: Mapping[str, Any], value: dict[str, Any]) -> bool:
        for name, declared in (schema.get("properties") or {}).items():
            sub, _ = self._follow(declared, "")
            if (
                isinstance(sub, Mapping)
                and "const" in sub
                and value.get(name, sub["const"]) != sub["const"]
            ):
                return False
        return True

    def _descend(self, parts: list[tuple[Any, str]], value: Any, path: str) -> None:
        if isinstance(value, dict):
            self._object(parts, value, path)
        elif isinstance(value, list):
            for schema, pointer in parts:
                if isinstance(schema, Mapping) and "items" in schema:
                    for item in value:
                        self.walk(schema["items"], item, f"{path}[]", f"{pointer}/items")
                    return

    def _object(self, parts: list[tuple[Any, str]], value: dict[str, Any], path: str) -> None:
        expanded: list[tuple[Mapping[str, Any], str]] = []
        for schema, pointer in parts:
            expanded.append((schema, pointer))
            for i, member in enumerate(schema.get("allOf", [])):
                followed = self._follow(member, f"{pointer}/allOf/{i}")
                if isinstance(followed[0], Mapping):
                    expanded.append(followed)
        properties: dict[str, tuple[Any, str]] = {}
        owner: str | None = None
        additional: Any = None
        for schema, pointer in expanded:
            declared = schema.get("properties") or {}
            if declared and owner is None:
                owner = pointer
            for name, sub in declared.items():
                properties.setdefault(name, (sub, f"{pointer}/properties/{_escape(name)}"))
            if additional is None and "additionalProperties" in schema:
                additional = schema["additionalProperties"]
        fields = self.declared.setdefault(self._where, {})
        for name, (_, pointer) in properties.items():
            fields.setdefault(_join(path, name), pointer)
        seen = self.seen.setdefault(self._where, set())
        for name, item in value.items():
            child = _join(path, name)
            seen.add(child)
            if name in properties:
                self.walk(properties[name][0], item, child, properties[name][1])
            elif isinstance(additional, Mapping) and additional:
                self.walk(
                    additional, item, _join(path, "*"), f"{expanded[0][1]}/additionalProperties"
                )
            elif owner is not None or additional is False:
                self._add(
                    "unknown_field",
                    child,
                    f"field {name!r} is not in the spec",
                    owner or expanded[0][1],
                    item,
                )
            # An object schema that lists no properties is free-form: nothing to learn.

    # -- findings -------------------------------------------------------------------------

    def _mismatch(
        self,
        schema: Mapping[str, Any],
        value: Any,
        path: str,
        pointer: str,
        branches: list[tuple[Any, str]] | None = None,
    ) -> None:
        allowed = sorted(
            {t for s, _ in (branches or [(schema, pointer)]) for t in _declared_types(s)}
        )
        self._add(
            "type_mismatch",
            path,
            f"{json_type(value)} where the spec allows {' | '.join(allowed) or 'other types'}",
            pointer,
            value,
        )

    def _unknown_value(self, value: Any, path: str, pointer: str, known: Sequence[Any]) -> None:
        detail = _unknown_detail([value], known)
        self._add("unknown_value", path, detail, pointer, value, known=tuple(known))

    def _add(
        self,
        kind: FindingKind,
        path: str,
        detail: str,
        pointer: str,
        value: Any,
        *,
        known: tuple[Any, ...] = (),
    ) -> None:
        self.findings.append(
            Finding(
                operation=self.operation,
                kind=kind,
                where=self._where,
                path=path,
                detail=detail,
                pointer=pointer,
                values=(value,),
                cassettes=(self.cassette,) if self.cassette else (),
                known=known,
            )
        )

    def _follow(self, schema: Any, pointer: str) -> tuple[Any, str]:
        hops = 0
        while isinstance(schema, Mapping) and "$ref" in schema and hops < 16:
            ref = str(schema["$ref"])
            pointer = ref[1:] if ref.startswith("#") else ref
            schema = self.registry.resolve({"$ref": ref})
            hops += 1
        return schema, pointer


def _response_value(response: Mapping[str, Any]) -> Any:
    body = json_body((response.get("body") or {}).get("string"))
    return None if body is NOT_JSON else body


def _is_json(content_type: str | None) -> bool:
    return bool(content_type) and is_json_type(str(content_type))


def _declared_types(schema: Any) -> list[str]:
    if not isinstance(schema, Mapping):
        return []
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [str(t) for t in declared]
    if "const" in schema:
        return [json_type(schema["const"])]
    if "enum" in schema:
        return sorted({json_type(v) for v in schema["enum"]})
    return []


def _type_fits(schema: Mapping[str, Any], value: Any) -> bool:
    if "const" in schema:
        return bool(schema["const"] == value)
    declared = _declared_types(schema) if "type" in schema else []
    if not declared:
        return True
    actual = json_type(value)
    if actual in declared:
        return True
    if actual == "integer" and "number" in declared:
        return True
    return actual == "number" and "integer" in declared and float(value).is_integer()


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
