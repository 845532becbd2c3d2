"""Making recorded traffic safe to commit: pure functions over cassette interactions.

An interaction is the dict vcrpy writes into a cassette::

    {"request": {"method", "uri", "body", "headers": {name: [values]}},
     "response": {"status": {"code", "message"}, "headers": {...}, "body": {"string"}}}

`scrub_interactions` returns copies in which

* credential headers are gone (not masked: a recorded `Authorization` line is what the
  contract check and the repository's secret scan reject, and replay never matches on it);
* every URL, wherever it appears (request URI, header values, JSON strings, plain text),
  keeps its parameter names and order but has the values of secret-looking parameters
  replaced by `REDACTED`, so a signed URL in an answer and the download request made
  from it scrub to the same text and still match on replay;
* JSON bodies, at any depth, have the strings under secret-looking keys replaced;
* form and multipart fields with secret-looking names are replaced, and files and
  binary bodies become a short placeholder carrying the hash and size of the bytes;
* each literal secret the caller names is replaced anywhere it is left.

Bodies come back as text (never YAML's `!!binary`), decompressed, and `Content-Length`
follows any change. `collapse_polls` then shortens recorded polling loops.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import itertools
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

from py302._registry import media_type

__all__ = [
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "binary_placeholder",
    "collapse_polls",
    "is_placeholder",
    "is_placeholder_secret",
    "is_secret_header",
    "scrub_interactions",
    "scrub_url",
]

REDACTED = "REDACTED"
MIN_SECRET_LENGTH = 8

# A name is split into lower-case words ("X-Amz-Signature", "apiKey", "OSSAccessKeyId").
_SECRET_WORDS = frozenset(
    {
        "apikey",
        "authorization",
        "cookie",
        "credential",
        "credentials",
        "passwd",
        "password",
        "secret",
        "signature",
        "token",
    }
)
_SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("auth", "key"), ("private", "key")})
_SECRET_COMPACT = frozenset({"googleaccessid", "xkey"})
# Short or common names that are credentials in a query string or a form, but in JSON
# too often plain data ("key" of a map entry, a "policy" setting) to be hidden there.
_QUERY_SECRETS = frozenset({"auth", "jwt", "key", "keypairid", "policy", "qak", "sig", "sign"})
_HEADER_PARTS = (
    "api-key",
    "api_key",
    "apikey",
    "cookie",
    "password",
    "secret",
    "signature",
    "token",
)

_BINARY_PREFIXES = ("image/", "audio/", "video/", "model/", "font/")
_BINARY_TYPES = frozenset(
    {
        "application/gzip",
        "application/octet-stream",
        "application/pdf",
        "application/vnd.rar",
        "application/wasm",
        "application/x-7z-compressed",
        "application/x-gzip",
        "application/x-tar",
        "application/zip",
    }
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_URL = re.compile(r"https?://[^\s\"'<>\\`]+")
_PLACEHOLDER = re.compile(r"py302-binary sha256=[0-9a-f]{64} size=[0-9]+")
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_PART_TYPE = re.compile(r"^content-type:\s*([^;\r\n]*)", re.IGNORECASE | re.MULTILINE)

_Headers = dict[str, list[Any]]


def binary_placeholder(data: bytes) -> str:
    """The text that stands for `data` in a cassette: its SHA-256 and its size."""
    return f"py302-binary sha256={hashlib.sha256(data).hexdigest()} size={len(data)}"


_DOC_PLACEHOLDER = re.compile(
    r"(?i)^(bearer\s+)?(redacted|your[-_ ]?(api[-_ ]?)?(key|token|secret)|(sk-?)?x{3,}"
    r"|\*{3,}|<[^<>]+>|\{\{[^{}]+\}\}|\$\{?[a-z0-9_]+\}?)$"
)


def is_placeholder_secret(value: str) -> bool:
    """Whether a credential's value is what documentation writes in its place
    (`Bearer YOUR_API_KEY`, `sk-xxx`, `<API_KEY>`, `$AI302_API_KEY`, `REDACTED`)."""
    return _DOC_PLACEHOLDER.fullmatch(value.strip()) is not None


def is_placeholder(text: str) -> bool:
    """Whether `text` is exactly a `binary_placeholder`."""
    return _PLACEHOLDER.fullmatch(text) is not None


def scrub_url(url: str) -> str:
    """`url` with secret query (and fragment) values and any user info replaced.

    Everything else is kept character for character, so equal URLs give equal results.
    """
    head, hash_mark, fragment = url.partition("#")
    base, question, query = head.partition("?")
    scheme, slashes, rest = base.partition("://")
    if slashes:
        authority, slash, path = rest.partition("/")
        if "@" in authority:
            authority = f"{REDACTED}@{authority.rpartition('@')[2]}"
        base = f"{scheme}{slashes}{authority}{slash}{path}"
    return base + question + _scrub_pairs(query) + hash_mark + _scrub_pairs(fragment)


def scrub_interactions(
    interactions: Iterable[Mapping[str, Any]], *, secrets: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Copies of `interactions` that hold no credential, signed URL or binary body.

    `secrets` are literal values (the API key in use) to remove wherever they are left,
    also in their percent- and JSON-escaped forms. Empty strings are ignored; a shorter
    one than `MIN_SECRET_LENGTH` raises `ValueError`, as replacing it would clobber
    ordinary text. The input is never modified.
    """
    variants = _literal_variants(secrets)
    return [_scrub_interaction(item, variants) for item in interactions]


def collapse_polls(interactions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Copies of `interactions` with repeated polling answers left out.

    A run is a stretch of consecutive interactions with the same method, URI and request
    body. Inside a run, an interaction is dropped when its answer is in the same state as
    the one last kept: same status and same JSON once every number is zeroed (so progress
    updates merge), or the same bytes when it is not JSON. The last one of a run is always
    kept, and the order never changes.
    """
    items = list(interactions)
    kept: list[dict[str, Any]] = []
    last: tuple[object, object] | None = None
    for index, item in enumerate(items):
        key = _request_key(item)
        state = _response_state(item)
        run_goes_on = index + 1 < len(items) and _request_key(items[index + 1]) == key
        if last == (key, state) and run_goes_on:
            continue
        kept.append(copy.deepcopy(dict(item)))
        last = (key, state)
    return kept


def _scrub_interaction(item: Mapping[str, Any], variants: list[str]) -> dict[str, Any]:
    result = copy.deepcopy(dict(item))
    request = result.get("request")
    if isinstance(request, dict):
        if isinstance(request.get("uri"), str):
            request["uri"] = scrub_url(request["uri"])
        _scrub_message(request, request, "body", variants)
    response = result.get("response")
    if isinstance(response, dict):
        holder = response.get("body")
        _scrub_message(response, holder if isinstance(holder, dict) else None, "string", variants)
    # Bodies are done; this catches a secret left in a URI, header or status message.
    scrubbed: dict[str, Any] = _replace_literals(result, variants)
    return scrubbed


def _scrub_message(
    message: dict[str, Any], holder: dict[str, Any] | None, key: str, variants: list[str]
) -> None:
    headers = _scrub_headers(message.get("headers") or {})
    if holder is not None and holder.get(key) is not None:
        original = holder[key]
        headers, body = _scrub_body(headers, original)
        body = _replace_literals(body, variants)
        holder[key] = body
        if body.encode() != _as_bytes(original):
            for name in headers:
                if name.lower() == "content-length":
                    headers[name] = [str(len(body.encode()))]
    message["headers"] = headers


def _scrub_headers(headers: Mapping[str, Any]) -> _Headers:
    kept: _Headers = {}
    for name, values in headers.items():
        if is_secret_header(name):
            continue
        texts = [
            value.decode("latin-1") if isinstance(value, bytes) else value
            for value in (values if isinstance(values, list) else [values])
        ]
        kept[name] = [_scrub_urls(text) if isinstance(text, str) else text for text in texts]
    return kept


def _scrub_body(headers: _Headers, raw: object) -> tuple[_Headers, str]:
    if not isinstance(raw, str | bytes | bytearray):
        raise TypeError(f"a recorded body must be str or bytes, not {type(raw).__name__}")
    headers, data, readable = _decode_content(headers, _as_bytes(raw))
    if not readable:
        return headers, binary_placeholder(data)
    content_type = _header(headers, "content-type")
    kind = media_type(content_type)
    try:
        text: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and is_placeholder(text):
        return headers, text
    if kind.startswith("multipart/"):
        return headers, _scrub_multipart(data, content_type)
    if text is None or _is_binary_type(kind):
        return headers, binary_placeholder(data)
    if kind == "application/x-www-form-urlencoded":
        return headers, _scrub_pairs(text)
    return headers, _scrub_text(text)


def _decode_content(headers: _Headers, data: bytes) -> tuple[_Headers, bytes, bool]:
    """The body without its content encoding; False when it cannot be decoded."""
    codings = [
        coding.strip().lower()
        for name, values in headers.items()
        if name.lower() == "content-encoding"
        for value in values
        for coding in str(value).split(",")
    ]
    if not codings:
        return headers, data, True
    # Whatever happens the stored body is unencoded, so replay must not decode it again.
    headers = {
        name: values for name, values in headers.items() if name.lower() != "content-encoding"
    }
    decoded = data
    try:
        for coding in reversed(codings):
            if coding in ("gzip", "x-gzip"):
                decoded = gzip.decompress(decoded)
            elif coding == "deflate":
                try:
                    decoded = zlib.decompress(decoded)
                except zlib.error:  # servers send raw deflate as often as zlib-wrapped
                    decoded = zlib.decompress(decoded, -zlib.MAX_WBITS)
            elif coding not in ("", "identity"):
                return headers, data, False
    except (OSError, EOFError, zlib.error):
        return headers, data, False
    return headers, decoded, True


def _scrub_multipart(data: bytes, content_type: str) -> str:
    """The multipart body with secret fields and files replaced, or a placeholder for all
    of it when it is not well formed (a body we cannot read is a body we cannot vouch for)."""
    match = _BOUNDARY.search(content_type)
    if match is None:
        return binary_placeholder(data)
    delimiter = b"--" + match.group(1).encode("latin-1")
    pieces = data.split(delimiter)
    if len(pieces) < 2 or not pieces[-1].startswith(b"--"):
        return binary_placeholder(data)
    parts = [_scrub_part(piece) for piece in pieces[1:-1]]
    if any(part is None for part in parts):
        return binary_placeholder(data)
    # Preamble and epilogue are ignored by every reader, so they are not kept.
    body = delimiter.join([b"", *(part for part in parts if part is not None), b"--\r\n"])
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return binary_placeholder(data)


def _scrub_part(piece: bytes) -> bytes | None:
    if not (piece.startswith(b"\r\n") and piece.endswith(b"\r\n")):
        return None
    head, separator, content = piece[2:-2].partition(b"\r\n\r\n")
    try:
        head_text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not separator:
        return None
    name = _disposition_param(head_text, "name")
    filename = _disposition_param(head_text, "filename")
    part_type = _PART_TYPE.search(head_text)
    try:
        text: str | None = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and is_placeholder(text):
        new = text
    elif (
        text is None
        or filename is not None
        or _is_binary_type(part_type.group(1).strip().lower() if part_type else "")
    ):
        new = binary_placeholder(content)
    elif name is not None and _is_secret_name(name, query=True):
        new = REDACTED
    else:
        new = _scrub_text(text)
    return b"\r\n" + head + b"\r\n\r\n" + new.encode() + b"\r\n"


def _disposition_param(head: str, param: str) -> str | None:
    match = re.search(rf'(?<![\w-]){param}=(?:"([^"]*)"|([^;\s]+))', head, re.IGNORECASE)
    if match is None:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def _scrub_text(text: str) -> str:
    """JSON scrubbed field by field (rewritten compactly only when something changed);
    other text has only the URLs inside it scrubbed."""
    if text.lstrip().startswith(("{", "[")):
        try:
            value = json.loads(text)
        except ValueError:
            pass
        else:
            scrubbed = _scrub_json(value, hide=False)
            if scrubbed == value:
                return text
            return json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":"))
    return _scrub_urls(text)


def _scrub_json(value: Any, *, hide: bool) -> Any:
    """`hide` is set below a secret-looking key: every string under it goes, numbers and
    flags stay (a count of tokens is data, not a credential)."""
    if isinstance(value, dict):
        return {
            key: _scrub_json(item, hide=hide or _is_secret_name(key)) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub_json(item, hide=hide) for item in value]
    if isinstance(value, str):
        return REDACTED if hide else _scrub_urls(value)
    return value


def _scrub_urls(text: str) -> str:
    return _URL.sub(lambda match: scrub_url(match.group()), text)


def _scrub_pairs(query: str) -> str:
    pairs = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        secret = equals and _is_secret_name(unquote_plus(name), query=True)
        pairs.append(f"{name}={REDACTED}" if secret else pair)
    return "&".join(pairs)


def _is_secret_name(name: str, *, query: bool = False) -> bool:
    words = re.split(r"[^a-z0-9]+", _CAMEL.sub("_", name).lower())
    words = [word for word in words if word]
    compact = "".join(words)
    return (
        (query and compact in _QUERY_SECRETS)
        or compact in _SECRET_COMPACT
        or any(word in _SECRET_WORDS for word in words)
        or any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words))
    )


def is_secret_header(name: str) -> bool:
    """Whether a header of this name carries a credential (`Authorization`, `x-api-key`,
    `mj-api-secret`, a cookie, a token ...)."""
    lowered = name.lower()
    return _is_secret_name(name) or any(part in lowered for part in _HEADER_PARTS)


def _is_binary_type(kind: str) -> bool:
    return kind.startswith(_BINARY_PREFIXES) or kind in _BINARY_TYPES


def _header(headers: _Headers, wanted: str) -> str:
    for name, values in headers.items():
        if name.lower() == wanted and values:
            return str(values[0])
    return ""


def _literal_variants(secrets: Iterable[str]) -> list[str]:
    variants: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"a secret to scrub must have at least {MIN_SECRET_LENGTH} characters")
        variants |= {
            secret,
            quote(secret, safe=""),
            quote_plus(secret),
            json.dumps(secret)[1:-1],
            json.dumps(secret, ensure_ascii=False)[1:-1],
        }
    # Longest first, so that a form which contains another is replaced whole.
    return sorted(variants, key=lambda variant: (-len(variant), variant))


def _replace_literals(value: Any, variants: list[str]) -> Any:
    if not variants:
        return value
    if isinstance(value, str):
        for variant in variants:
            value = value.replace(variant, REDACTED)
        return value
    if isinstance(value, dict):
        return {
            _replace_literals(key, variants): _replace_literals(item, variants)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_replace_literals(item, variants) for item in value]
    return value


def _as_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return repr(body).encode()


def _request_key(item: Mapping[str, Any]) -> tuple[str, str, bytes]:
    request = item.get("request") or {}
    return (
        str(request.get("method", "")).upper(),
        str(request.get("uri", "")),
        _as_bytes(request.get("body")),
    )


def _response_state(item: Mapping[str, Any]) -> tuple[object, object]:
    response = item.get("response") or {}
    code = (response.get("status") or {}).get("code")
    raw = _as_bytes((response.get("body") or {}).get("string"))
    try:
        return code, ("json", _zero_numbers(json.loads(raw)))
    except ValueError:
        return code, ("raw", raw)


def _zero_numbers(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _zero_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_zero_numbers(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 0
    return value
