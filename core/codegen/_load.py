"""Reading spec fragments and checking them against the rules in specs/README.md."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from py302._declared import DECLARED
from py302._validation import rebase_refs, validator_class

from ._errors import CodegenError
from ._extensions import (
    EVENT_STREAM,
    event_stream_problems,
    is_event_stream,
    read_event_stream,
    result_problems,
    stream_block,
)
from ._normalize import invalid_defaults, normalize, pointer
from ._plain import PLAIN_MARK, adopt, is_plain

__all__ = [
    "EVIDENCE_LEVELS",
    "Fragment",
    "discover",
    "fragment_digests",
    "load_fragments",
    "read_inventory",
]

_SUFFIXES = (".yaml", ".yml", ".json")
EVIDENCE_LEVELS = ("recorded", "doc", "sdk", "upstream", "inferred")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_REQUIRED_KEYS = ("x-py302-doc", "x-py302-evidence", "x-py302-sources")
#: The keys without which py302._declared cannot read a declared task's status.
_DECLARED_REQUIRED = ("status_path", "succeeded", "failed")
_DECLARED_STATES = ("succeeded", "failed", "cancelled", "queued")  # lists of status values


@attrs.frozen(kw_only=True)
class Fragment:
    """One provider's spec: its merged document, where it came from, its hash."""

    provider: str
    name: str  # as shown in banners: "specs/acme.yaml"
    document: Mapping[str, Any]
    digest: str


def discover(specs_dir: Path) -> list[Path]:
    """The fragments in `specs_dir`: YAML (or JSON: a vendor's published document)
    files, and provider folders of YAML files, sorted."""
    found = [p for suffix in _SUFFIXES for p in specs_dir.glob(f"*{suffix}")] + [
        path for path in specs_dir.iterdir() if path.is_dir() and any(path.glob("*.yaml"))
    ]
    return sorted(found, key=lambda path: path.name)


def read_inventory(specs_dir: Path) -> set[str] | None:
    """The ids of `doc-inventory.tsv` beside the fragments, or None if there is none."""
    path = specs_dir / "doc-inventory.tsv"
    if not path.exists():
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["id"] for row in csv.DictReader(handle, delimiter="\t")}


def fragment_digests(specs_dir: Path, display_root: Path | None = None) -> dict[str, str]:
    """Display name -> content hash of every fragment, without parsing anything."""
    root = display_root or specs_dir.parent
    digests = {}
    for path in discover(specs_dir):
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        digest = hashlib.sha256()
        for file in files:
            digest.update(file.name.encode() + b"\0" + file.read_bytes())
        digests[_display(path, root)] = digest.hexdigest()
    return digests


def load_fragments(specs_dir: Path, display_root: Path | None = None) -> list[Fragment]:
    """Load and check every fragment; `CodegenError` lists every problem in all of them."""
    import yaml

    inventory = read_inventory(specs_dir)
    fragments: list[Fragment] = []
    problems: list[str] = []
    root = display_root or specs_dir.parent
    providers: dict[str, str] = {}
    for path in discover(specs_dir):
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        name = _display(path, root)
        digest = hashlib.sha256()
        documents = []
        for file in files:
            raw = file.read_bytes()
            digest.update(file.name.encode() + b"\0" + raw)
            try:
                documents.append(yaml.safe_load(raw))
            except yaml.YAMLError as exc:
                problems.append(f"{_display(file, root)}: not valid YAML: {exc}")
        if len(documents) != len(files):
            continue
        merged = _merge(documents, name, problems)
        if is_plain(merged):
            merged = adopt(merged, provider=_provider_name(path), source=name)
        document, found = normalize(merged, name)
        found += check_document(document, name, inventory)
        problems.extend(found)
        provider = document.get("x-py302-provider", "")
        if provider in providers:
            problems.append(
                f"{name}: provider {provider!r} is also defined in {providers[provider]}"
            )
        providers[provider] = name
        if not found:
            fragments.append(
                Fragment(provider=provider, name=name, document=document, digest=digest.hexdigest())
            )
    if problems:
        raise CodegenError(problems)
    return fragments


def _provider_name(path: Path) -> str:
    """The provider a plain document's file stands for: `Pet Store.yaml` -> `pet_store`."""
    stem = path.stem if path.is_file() else path.name
    words = re.findall(r"[A-Za-z0-9]+", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", stem))
    name = "_".join(word.lower() for word in words) or "plain"
    return name if name[0].isalpha() else f"p_{name}"


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _merge(documents: list[Any], name: str, problems: list[str]) -> dict[str, Any]:
    """One document from a provider folder's files (paths and schemas may not clash)."""
    merged: dict[str, Any] = dict(documents[0])
    for extra in documents[1:]:
        for path, item in extra.get("paths", {}).items():
            if path in merged.setdefault("paths", {}):
                problems.append(f"{name}: path {path} is defined twice")
            merged["paths"][path] = item
        for section, entries in (extra.get("components") or {}).items():
            target = merged.setdefault("components", {}).setdefault(section, {})
            for entry_name, entry in (entries or {}).items():
                if entry_name in target and target[entry_name] != entry:
                    problems.append(
                        f"{name}: components/{section}/{entry_name} is defined twice, differently"
                    )
                target[entry_name] = entry
    return merged


def iter_operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """`(path, METHOD, operation)` for every operation, in document order."""
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method.upper(), item[method]


def check_document(document: Any, name: str, inventory: set[str] | None) -> list[str]:
    """Every way `document` breaks the fragment rules (empty when it is fine)."""
    if not isinstance(document, dict):
        return [f"{name}: the document is not a mapping"]
    problems = _openapi_problems(document, name)
    provider = document.get("x-py302-provider")
    if not isinstance(provider, str) or not _IDENTIFIER.match(provider):
        problems.append(
            f"{name}: x-py302-provider must be a lower-case identifier, got {provider!r}"
        )
    schemas = document.get("components", {}).get("schemas", {})
    for schema_name in schemas:
        if not _PASCAL.match(schema_name):
            problems.append(f"{name}: schema name {schema_name!r} is not PascalCase")
    if "x-py302-result" in document:
        problems.extend(result_problems(document["x-py302-result"], f"{name}: the document root"))
    seen: dict[str, str] = {}
    operations = list(iter_operations(document))
    op_ids = {op.get("operationId") for _, _, op in operations}
    for path, method, op in operations:
        where = f"{name}: {method} {path}"
        op_id = op.get("operationId")
        if not isinstance(op_id, str) or not _SNAKE.match(op_id):
            problems.append(f"{where}: operationId {op_id!r} is not snake_case")
            continue
        where = f"{name}: {op_id}"
        if op_id in seen:
            problems.append(f"{where}: operationId also used by {seen[op_id]}")
        seen[op_id] = f"{method} {path}"
        problems.extend(_operation_problems(op, where, provider, inventory, op_ids))
        problems.extend(event_stream_problems(document, op, where))
        if "x-py302-result" in op:
            problems.extend(result_problems(op["x-py302-result"], where, removable=True))
    if not document.get(PLAIN_MARK):
        problems.extend(_example_problems(document, name))
    return problems


def _openapi_problems(document: Mapping[str, Any], name: str) -> list[str]:
    """Every way `document` breaks OpenAPI 3.1 itself, each at its JSON pointer."""
    from openapi_spec_validator import OpenAPIV31SpecValidator

    if not str(document.get("openapi", "")).startswith("3.1"):
        return [f"{name}: must be OpenAPI 3.1 (openapi: 3.1.0), or 3.0 for a plain document"]
    defaults = invalid_defaults(document)
    problems = [
        f"{name}: {pointer(*where)}: the default does not match its own schema; fix or drop it"
        for where in defaults
    ]
    try:
        for error in OpenAPIV31SpecValidator(dict(document)).iter_errors():
            path = tuple(getattr(error, "absolute_path", ()))
            if not path and defaults:
                continue  # a default checked against its schema, reported where it is above
            problems.append(
                f"{name}: {pointer(*path)}: not valid OpenAPI 3.1: {str(error).splitlines()[0]}"
            )
    except Exception as exc:  # the validator trips over some broken documents itself
        problems.append(f"{name}: not valid OpenAPI 3.1 (the validator stopped at {exc!r})")
    return sorted(set(problems))


def _operation_problems(
    op: Mapping[str, Any],
    where: str,
    provider: Any,
    inventory: set[str] | None,
    op_ids: set[Any],
) -> list[str]:
    problems = []
    if op.get("tags") != [provider]:
        problems.append(f"{where}: tags must be [{provider}]")
    if not op.get("summary"):
        problems.append(f"{where}: needs a summary")
    for key in _REQUIRED_KEYS:
        if key not in op:
            problems.append(f"{where}: needs {key}")
    doc_ids = op.get("x-py302-doc") or []
    if not isinstance(doc_ids, list) or not doc_ids:
        problems.append(f"{where}: x-py302-doc must list inventory ids")
    elif inventory is not None:
        problems.extend(
            f"{where}: x-py302-doc id {doc_id!r} is not in doc-inventory.tsv"
            for doc_id in doc_ids
            if doc_id not in inventory
        )
    evidence = op.get("x-py302-evidence")
    if evidence not in EVIDENCE_LEVELS:
        problems.append(f"{where}: x-py302-evidence must be one of {', '.join(EVIDENCE_LEVELS)}")
    sources = op.get("x-py302-sources", [])
    if not isinstance(sources, list) or (evidence != "inferred" and not sources):
        problems.append(f"{where}: x-py302-sources must list the URLs the shape comes from")
    if evidence in {"upstream", "inferred"} and not op.get("x-py302-notes"):
        problems.append(f"{where}: evidence {evidence} needs x-py302-notes saying what is unknown")
    problems.extend(_task_problems(op.get("x-py302-task"), where, op_ids))
    problems.extend(_body_problems(op, where))
    return problems


def _task_problems(task: Any, where: str, op_ids: set[Any]) -> list[str]:
    if task is None:
        return []
    if not isinstance(task, dict) or not {"pattern", "poll"} <= task.keys():
        # `pattern` is required even for the declared one: the block says who reads
        # the task's answers, rather than leaving it to a default.
        return [
            f"{where}: x-py302-task needs pattern and poll; pattern is the name of a task "
            f"pattern a plugin registers, or {DECLARED} for one read from this block "
            f"({', '.join(_DECLARED_REQUIRED)} and the optional keys in specs/README.md)"
        ]
    problems = [
        f"{where}: x-py302-task.{key} names no operation: {task[key]!r}"
        for key in ("poll", "cancel")
        if key in task and task[key] not in op_ids
    ]
    if "result" in task:
        problems.extend(result_problems(task["result"], f"{where}: x-py302-task.result"))
    missing = [key for key in _DECLARED_REQUIRED if key not in task]
    if task["pattern"] == DECLARED and missing:
        problems.append(f"{where}: x-py302-task with pattern {DECLARED} lacks {', '.join(missing)}")
    if task["pattern"] == DECLARED:
        problems.extend(
            f"{where}: x-py302-task.{key} must list status values, got {task[key]!r}"
            for key in _DECLARED_STATES
            if key in task
            and (
                not isinstance(task[key], list)
                or any(isinstance(v, dict | list) for v in task[key])
            )
        )
    return problems


def _body_problems(op: Mapping[str, Any], where: str) -> list[str]:
    problems = [
        f"{where}: the {media} request body must be a $ref to a component"
        for media, content in op.get("requestBody", {}).get("content", {}).items()
        if "$ref" not in content.get("schema", {})
    ]
    for status, response in op.get("responses", {}).items():
        if not str(status).startswith("2"):
            continue
        problems.extend(
            f"{where}: the {status} {media} response must be a $ref"
            for media, content in response.get("content", {}).items()
            if "json" in media and "$ref" not in content.get("schema", {})
        )
    return problems


def _example_problems(document: Mapping[str, Any], name: str) -> list[str]:
    """Every example must validate against its schema, or it teaches the wrong thing."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    uri = "urn:py302:fragment"
    resource = Resource.from_contents(dict(document), default_specification=DRAFT202012)
    store = Registry().with_resource(uri, resource)
    problems = []
    for _path, _method, op in iter_operations(document):
        bodies = [("request", op.get("requestBody", {}).get("content", {}))]
        bodies += [
            (f"response {status}", response.get("content", {}))
            for status, response in op.get("responses", {}).items()
        ]
        for label, contents in bodies:
            for media, content in contents.items():
                examples = []
                if "example" in content:
                    examples.append(content["example"])
                examples += [
                    item.get("value")
                    for item in content.get("examples", {}).values()
                    if "value" in item
                ]
                schema = content.get("schema")
                streamed = is_event_stream(media)
                if not schema or ("json" not in media and not streamed):
                    continue
                rooted = {"$id": uri + "/check", **rebase_refs(schema, uri)}
                checks = "request" if label == "request" else "response"
                validator = validator_class(checks)(rooted, registry=store)
                where = f"{name}: {op.get('operationId')} {label}"
                if streamed:
                    done = stream_block(op).get("done")
                    for example in examples:
                        problems.extend(_stream_example_problems(example, validator, done, where))
                    continue
                for example in examples:
                    problems.extend(
                        f"{where} example at {_at(error)}: {error.message}"
                        for error in validator.iter_errors(example)
                    )
    return problems


def _at(error: Any) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(root)"


def _stream_example_problems(example: Any, validator: Any, done: Any, where: str) -> list[str]:
    """An event-stream example: raw `data:` lines whose JSON follows the event schema,
    possibly ending with the `done` sentinel."""
    where = f"{where} {EVENT_STREAM} example"
    try:
        events = read_event_stream(example)
    except ValueError as exc:
        return [f"{where} does not parse: {exc}"]
    problems = []
    for number, data in enumerate(events, start=1):
        if data == done:
            if number < len(events):
                problems.append(f"{where}: event {number} is the done sentinel, yet more follow")
            continue
        try:
            event = json.loads(data)
        except ValueError:
            problems.append(f"{where}: event {number} is not JSON: {data[:40]!r}")
            continue
        problems.extend(
            f"{where}: event {number} at {_at(error)}: {error.message}"
            for error in validator.iter_errors(event)
        )
    return problems
