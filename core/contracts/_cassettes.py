"""Reading and writing VCR cassettes: their interactions and the JSON in their bodies."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from py302._errors import CassetteError
from py302._registry import media_type

__all__ = [
    "FILE_PART",
    "NOT_JSON",
    "CassetteError",
    "dump_cassette",
    "form_fields",
    "is_recorded",
    "json_body",
    "read_cassette",
    "read_interactions",
]

NOT_JSON: Any = object()
"""What `json_body` returns for a body that is not JSON."""

FILE_PART = "(file)"
"""What `form_fields` gives for an uploaded file's value (its bytes are not kept)."""


def read_cassette(path: Path) -> dict[str, Any]:
    """The cassette at `path` as a mapping with an `interactions` list."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CassetteError(f"{path}: not a readable cassette: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{path}: not a cassette (no `interactions` list)")
    return data


def dump_cassette(data: Any) -> str:
    """A cassette as YAML for people to read: keys in their order, text unescaped, and
    text of several lines (an event stream) as a block, line for line, rather than one
    quoted string (PyYAML quotes it anyway when a block could not keep it exactly)."""
    import yaml

    return yaml.dump(data, Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=100)


@functools.cache
def _dumper() -> type:
    import yaml

    class CassetteDumper(yaml.SafeDumper):
        """SafeDumper, with text of several lines written as a literal block."""

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    CassetteDumper.add_representer(str, text)
    return CassetteDumper


def read_interactions(path: Path) -> list[dict[str, Any]]:
    """The interactions of the cassette at `path`, in recorded order."""
    interactions: list[dict[str, Any]] = read_cassette(path)["interactions"]
    return interactions


def is_recorded(cassette: dict[str, Any]) -> bool:
    """Whether the cassette says it holds real recorded traffic (`provenance.recorded`)."""
    provenance = cassette.get("provenance")
    return isinstance(provenance, dict) and provenance.get("recorded") is True


def json_body(raw: Any) -> Any:
    """A recorded body decoded from JSON; None if empty, `NOT_JSON` if it is not JSON."""
    if raw is None or raw in ("", b""):
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return NOT_JSON


def form_fields(raw: Any, content_type: str) -> dict[str, str] | None:
    """The fields of a recorded form body (multipart or URL-encoded), or None if the
    body is not one; uploaded files read as `FILE_PART`."""
    import email
    import email.policy
    from urllib.parse import parse_qsl

    kind = media_type(content_type)
    if raw is None:
        return None
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(data.decode("utf-8", errors="replace"), keep_blank_values=True))
    if kind != "multipart/form-data":
        return None
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.message_from_bytes(head + data, policy=email.policy.HTTP)
    if not message.is_multipart():
        return None
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        if part.get_filename() is not None:
            fields[name] = FILE_PART
        else:
            payload = part.get_payload(decode=True)
            fields[name] = (
                payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
            )
    return fields
