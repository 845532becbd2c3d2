"""Learning a fragment's corrections from recorded traffic.

`propose()` runs drift detection for one operation against the fragment as it is in
a specs folder (compiled in memory, not the installed bindings), then edits a copy
of the fragment so the spec agrees with the recordings:

* a field seen but not declared is added, its schema inferred from every recorded
  value (genson) and left optional, as response fields are by the house rules;
* a value outside a listed set is appended to the list;
* a value of an unexpected type widens the schema (`anyOf` the old and the seen);
* an undeclared status gets a response (a named component for a 2xx JSON body).

Fields declared but never seen are reported, not removed: a recording shows what
happened, not what cannot. When every recording used says it is real traffic
(`provenance.recorded`), the operation's evidence is raised to `recorded` and the
cassettes are added to its sources. The result is a unified diff to review and
apply; nothing is written unless asked.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from py302._registry import ProviderRegistry, registry_from_data
from py302.contracts import Finding, find_drift, operation_pointer

from ._errors import CodegenError, LearnError
from ._load import Fragment, discover, load_fragments
from ._render import fingerprint, render_fragment, write_atomically
from ._yaml_edit import EditableYaml

__all__ = ["Proposal", "compile_registries", "propose"]

_NEW_FIELD_NOTE = "Seen in recorded traffic; not in the documentation."


@attrs.frozen(kw_only=True)
class Proposal:
    """The edit that makes one fragment agree with the recordings of one operation."""

    operation: str
    path: Path
    display: str
    before: str
    after: str
    changes: tuple[str, ...]
    left_out: tuple[str, ...]
    evidence: tuple[str, str] | None

    @property
    def changed(self) -> bool:
        """Whether the fragment would change at all."""
        return self.before != self.after

    def patch(self) -> str:
        """A unified diff (`git apply` / `patch -p1` ready) from the fragment to the edit."""
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            fromfile=f"a/{self.display}",
            tofile=f"b/{self.display}",
        )
        return "".join(lines)

    def write(self) -> None:
        """Apply the edit to the fragment file (atomically)."""
        write_atomically(self.path, self.after)


def propose(specs_dir: Path, cassettes: Sequence[Path], operation: str) -> Proposal:
    """The fragment edit that makes `operation` agree with the `cassettes`."""
    provider, _, op_id = operation.partition(".")
    if not op_id:
        raise LearnError(f"name the operation as provider.operation, not {operation!r}")
    try:
        fragments = load_fragments(specs_dir)
    except CodegenError as exc:
        raise LearnError(f"the fragments in {specs_dir} do not compile: {exc}") from exc
    fragment = next((f for f in fragments if f.provider == provider), None)
    if fragment is None:
        known = ", ".join(sorted(f.provider for f in fragments)) or "none"
        raise LearnError(f"no fragment in {specs_dir} declares provider {provider!r} ({known})")
    registry = _compile(fragment)
    if op_id not in registry.operations:
        raise LearnError(f"{provider} has no operation {op_id!r}; see `py302 ops {provider}`")
    report = find_drift(cassettes, [registry], operation=operation)
    if not report.interactions.get(operation):
        spec = registry.operations[op_id]
        raise LearnError(
            f"no interaction in the cassettes is a call of {operation} ({spec.method} {spec.path})"
        )
    files = _fragment_files(specs_dir, fragment)
    editor = _Editor(files)
    changes: list[str] = []
    left_out: list[str] = []
    for finding in report.for_operation(operation):
        if finding.kind == "unseen_field":
            left_out.append(f"{finding.where} {finding.path}: declared, never seen (kept)")
            continue
        try:
            changes.append(editor.apply(finding, registry))
        except LearnError as exc:
            left_out.append(f"{finding.where} {finding.path or '(body)'}: {exc}")
    spec = registry.operations[op_id]
    used = sorted(report.cassettes.get(operation, ()))
    op_file, op_node = editor.locate(operation_pointer(spec))
    unrecorded = [name for name in used if name in report.unrecorded]
    evidence = _raise_evidence(op_node, used, unrecorded, changes, left_out)
    texts = editor.texts()
    edited = [p for p, text in texts.items() if text != editor.before[p]]
    path = edited[0] if edited else op_file
    return Proposal(
        operation=operation,
        path=path,
        display=_shown(path),
        before=editor.before[path],
        after=texts[path],
        changes=tuple(changes),
        left_out=tuple(left_out),
        evidence=evidence,
    )


def _raise_evidence(
    op_node: Any, used: list[str], unrecorded: list[str], changes: list[str], left_out: list[str]
) -> tuple[str, str] | None:
    """Mark the operation `recorded` if the recordings are real and fully explained."""
    if unrecorded:
        left_out.append(
            "evidence not raised: not marked as recorded traffic (provenance.recorded): "
            + ", ".join(unrecorded)
        )
        return None
    if any("declared, never seen" not in item for item in left_out):
        left_out.append("evidence not raised: some findings could not be placed")
        return None
    before = str(op_node.get("x-py302-evidence"))
    if before != "recorded":
        op_node["x-py302-evidence"] = "recorded"
        changes.append(f"evidence {before} -> recorded")
    sources = op_node.setdefault("x-py302-sources", [])
    for name in used:
        shown = _shown(Path(name))
        if shown not in sources:
            sources.append(shown)
            changes.append(f"source added: {shown}")
    return (before, "recorded")


def compile_registries(specs_dir: Path) -> list[ProviderRegistry]:
    """The registries of the fragments in `specs_dir`, compiled in memory."""
    try:
        fragments = load_fragments(specs_dir)
    except CodegenError as exc:
        raise LearnError(f"the fragments in {specs_dir} do not compile: {exc}") from exc
    return [_compile(fragment) for fragment in fragments]


def _compile(fragment: Fragment) -> ProviderRegistry:
    rendered = {f.name: f.text for f in render_fragment(fragment, fingerprint())}
    return registry_from_data(json.loads(rendered[f"{fragment.provider}.json"]))


def _fragment_files(specs_dir: Path, fragment: Fragment) -> list[Path]:
    for path in discover(specs_dir):
        if path.name == Path(fragment.name).name:
            return sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    raise LearnError(f"cannot find the file(s) of {fragment.name} in {specs_dir}")


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


class _Editor:
    """The fragment's files loaded for editing, addressed by JSON pointer."""

    def __init__(self, files: list[Path]) -> None:
        self.before = {path: path.read_text(encoding="utf-8") for path in files}
        self.yaml = {path: EditableYaml(text) for path, text in self.before.items()}

    def texts(self) -> dict[Path, str]:
        return {path: editable.dump() for path, editable in self.yaml.items()}

    def locate(self, pointer: str) -> tuple[Path, Any]:
        """The file holding `pointer` and the node there."""
        for path, editable in self.yaml.items():
            node = _walk(editable.document, pointer)
            if node is not None:
                return path, node
        raise LearnError(f"the fragment has nothing at {pointer}")

    def apply(self, finding: Finding, registry: ProviderRegistry) -> str:
        if finding.pointer is None:
            raise LearnError("no schema location was recorded")
        if finding.kind == "unknown_field":
            return self._add_field(finding)
        if finding.kind == "unknown_value":
            return self._add_values(finding)
        if finding.kind == "type_mismatch":
            return self._widen(finding)
        return self._add_response(finding, registry)

    def _add_field(self, finding: Finding) -> str:
        path, node = self.locate(finding.pointer or "")
        name = finding.path.rsplit(".", 1)[-1]
        properties = node.get("properties")
        if properties is None:
            node["properties"] = properties = self.yaml[path].new_map()
        schema = _infer(finding.values)
        schema["description"] = _NEW_FIELD_NOTE
        self.yaml[path].append_entry(properties, name, self.yaml[path].new_map(schema))
        return f"{finding.where} {finding.path}: field added ({_summary(schema)})"

    def _add_values(self, finding: Finding) -> str:
        _, node = self.locate(finding.pointer or "")
        listed = node.get("enum")
        if listed is None:
            raise LearnError("the schema there lists no values")
        added = [value for value in finding.values if value not in listed]
        listed.extend(added)
        shown = ", ".join(json.dumps(v, ensure_ascii=False) for v in added)
        return f"{finding.where} {finding.path}: value(s) {shown} added"

    def _widen(self, finding: Finding) -> str:
        pointer = finding.pointer or ""
        parent_pointer, _, key = pointer.rpartition("/")
        path, parent = self.locate(parent_pointer)
        token = _unescape(key)
        old = parent[int(token)] if isinstance(parent, list) else parent[token]
        seen = _infer(finding.values)
        if "anyOf" in old:
            old["anyOf"].append(self.yaml[path].new_map(seen))
        elif isinstance(old.get("type"), str | list) and set(seen) == {"type"}:
            types = [old["type"]] if isinstance(old["type"], str) else list(old["type"])
            new_types = seen["type"] if isinstance(seen["type"], list) else [seen["type"]]
            old["type"] = types + [t for t in new_types if t not in types]
        else:
            widened = self.yaml[path].new_map({"anyOf": [old, self.yaml[path].new_map(seen)]})
            if isinstance(parent, list):
                parent[int(token)] = widened
            else:
                parent[token] = widened
        return f"{finding.where} {finding.path or '(body)'}: also allows {_summary(seen)}"

    def _add_response(self, finding: Finding, registry: ProviderRegistry) -> str:
        path, responses = self.locate(finding.pointer or "")
        status = finding.where.rsplit(" ", 1)[-1]
        make = self.yaml[path].new_map
        response = make({"description": "Seen in recorded traffic; not documented."})
        bodies = [value for value in finding.values if value is not None]
        if bodies:
            schema = _infer(bodies)
            if status.startswith("2"):
                name = _component_name(finding, status)
                schemas = self._components(path)
                self.yaml[path].append_entry(schemas, name, make(schema))
                schema = {"$ref": f"#/components/schemas/{name}"}
            response["content"] = make({"application/json": make({"schema": make(schema)})})
        responses[status] = response
        return f"response {status}: declared"

    def _components(self, path: Path) -> Any:
        document = self.yaml[path].document
        make = self.yaml[path].new_map
        components = document.setdefault("components", make())
        return components.setdefault("schemas", make())


def _component_name(finding: Finding, status: str) -> str:
    op_id = finding.operation.split(".", 1)[1]
    return "".join(part.capitalize() for part in op_id.split("_")) + f"Response{status}"


def _infer(values: Sequence[Any]) -> dict[str, Any]:
    """A JSON Schema for the values, every field optional (house rule for answers)."""
    from genson import SchemaBuilder  # type: ignore[import-untyped]

    builder = SchemaBuilder(schema_uri=None)
    for value in values:
        builder.add_object(value)
    schema: dict[str, Any] = _drop_required(builder.to_schema())
    return schema


def _drop_required(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _drop_required(v) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [_drop_required(item) for item in schema]
    return schema


def _summary(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "any")
    return " | ".join(kind) if isinstance(kind, list) else str(kind)


def _walk(document: Any, pointer: str) -> Any:
    node = document
    for token in pointer.strip("/").split("/") if pointer.strip("/") else []:
        key = _unescape(token)
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                return None
            node = node[int(key)]
        elif hasattr(node, "get"):
            node = node.get(key)
        else:
            return None
        if node is None:
            return None
    return node


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")
