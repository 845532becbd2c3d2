"""Job files: one generation per line, every line checked before anything is sent.

A job file is JSON Lines. Each line names an operation and its arguments, by the
keyword names of the binding (`py302 run OPERATION --help` lists them):

    {"operation": "acme.draw", "arguments": {"prompt": "a red fox"}}
    {"operation": "acme.animate", "arguments": {"prompt": "waves"}, "name": "waves"}

A file argument (an image to edit) is `{"file": "photos/a.png"}`, relative to the job
file's folder; a URL is given as the string itself. Blank lines and lines starting
with `#` are skipped. `name` (optional) names the item's files instead of its line
number.

The same items can be written as a template and a table of variables
(`load_template`): `{"operation": ..., "arguments": {"prompt": "a {animal} at
{time}"}}` and a CSV or JSONL file whose columns fill the braces, one item per row.

Each item has a key: a hash of the job's name, the line's operation and arguments, and
how many identical lines came before it. The key, not the line number, is what makes
an item the same item when the job runs again after a crash or after lines were added.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import json
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from py302._errors import Py302Error, RequestValidationError

__all__ = ["JobFileError", "JobItem", "Problem", "load_job", "load_template"]

#: Where a problem is: the line (1-based; 0 for the file as a whole), the field, what.
Problem = tuple[int, str, str]
_MAX_PROBLEMS_SHOWN = 20


class JobFileError(Py302Error):
    """A job file that cannot run as it is; `problems` names each line and field."""

    def __init__(self, path: str, problems: Sequence[Problem]) -> None:
        self.path = path
        self.problems = list(problems)
        shown = [
            f"  line {line}: {field}: {what}" if line else f"  {field}: {what}"
            for line, field, what in self.problems[:_MAX_PROBLEMS_SHOWN]
        ]
        more = len(self.problems) - _MAX_PROBLEMS_SHOWN
        if more > 0:
            shown.append(f"  ... and {more} more")
        super().__init__(
            f"{path}: {len(self.problems)} problem(s), nothing was sent:\n" + "\n".join(shown)
        )


@attrs.frozen(kw_only=True)
class JobItem:
    """One generation of a job."""

    key: str
    line: int
    operation: str
    arguments: Mapping[str, Any]
    name: str | None = None

    def stem(self) -> str:
        """What its files are called (see `file_stem`)."""
        return file_stem(self.key, self.line, self.name)


def file_stem(key: str, line: int, name: str | None) -> str:
    """What an item's files are called: its name, else its line number, with the key's
    start so that an edited job never gives two items one name."""
    label = _safe(name) if name else f"{line:06d}"
    return f"{label}-{key[:8]}"


def item_key(job: str, operation: str, arguments: Any, occurrence: int) -> str:
    """The stable key of an item (see the module's docstring)."""
    canonical = json.dumps(
        [job, operation, arguments, occurrence], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def load_job(path: str | Path, *, job: str, client: Any) -> list[JobItem]:
    """The items of the JSON Lines job file at `path`, each checked against its
    operation's spec with `client` (nothing is sent); `JobFileError` lists every
    problem, by line and field, when there is any."""
    source = Path(path)
    lines = _read_lines(source)
    entries: list[tuple[int, Any]] = []
    problems: list[Problem] = []
    for number, text in lines:
        try:
            entries.append((number, json.loads(text)))
        except ValueError as exc:
            problems.append((number, "(line)", f"is not valid JSON ({exc})"))
    items = _checked(entries, source, job, client, problems)
    if problems:
        raise JobFileError(str(source), problems)
    return items


def load_template(
    template: Mapping[str, Any], variables: str | Path, *, job: str, client: Any, base: Path
) -> list[JobItem]:
    """One item per row of `variables` (CSV with a header, or JSON Lines of objects):
    `template`'s strings with `{column}` filled from the row. Row numbers count the
    rows of the variables file, header excluded, from 1."""
    source = Path(variables)
    problems: list[Problem] = []
    entries: list[tuple[int, Any]] = []
    for number, row in _rows(source, problems):
        try:
            entries.append((number, _filled(template, row)))
        except KeyError as exc:
            problems.append((number, str(exc.args[0]), "the template asks for it; no such column"))
        except ValueError as exc:
            problems.append((number, "(template)", str(exc)))
    items = _checked(entries, base, job, client, problems)
    if problems:
        raise JobFileError(str(source), problems)
    return items


def _read_lines(source: Path) -> list[tuple[int, str]]:
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JobFileError(str(source), [(0, "(file)", "does not exist")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JobFileError(str(source), [(0, "(file)", f"cannot be read ({exc})")]) from None
    return [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _rows(source: Path, problems: list[Problem]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    if source.suffix.lower() in {".jsonl", ".ndjson"}:
        for number, text in _read_lines(source):
            try:
                row = json.loads(text)
            except ValueError as exc:
                problems.append((number, "(line)", f"is not valid JSON ({exc})"))
                continue
            if not isinstance(row, dict):
                problems.append((number, "(line)", "must be a JSON object of column values"))
                continue
            yield number, row
        return
    try:
        with source.open(newline="", encoding="utf-8") as handle:
            yield from enumerate(csv.DictReader(handle), start=1)
    except FileNotFoundError:
        raise JobFileError(str(source), [(0, "(file)", "does not exist")]) from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise JobFileError(str(source), [(0, "(file)", f"cannot be read ({exc})")]) from None


def _filled(value: Any, row: Mapping[str, Any]) -> Any:
    """`value` with every `{column}` in its strings replaced (`{{` for a brace)."""
    if isinstance(value, str):
        fields = [name for _, name, _, _ in string.Formatter().parse(value) if name]
        if len(fields) == 1 and value == "{" + fields[0] + "}":
            return row[fields[0]]  # a whole value: keeps a JSONL row's number a number
        return value.format_map(row)
    if isinstance(value, Mapping):
        return {key: _filled(inner, row) for key, inner in value.items()}
    if isinstance(value, list):
        return [_filled(inner, row) for inner in value]
    return value


def _checked(
    entries: Iterable[tuple[int, Any]], base: Path, job: str, client: Any, problems: list[Problem]
) -> list[JobItem]:
    seen: dict[str, int] = {}
    items: list[JobItem] = []
    for number, entry in entries:
        found = _entry_problems(entry)
        if found:
            problems.extend((number, field, what) for field, what in found)
            continue
        operation, arguments = entry["operation"], entry.get("arguments", {})
        checked = check_arguments(client, operation, arguments, base)
        if isinstance(checked, list):
            problems.extend((number, field, what) for field, what in checked)
            continue
        identity = item_key(job, operation, arguments, 0)
        occurrence = seen.get(identity, 0)
        seen[identity] = occurrence + 1
        items.append(
            JobItem(
                key=item_key(job, operation, arguments, occurrence),
                line=number,
                operation=operation,
                arguments=checked,
                name=entry.get("name"),
            )
        )
    return items


def _entry_problems(entry: Any) -> list[tuple[str, str]]:
    if not isinstance(entry, dict):
        return [("(line)", 'must be a JSON object: {"operation": ..., "arguments": {...}}')]
    problems = []
    unknown = sorted(set(entry) - {"operation", "arguments", "name"})
    if unknown:
        problems.append((unknown[0], "is not a job field (allowed: operation, arguments, name)"))
    if not isinstance(entry.get("operation"), str):
        problems.append(("operation", 'is required: "provider.operation" (py302 ops lists them)'))
    if not isinstance(entry.get("arguments", {}), dict):
        problems.append(("arguments", "must be a JSON object of the operation's arguments"))
    name = entry.get("name")
    if name is not None and (not isinstance(name, str) or not _safe(name)):
        problems.append(("name", "must be text with a letter or digit (it names the files)"))
    return problems


def check_arguments(
    client: Any, operation: str, arguments: Mapping[str, Any], base: Path
) -> dict[str, Any] | list[tuple[str, str]]:
    """`arguments` ready for the binding (file references opened as paths), or the
    problems with them: the request is built and validated, never sent."""
    provider, _, name = operation.partition(".")
    try:
        namespace = client.provider(provider)
        builder = inspect.getattr_static(type(namespace), name)
        spec = client._ctx.registry_of(type(namespace)).get(name)
    except (Py302Error, AttributeError, KeyError):
        return [("operation", f"{operation!r} is not an operation (py302 ops lists them)")]
    problems: list[tuple[str, str]] = []
    ready = {key: _file_reference(value, base, key, problems) for key, value in arguments.items()}
    allowed = {argument.name for argument in spec.arguments}
    for key in ready:
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            problems.append((key, f"is not an argument of {operation} (allowed: {known})"))
    missing = sorted(a.name for a in spec.arguments if a.required and a.name not in ready)
    problems.extend((key, "is required") for key in missing)
    if problems:
        return problems
    try:
        call = builder.build(namespace, **ready)
        client._prepared(type(namespace), call)
    except RequestValidationError as exc:
        return [(field, rule) for field, rule in exc.problems]
    except (TypeError, ValueError) as exc:
        return [("arguments", str(exc))]
    return ready


def _file_reference(value: Any, base: Path, field: str, problems: list[tuple[str, str]]) -> Any:
    """`{"file": "a.png"}` as the path of an existing file, else the value as it is."""
    if not (isinstance(value, dict) and set(value) == {"file"}):
        return value
    path = base / str(value["file"])
    if not path.is_file():
        problems.append((field, f"the file {path} does not exist"))
    return path


def _safe(text: str) -> str:
    """`text` reduced to what a file name can hold everywhere."""
    kept = "".join(char if char.isalnum() or char in "-_." else "_" for char in text)
    return kept.strip("._")[:80]
