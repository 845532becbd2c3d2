"""Turning a `Call` into an `httpx.Request`, and an answer into a payload.

This is the one place that knows how the wire looks: path templates, query strings,
JSON and multipart bodies, content types. httpx is used behind it and nowhere else
decides how bytes are laid out.
"""

from __future__ import annotations

import functools
import json
import mimetypes
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from ._registry import OperationSpec, ParameterSpec, media_type
from .payloads import scalar_text

__all__ = [
    "build_request",
    "cookie_pairs",
    "decode_payload",
    "fill_path",
    "is_json_type",
    "json_content",
    "json_problem",
    "simple_value",
]

#: What py302 sends unless the provider, an operation's header parameter or the caller
#: says otherwise (in any case: see `_merged_headers`).
_DEFAULT_HEADERS = {"User-Agent": "py302", "Accept": "application/json, */*;q=0.5"}
_JSON_PART = "application/json"
#: One part of a multipart body: file name (None for a field), content, content type
#: (None for text).
_Part = tuple[str | None, bytes, str | None]


def build_request(
    spec: OperationSpec,
    *,
    base_url: str,
    path: Mapping[str, Any],
    query: Mapping[str, Any],
    body: Mapping[str, Any] | None,
    headers: Mapping[str, str],
    content: bytes | None = None,
) -> httpx.Request:
    """The request for one call; its body is read into memory so retries can resend it.

    `content`: the body already serialised (`json_content`), when the caller has it.
    """
    styles = spec.parameter_at
    url = _parsed_url(base_url.rstrip("/") + fill_path(spec.path, path, styles))
    params = (
        httpx.QueryParams(
            [
                pair
                for name, value in query.items()
                for pair in _query_pairs(name, value, styles.get(("query", name)))
            ]
        )
        if query
        else None
    )
    content_type = spec.request_content_type
    all_headers = _merged_headers(_DEFAULT_HEADERS, headers)
    request: httpx.Request
    if content_type is None or body is None:
        request = httpx.Request(spec.method, url, params=params, headers=all_headers)
    elif is_json_type(content_type):
        request = httpx.Request(
            spec.method,
            url,
            params=params,
            headers=_merged_headers(all_headers, {"Content-Type": content_type}),
            content=content if content is not None else _json_bytes(body),
        )
        return request  # its content is bytes: nothing to read
    elif content_type.startswith("multipart/"):
        parts = _multipart_parts(body, spec.binary_fields)
        request = httpx.Request(spec.method, url, params=params, headers=all_headers, files=parts)
    elif content_type == "application/x-www-form-urlencoded":
        request = httpx.Request(
            spec.method, url, params=params, headers=all_headers, data=_form_values(body)
        )
    else:  # one value sent as it is: a file's bytes, or text
        raw, kind = _raw_body(body, content_type)
        request = httpx.Request(
            spec.method,
            url,
            params=params,
            headers=_merged_headers(all_headers, {"Content-Type": kind}),
            content=raw,
        )
    request.read()
    return request


@functools.lru_cache(maxsize=1024)
def _parsed_url(url: str) -> httpx.URL:
    """`url` parsed, once: parsing was half the cost of building a request, and most
    calls of an operation ask the same URL (httpx URLs are immutable, so one is shared)."""
    return httpx.URL(url)


def json_content(content_type: str | None, body: Any) -> bytes | None:
    """`body` as the bytes of a JSON request, when the operation sends JSON and the
    body holds only JSON values; None otherwise (no body, another media type, or a
    value JSON cannot carry: a file, NaN), which validation then names."""
    if body is None or content_type is None or not is_json_type(content_type):
        return None
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError):
        return None


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def _merged_headers(*layers: Mapping[str, str]) -> dict[str, str]:
    """`layers` of headers merged into one, a later value replacing an earlier one
    whatever the case of its name (`accept` replaces `Accept`), so that no header is
    sent twice; the name is spelled as the winning layer spells it."""
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        for name, value in layer.items():
            merged[name.lower()] = (name, value)
    return dict(merged.values())


def is_json_type(content_type: str) -> bool:
    """Whether a media type carries JSON (`application/json`, `...+json`)."""
    kind = media_type(content_type)
    return kind == "application/json" or kind.endswith("+json")


def decode_payload(response: httpx.Response) -> Any:
    """The body as JSON when it is JSON, as bytes when it is binary, else as text."""
    content_type = response.headers.get("content-type", "")
    if is_json_type(content_type) or (not content_type and response.content[:1] in (b"{", b"[")):
        try:
            return response.json()
        except ValueError:
            return response.text
        except RecursionError:  # nested deeper than Python's parser can follow
            return response.text
    if content_type.startswith(("text/", "application/xml")):
        return response.text
    if not response.content:
        return None
    return response.content


def json_problem(response: httpx.Response) -> str | None:
    """Why a body whose content type says JSON is not JSON (None when it is, or when it
    does not claim to be): what a shape error says instead of "got a string"."""
    if not is_json_type(response.headers.get("content-type", "")):
        return None
    try:
        response.json()
    except RecursionError:
        return "it is nested deeper than Python can read"
    except UnicodeDecodeError as exc:
        return f"it is not valid UTF-8 (byte {exc.start})"
    except ValueError as exc:
        return f"it is not valid JSON ({exc})"
    return None


def fill_path(
    template: str, values: Mapping[str, Any], styles: Mapping[tuple[str, str], ParameterSpec]
) -> str:
    """`template` with its placeholders filled, each value percent-encoded (a value that
    may hold slashes keeps them as segment separators)."""
    path = template
    for name, value in values.items():
        param = styles.get(("path", name))
        text = simple_value(value, param)
        if param is not None and param.allow_slashes:
            filled = "/".join(quote(segment, safe="") for segment in text.split("/"))
        else:
            filled = quote(text, safe="")
        path = path.replace("{" + name + "}", filled)
    return path


def simple_value(value: Any, param: ParameterSpec | None = None) -> str:
    """OpenAPI's `simple` style (path and header values): `a,b`, `k,v` or `k=v`."""
    if isinstance(value, Mapping):
        explode = bool(param is not None and param.explode)
        pairs = [(str(k), scalar_text(v)) for k, v in value.items()]
        return ",".join(f"{k}={v}" if explode else f"{k},{v}" for k, v in pairs)
    if isinstance(value, list | tuple):
        return ",".join(scalar_text(item) for item in value)
    return scalar_text(value)


def cookie_pairs(cookies: Mapping[str, Any], params: Mapping[str, ParameterSpec]) -> str:
    """The `Cookie` header for cookie parameters, OpenAPI's `form` style: `a=1; b=x,y`
    (an exploded array repeats its name). Characters a cookie value may not hold
    (RFC 6265: spaces, quotes, commas, semicolons, backslashes) are percent-encoded."""
    pairs = []
    for name, value in cookies.items():
        param = params.get(name)
        explode = param is None or param.explode is None or param.explode
        if isinstance(value, list | tuple) and explode:
            pairs += [f"{name}={_cookie_octets(scalar_text(item))}" for item in value]
        elif isinstance(value, list | tuple | Mapping):
            parts = value.items() if isinstance(value, Mapping) else enumerate(value)
            items = [
                f"{_cookie_octets(str(k))},{_cookie_octets(scalar_text(v))}"
                if isinstance(value, Mapping)
                else _cookie_octets(scalar_text(v))
                for k, v in parts
            ]
            pairs.append(f"{name}={','.join(items)}")
        else:
            pairs.append(f"{name}={_cookie_octets(scalar_text(value))}")
    return "; ".join(pairs)


def _cookie_octets(text: str) -> str:
    return quote(text, safe="!#$&'()*+-./:<=>?@[]^_`{|}~")


_DELIMITERS = {"form": ",", "spaceDelimited": " ", "pipeDelimited": "|"}


def _query_pairs(
    name: str, value: Any, param: ParameterSpec | None
) -> list[tuple[str, str | int | float | bool | None]]:
    """The query pairs of one parameter, by its OpenAPI style (form, exploded, unless
    the spec says otherwise): an array repeats the key or joins its items, an object
    spreads its keys (form, exploded), joins them, or nests them (`deepObject`)."""
    style = (param.style if param is not None else None) or "form"
    explode = param.explode if param is not None and param.explode is not None else style == "form"
    if isinstance(value, Mapping):
        if style == "deepObject":
            return [(f"{name}[{key}]", scalar_text(item)) for key, item in value.items()]
        if explode:
            return [(str(key), scalar_text(item)) for key, item in value.items()]
        return [(name, ",".join(f"{key},{scalar_text(item)}" for key, item in value.items()))]
    if isinstance(value, list | tuple):
        if explode:
            return [(name, scalar_text(item)) for item in value]
        return [(name, _DELIMITERS.get(style, ",").join(scalar_text(item) for item in value))]
    return [(name, scalar_text(value))]


def _multipart_parts(body: Mapping[str, Any], binary: frozenset[str]) -> list[tuple[str, _Part]]:
    """The parts of a multipart body in body order, by OpenAPI's default encoding: an
    array is one part per item, the field's name repeated (an array of files is a file
    per part); see `_part` for each value. `binary` names the fields that take files."""
    return [
        (name, _part(name, item, binary=name in binary))
        for name, value in body.items()
        for item in (value if isinstance(value, list | tuple) else [value])
    ]


def _part(field: str, value: Any, *, binary: bool) -> _Part:
    """One value as a part: a file (in a binary field a `str` is a path; validation
    has checked it names a file), an object (or a nested array) as JSON, else text."""
    if _is_file(value) or (binary and isinstance(value, str)):
        return _file_part(field, value)
    if isinstance(value, Mapping | list | tuple):
        return (None, json.dumps(value, ensure_ascii=False).encode(), _JSON_PART)
    return (None, scalar_text(value).encode(), None)


def _is_file(value: Any) -> bool:
    return isinstance(value, bytes | bytearray | os.PathLike) or hasattr(value, "read")


def _file_part(field: str, value: Any) -> tuple[str, bytes, str]:
    if isinstance(value, bytes | bytearray):
        return (field, bytes(value), "application/octet-stream")
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(f"{field}: no file at {path}")
        return (
            path.name,
            path.read_bytes(),
            mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        )
    content = value.read()
    if isinstance(content, str):
        content = content.encode()
    name = Path(str(getattr(value, "name", field))).name
    return (name, content, mimetypes.guess_type(name)[0] or "application/octet-stream")


def _formscalar_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _form_values(body: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _formscalar_text(value) for name, value in body.items()}


def _raw_body(body: Any, content_type: str) -> tuple[bytes, str]:
    """The bytes and media type of a body that is one value: a file (bytes, an open
    file, a path) for a binary media type, text for a `text/*` one. A wildcard media
    type (`image/*`) is narrowed by the file's name."""
    if isinstance(body, str) and content_type.startswith("text/"):
        return body.encode(), content_type
    _name, content, guessed = _file_part("body", body)
    return content, guessed if "*" in content_type else content_type
