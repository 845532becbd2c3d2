"""Scrubbing recorded traffic: no credential, signed URL or binary survives; polls collapse."""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import zlib
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from py302.contracts._scrub import (
    MIN_SECRET_LENGTH,
    REDACTED,
    binary_placeholder,
    collapse_polls,
    is_placeholder,
    scrub_interactions,
    scrub_url,
)
from py302.payloads import dig
from tests.test_cassette_secrets import KEY_LIKE

CANARY = "sk-canary0123456789abcdefXYZ"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
S3_URL = (
    "https://bucket.s3.us-east-1.amazonaws.com/out/a%20b.png"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAEXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f0"
)
S3_SCRUBBED = (
    "https://bucket.s3.us-east-1.amazonaws.com/out/a%20b.png"
    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED"
    "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=REDACTED"
)


def exchange(
    *,
    method: str = "GET",
    uri: str = "https://api.302.ai/v1/tasks?id=7",
    body: str | bytes | None = None,
    headers: dict[str, list[str]] | None = None,
    status: int = 200,
    message: str = "OK",
    answer: str | bytes = "",
    answer_headers: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """One interaction in the form vcrpy writes into a cassette."""
    return {
        "request": {"method": method, "uri": uri, "body": body, "headers": headers or {}},
        "response": {
            "status": {"code": status, "message": message},
            "headers": answer_headers or {},
            "body": {"string": answer},
        },
    }


def scrub_one(item: dict[str, Any], secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    [result] = scrub_interactions([item], secrets=secrets)
    return result


def header_names(headers: dict[str, Any]) -> set[str]:
    return {name.lower() for name in headers}


def dump(value: Any) -> str:
    return yaml.safe_dump({"interactions": value}, allow_unicode=True)


# Headers


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "proxy-authorization",
        "X-API-Key",
        "api-key",
        "X-Key",
        "x-goog-api-key",
        "Cookie",
        "X-Amz-Security-Token",
        "X-Client-Secret",
        "X-Webhook-Signature",
        "My-Api-Key",
        "X-Csrftoken",
    ],
)
def test_credential_headers_are_dropped_both_ways(name: str) -> None:
    item = exchange(headers={name: [CANARY]}, answer_headers={name: [CANARY]})
    result = scrub_one(item)
    assert name.lower() not in header_names(result["request"]["headers"])
    assert name.lower() not in header_names(result["response"]["headers"])
    assert CANARY not in dump([result])


def test_set_cookie_is_dropped_from_the_answer() -> None:
    item = exchange(answer_headers={"Set-Cookie": ["session=abc", "other=def"]})
    assert scrub_one(item)["response"]["headers"] == {}


def test_ordinary_headers_are_kept() -> None:
    headers = {"Content-Type": ["application/json"], "User-Agent": ["py302"], "Accept": ["*/*"]}
    answer_headers = {"Content-Type": ["application/json"], "X-Request-Id": ["req-1"]}
    result = scrub_one(exchange(headers=headers, answer_headers=answer_headers))
    assert result["request"]["headers"] == headers
    assert result["response"]["headers"] == answer_headers


def test_urls_in_header_values_are_scrubbed() -> None:
    result = scrub_one(exchange(status=302, answer_headers={"Location": [S3_URL]}))
    assert result["response"]["headers"]["Location"] == [S3_SCRUBBED]


# Query strings


@pytest.mark.parametrize(
    "name",
    [
        "key",
        "api_key",
        "apikey",
        "apiKey",
        "token",
        "access_token",
        "auth",
        "signature",
        "Signature",
        "sig",
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Security-Token",
        "X-Goog-Signature",
        "X-Goog-Credential",
        "GoogleAccessId",
        "OSSAccessKeyId",
        "security-token",
        "Policy",
        "Key-Pair-Id",
        "q-ak",
        "q-signature",
        "auth_key",
    ],
)
def test_secret_query_values_are_redacted(name: str) -> None:
    url = f"https://files.example.com/a.png?id=7&{name}=s3cr3t-value&page=2"
    assert scrub_url(url) == f"https://files.example.com/a.png?id=7&{name}=REDACTED&page=2"


@pytest.mark.parametrize(
    "query",
    [
        "id=7",
        "task_id=abc",
        "X-Amz-Expires=3600&X-Amz-Date=20240101T000000Z&X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "Expires=1700000000",
        "se=2024-01-01T00%3A00%3A00Z&sp=r&sv=2021-08-06",
        "page=2&size=50",
        "flag&empty=&q=a+b%20c",
    ],
)
def test_other_query_values_are_kept_verbatim(query: str) -> None:
    url = f"https://files.example.com/a.png?{query}"
    assert scrub_url(url) == url


def test_a_signed_url_keeps_its_names_and_order() -> None:
    assert scrub_url(S3_URL) == S3_SCRUBBED


def test_user_info_and_fragment_tokens_are_redacted() -> None:
    url = "https://user:pa55word@example.com/p/@me?x=1#access_token=abc&state=9"
    assert scrub_url(url) == "https://REDACTED@example.com/p/@me?x=1#access_token=REDACTED&state=9"


@pytest.mark.parametrize(
    "url", ["https://example.com", "https://example.com/a?", "https://example.com/#top"]
)
def test_urls_without_secrets_are_unchanged(url: str) -> None:
    assert scrub_url(url) == url


QUERY_NAMES = st.sampled_from(["id", "page", "Expires", "se", "sig", "key", "X-Amz-Signature"])
QUERY_VALUES = st.text(alphabet="abcXYZ019-_.~%", max_size=12)


@given(st.lists(st.tuples(QUERY_NAMES, QUERY_VALUES), max_size=8))
def test_scrub_url_keeps_every_name_in_place(pairs: list[tuple[str, str]]) -> None:
    url = "https://files.example.com/x?" + "&".join(f"{name}={value}" for name, value in pairs)
    scrubbed = scrub_url(url)
    kept = (
        [piece.partition("=") for piece in scrubbed.partition("?")[2].split("&")] if pairs else []
    )
    assert [name for name, _, _ in kept] == [name for name, _ in pairs]
    for (name, value), (_, _, new) in zip(pairs, kept, strict=True):
        secret = name in {"sig", "key", "X-Amz-Signature"}
        assert new == (REDACTED if secret else value)
    assert scrub_url(scrubbed) == scrubbed


def test_request_uri_is_scrubbed() -> None:
    result = scrub_one(exchange(uri=f"https://api.example.com/v1/x?key={CANARY}&id=3"))
    assert result["request"]["uri"] == "https://api.example.com/v1/x?key=REDACTED&id=3"


def test_signed_url_in_an_answer_and_its_download_scrub_alike() -> None:
    submit = exchange(
        method="POST",
        uri="https://api.302.ai/v1/generate",
        body='{"prompt": "a cat"}',
        answer=json.dumps({"data": {"output": {"images": [{"url": S3_URL}]}}}),
    )
    # The download request as the client actually sends it.
    download_uri = str(httpx.Request("GET", S3_URL).url)
    download = exchange(
        uri=download_uri, answer=PNG, answer_headers={"Content-Type": ["image/png"]}
    )
    scrubbed_submit, scrubbed_download = scrub_interactions([submit, download])
    answer = json.loads(scrubbed_submit["response"]["body"]["string"])
    url = dig(answer, "data.output.images.0.url")
    assert url == scrubbed_download["request"]["uri"] == S3_SCRUBBED


# JSON bodies


def test_secrets_nested_deep_in_json_are_redacted() -> None:
    body = {"a": {"b": [{"c": {"api_key": CANARY, "prompt": "keep me", "n": 2}}]}}
    result = scrub_one(exchange(answer=json.dumps(body)))
    answer = json.loads(result["response"]["body"]["string"])
    assert answer == {"a": {"b": [{"c": {"api_key": REDACTED, "prompt": "keep me", "n": 2}}]}}


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "apiKey",
        "apikey",
        "x-api-key",
        "token",
        "access_token",
        "refreshToken",
        "id_token",
        "hf_token",
        "secret",
        "client_secret",
        "webhook_secret",
        "secretKey",
        "password",
        "Authorization",
        "private_key",
    ],
)
def test_secret_json_fields_are_redacted(name: str) -> None:
    result = scrub_one(exchange(method="POST", body=json.dumps({name: CANARY, "seed": 1})))
    assert json.loads(result["request"]["body"]) == {name: REDACTED, "seed": 1}


@pytest.mark.parametrize(
    "body",
    [
        {"key": "images/cat.png", "value": 1},  # `key` alone is data in JSON
        {"items": [{"key": "style", "value": "anime"}]},
        {"usage": {"max_tokens": 100, "tokens": 42, "token": 7}},  # numbers are not credentials
        {"tokenizer": "cl100k", "keys": ["a", "b"], "policy": "strict", "auth": "none"},
    ],
)
def test_ordinary_json_fields_are_kept(body: dict[str, Any]) -> None:
    text = json.dumps(body)
    assert scrub_one(exchange(answer=text))["response"]["body"]["string"] == text


def test_everything_textual_under_a_secret_key_goes() -> None:
    body = {"credentials": {"user": "me", "pass": CANARY, "extra": [CANARY], "ttl": 60}}
    result = scrub_one(exchange(answer=json.dumps(body)))
    answer = json.loads(result["response"]["body"]["string"])
    assert answer == {
        "credentials": {"user": REDACTED, "pass": REDACTED, "extra": [REDACTED], "ttl": 60}
    }


def test_lists_of_urls_are_scrubbed_one_by_one() -> None:
    urls = [S3_URL, "https://cdn.example.com/b.png?sig=abcdef123&sp=r", "https://x.example/c"]
    body = {"images": urls, "output": json.dumps(urls)}  # also as a JSON-encoded string
    result = scrub_one(exchange(answer=json.dumps(body)))
    answer = json.loads(result["response"]["body"]["string"])
    expected = [S3_SCRUBBED, "https://cdn.example.com/b.png?sig=REDACTED&sp=r", urls[2]]
    assert answer["images"] == expected
    assert json.loads(answer["output"]) == expected


def test_json_is_rewritten_compactly_only_when_it_changed() -> None:
    clean = json.dumps({"id": "x", "status": "Ready"}, indent=2)
    dirty = json.dumps({"id": "x", "token": "abcdefgh"}, indent=2)
    result_clean, result_dirty = scrub_interactions(
        [exchange(answer=clean), exchange(answer=dirty)]
    )
    assert result_clean["response"]["body"]["string"] == clean
    assert result_dirty["response"]["body"]["string"] == '{"id":"x","token":"REDACTED"}'


@pytest.mark.parametrize(
    "text",
    ["plain text: key=value, token=abc", "{not json", "", "[1, 2", "<html>no links</html>"],
)
def test_text_that_is_not_json_is_kept(text: str) -> None:
    result = scrub_one(exchange(answer=text, answer_headers={"Content-Type": ["text/plain"]}))
    assert result["response"]["body"]["string"] == text


def test_urls_inside_plain_text_are_scrubbed() -> None:
    text = f"<a href='{S3_URL}'>result</a>"
    result = scrub_one(exchange(answer=text, answer_headers={"Content-Type": ["text/html"]}))
    assert result["response"]["body"]["string"] == f"<a href='{S3_SCRUBBED}'>result</a>"


def test_form_bodies_are_scrubbed_like_queries() -> None:
    item = exchange(
        method="POST",
        body=f"prompt=a+cat&api_key={CANARY}&key=abcdefgh",
        headers={"Content-Type": ["application/x-www-form-urlencoded"]},
    )
    assert scrub_one(item)["request"]["body"] == "prompt=a+cat&api_key=REDACTED&key=REDACTED"


# Multipart bodies


def multipart_request() -> httpx.Request:
    request = httpx.Request(
        "POST",
        "https://api.302.ai/v1/edit",
        data={"api_key": CANARY, "prompt": "a cat, see https://x.example/i?token=abcdefgh"},
        files={
            "image": ("cat.png", PNG, "image/png"),
            "notes": ("notes.txt", b"plain words", "text/plain"),  # a file, though text
        },
    )
    request.read()
    return request


def parse_multipart(body: bytes, content_type: str) -> dict[str, tuple[str | None, bytes]]:
    """Each part by name: its content type and its content, read by the stdlib."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    assert message.is_multipart()
    parts: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str)
        assert isinstance(payload, bytes)
        parts[name] = (part.get_content_type() if "Content-Type" in part else None, payload)
    return parts


def test_multipart_keeps_its_structure_and_loses_key_and_file() -> None:
    request = multipart_request()
    headers = {name: [value] for name, value in request.headers.items()}
    result = scrub_one(
        exchange(method="POST", uri=str(request.url), body=request.content, headers=headers)
    )
    body = result["request"]["body"]
    assert isinstance(body, str)
    assert result["request"]["headers"]["content-length"] == [str(len(body.encode()))]
    parts = parse_multipart(body.encode(), request.headers["content-type"])
    assert parts["api_key"] == (None, REDACTED.encode())
    assert parts["prompt"] == (None, b"a cat, see https://x.example/i?token=REDACTED")
    assert parts["image"] == ("image/png", binary_placeholder(PNG).encode())
    assert parts["notes"] == ("text/plain", binary_placeholder(b"plain words").encode())
    assert CANARY not in dump([result])


def test_a_broken_multipart_body_is_replaced_whole() -> None:
    body = b"--b\r\nContent-Disposition: form-data; name=api_key\r\n\r\n" + CANARY.encode()
    item = exchange(
        method="POST", body=body, headers={"Content-Type": ["multipart/form-data; boundary=b"]}
    )
    assert scrub_one(item)["request"]["body"] == binary_placeholder(body)


# Binary bodies


def test_an_image_answer_becomes_a_placeholder() -> None:
    answer_headers = {"Content-Type": ["image/png"], "Content-Length": [str(len(PNG))]}
    result = scrub_one(exchange(answer=PNG, answer_headers=answer_headers))
    placeholder = result["response"]["body"]["string"]
    assert placeholder == f"py302-binary sha256={hashlib.sha256(PNG).hexdigest()} size={len(PNG)}"
    assert is_placeholder(placeholder)
    assert result["response"]["headers"] == {
        "Content-Type": ["image/png"],
        "Content-Length": [str(len(placeholder))],
    }


@pytest.mark.parametrize(
    ("answer", "content_type"),
    [
        (b"\xff\xfe\x00binary\x80", None),  # not UTF-8, whatever it claims
        (b"\xff\xfe\x00binary\x80", "application/json"),
        ("text that is a file", "application/octet-stream"),
        ("RIFF....WAVE", "audio/wav"),
        ("<svg/>", "image/svg+xml"),
        ("glTF", "model/gltf-binary"),
        ("PK", "application/zip"),
    ],
)
def test_binary_bodies_become_placeholders(answer: str | bytes, content_type: str | None) -> None:
    answer_headers = {"Content-Type": [content_type]} if content_type else {}
    result = scrub_one(exchange(answer=answer, answer_headers=answer_headers))
    data = answer.encode() if isinstance(answer, str) else answer
    assert result["response"]["body"]["string"] == binary_placeholder(data)


def test_a_binary_request_body_becomes_a_placeholder() -> None:
    item = exchange(
        method="PUT",
        body=PNG,
        headers={"Content-Type": ["image/png"], "content-length": [str(len(PNG))]},
    )
    request = scrub_one(item)["request"]
    assert request["body"] == binary_placeholder(PNG)
    assert request["headers"]["content-length"] == [str(len(binary_placeholder(PNG)))]


def test_a_placeholder_is_not_hashed_again() -> None:
    placeholder = binary_placeholder(PNG)
    item = exchange(answer=placeholder, answer_headers={"Content-Type": ["image/png"]})
    assert scrub_one(item)["response"]["body"]["string"] == placeholder


def raw_deflate(data: bytes) -> bytes:
    """Deflate without the zlib wrapper, as some servers send it."""
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", raw_deflate),
    ],
)
def test_compressed_answers_are_decoded_then_scrubbed(coding: str, compress: Any) -> None:
    raw = json.dumps({"token": CANARY, "status": "Ready"}).encode()
    answer_headers = {"Content-Type": ["application/json"], "Content-Encoding": [coding]}
    result = scrub_one(exchange(answer=compress(raw), answer_headers=answer_headers))
    assert result["response"]["headers"] == {"Content-Type": ["application/json"]}
    assert json.loads(result["response"]["body"]["string"]) == {
        "token": REDACTED,
        "status": "Ready",
    }


@pytest.mark.parametrize(("coding", "data"), [("br", b"\x1b\x03"), ("gzip", b"not gzip")])
def test_undecodable_answers_become_placeholders(coding: str, data: bytes) -> None:
    result = scrub_one(exchange(answer=data, answer_headers={"Content-Encoding": [coding]}))
    assert result["response"]["headers"] == {}
    assert result["response"]["body"]["string"] == binary_placeholder(data)


# Literal secrets and the whole cassette


def test_a_named_secret_is_removed_everywhere() -> None:
    item = exchange(
        method="POST",
        uri=f"https://api.example.com/v1/{CANARY}/x?q={CANARY}",
        body=json.dumps({"note": f"my key is {CANARY}"}),
        headers={"X-Trace": [CANARY]},
        message=f"Invalid key {CANARY}",
        answer=f"error: {CANARY} is not valid",
        answer_headers={"X-Echo": [f"prefix-{CANARY}"]},
    )
    result = scrub_one(item, secrets=(CANARY,))
    assert CANARY not in dump([result])
    assert result["request"]["uri"] == "https://api.example.com/v1/REDACTED/x?q=REDACTED"
    assert result["response"]["status"]["message"] == "Invalid key REDACTED"


def test_escaped_forms_of_a_named_secret_are_removed() -> None:
    secret = "ab/cd+ef=g h\u00e9"
    item = exchange(
        method="POST",
        uri=f"https://api.example.com/x?q={quote(secret, safe='')}",
        body=f"note={quote_plus(secret)}",
        headers={"Content-Type": ["application/x-www-form-urlencoded"]},
        answer=json.dumps({"note": secret}),  # ensure_ascii escapes the accent
    )
    text = dump([scrub_one(item, secrets=(secret,))])
    for form in (secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]):
        assert form not in text


def test_short_secrets_are_refused_and_empty_ones_ignored() -> None:
    with pytest.raises(ValueError, match=str(MIN_SECRET_LENGTH)):
        scrub_interactions([exchange()], secrets=["short"])
    assert scrub_interactions([exchange()], secrets=[""]) == [exchange()]


def test_a_body_of_another_type_is_refused() -> None:
    with pytest.raises(TypeError):
        scrub_interactions([exchange(body=[b"a", b"b"])])  # type: ignore[arg-type]


def cassette() -> list[dict[str, Any]]:
    request = multipart_request()
    return [
        exchange(
            method="POST",
            uri="https://api.302.ai/v1/generate",
            body=json.dumps({"prompt": "a cat", "options": {"auth": {"api_key": CANARY}}}),
            headers={"Authorization": [f"Bearer {CANARY}"], "Content-Type": ["application/json"]},
            answer=json.dumps(
                {"id": "t1", "polling_url": f"https://api.302.ai/r?id=t1&token={CANARY}"}
            ),
            answer_headers={"Content-Type": ["application/json"], "Set-Cookie": [CANARY]},
        ),
        exchange(
            uri=f"https://api.302.ai/r?id=t1&token={CANARY}",
            headers={"x-api-key": [CANARY]},
            answer=json.dumps({"status": "Ready", "result": {"images": [S3_URL]}}),
        ),
        exchange(uri=S3_URL, answer=PNG, answer_headers={"Content-Type": ["image/png"]}),
        exchange(
            method="POST",
            uri=str(request.url),
            body=request.content,
            headers={name: [value] for name, value in request.headers.items()},
        ),
    ]


def test_a_scrubbed_cassette_passes_the_repository_secret_scan() -> None:
    text = dump(scrub_interactions(cassette()))
    assert CANARY not in text
    assert "!!binary" not in text
    assert [pattern.pattern for pattern in KEY_LIKE if pattern.search(text)] == []


def test_the_input_is_never_modified() -> None:
    original = cassette()
    before = copy.deepcopy(original)
    scrub_interactions(original, secrets=[CANARY])
    collapse_polls(original)
    assert original == before


def test_scrubbing_twice_changes_nothing() -> None:
    once = scrub_interactions(cassette(), secrets=[CANARY])
    assert scrub_interactions(once, secrets=[CANARY]) == once


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.just(CANARY),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "key", "url", "n", "items"]), children, max_size=4)
    ),
    max_leaves=20,
)
SECRET_KEYS = st.sampled_from(["api_key", "token", "clientSecret", "password", "x-api-key"])


@given(JSON, st.lists(st.sampled_from(["a", "b", "c"]), min_size=3, max_size=6), SECRET_KEYS)
def test_a_secret_field_at_any_depth_never_survives(
    noise: Any, path: list[str], secret_key: str
) -> None:
    body: Any = {secret_key: CANARY, "noise": "x"}
    for name in reversed(path):
        body = {name: body, "sibling": noise}
    result = scrub_one(exchange(answer=json.dumps(body)))
    answer = json.loads(result["response"]["body"]["string"])
    assert dig(answer, ".".join([*path, secret_key])) == REDACTED


@given(JSON)
def test_a_named_secret_never_survives_in_any_json(body: Any) -> None:
    item = exchange(method="POST", body=json.dumps(body), answer=json.dumps([body, CANARY]))
    result = scrub_interactions([item], secrets=[CANARY])
    assert CANARY not in dump(result)
    assert scrub_interactions(result, secrets=[CANARY]) == result


# Collapsing polls


def poll(
    status: str,
    progress: float | None = None,
    *,
    uri: str = "https://api.302.ai/r?id=t1",
    code: int = 200,
    body: str | None = None,
) -> dict[str, Any]:
    return exchange(
        uri=uri, body=body, status=code, answer=json.dumps({"status": status, "progress": progress})
    )


def states(items: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    answers = [json.loads(item["response"]["body"]["string"]) for item in items]
    return [(answer["status"], answer["progress"]) for answer in answers]


def test_a_long_wait_collapses_to_its_first_and_last_answers() -> None:
    items = [poll("Pending", 0.5)] * 12 + [poll("Ready")]
    assert states(collapse_polls(items)) == [("Pending", 0.5), ("Ready", None)]


def test_progress_updates_collapse_but_state_changes_stay() -> None:
    items = [poll("Pending", 10), poll("Pending", 40), poll("Running", 70), poll("Ready", 100)]
    assert states(collapse_polls(items)) == [("Pending", 10), ("Running", 70), ("Ready", 100)]


def test_the_last_answer_of_a_run_is_kept_even_when_it_repeats() -> None:
    items = [poll("Pending", 1), poll("Pending", 2), poll("Pending", 3)]
    assert states(collapse_polls(items)) == [("Pending", 1), ("Pending", 3)]


@pytest.mark.parametrize(
    "second",
    [
        poll("Pending", uri="https://api.302.ai/r?id=t2"),
        poll("Pending", body='{"id": "t1"}'),
        poll("Pending", code=202),
    ],
    ids=["other uri", "other request body", "other status"],
)
def test_other_requests_or_statuses_are_not_merged(second: dict[str, Any]) -> None:
    items = [poll("Pending"), second, poll("Pending")]
    assert collapse_polls(items) == items


def test_interleaved_tasks_are_all_kept_in_order() -> None:
    a, b = "https://api.302.ai/r?id=a", "https://api.302.ai/r?id=b"
    items = [poll("Pending", uri=a), poll("Pending", uri=b)] * 3
    assert collapse_polls(items) == items


def test_answers_that_are_not_json_collapse_when_equal() -> None:
    same = exchange(answer="still working")
    items = [same, same, exchange(answer="still working."), same]
    assert collapse_polls(items) == [same, items[2], same]


RUNS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.sampled_from(["Pending", "Running", "Ready"]),
        st.integers(0, 100),
    ),
    max_size=30,
)


@given(RUNS)
def test_collapsing_keeps_every_change_and_every_run_end(steps: list[tuple[str, str, int]]) -> None:
    items = []
    for index, (task, status, progress) in enumerate(steps):
        item = poll(status, progress, uri=f"https://api.302.ai/r?id={task}")
        item["response"]["headers"] = {"X-Index": [str(index)]}  # headers are not compared
        items.append(item)
    kept = [int(item["response"]["headers"]["X-Index"][0]) for item in collapse_polls(items)]
    assert kept == sorted(kept)
    for index, (task, status, _) in enumerate(steps):
        run_start = index == 0 or steps[index - 1][0] != task
        run_end = index == len(steps) - 1 or steps[index + 1][0] != task
        changed = not run_start and steps[index - 1][1] != status
        if run_start or run_end or changed:
            assert index in kept
        else:
            assert index not in kept
