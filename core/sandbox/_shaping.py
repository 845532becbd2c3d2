"""Answers shaped by the request: the count, the format and the size it asked for,
and the fields a real answer repeats (model, prompt, seed).

The spec's example is one answer to one request; the sandbox answers another, so
before it is sent the example is made to fit: as many images as `n` (or
`num_images`, `batch_size` ...) asks for, base64 or URLs as `response_format` says
(each item one or the other, never both), files rendered at the requested `size`,
and the request's model, prompt and seed where the answer names them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from py302._declared import ResultDeclaration
from py302.payloads import dig

__all__ = [
    "asset_lists",
    "echo_request",
    "requested_count",
    "requested_format",
    "requested_size",
    "shape_assets",
    "wants_base64",
]

#: Request fields that say how many images to make, by the names providers use.
COUNT_FIELDS = ("n", "num_images", "num_outputs", "batch_size", "max_images", "image_num")
#: Request fields a real answer repeats, where it has a field of the same name.
ECHOED_FIELDS = ("model", "prompt", "seed", "negative_prompt")
#: The sides the sandbox renders between (a request outside is drawn at the bound).
MIN_SIDE = 16
MAX_SIDE = 2048
_SIZE = re.compile(r"^\s*(\d{2,5})\s*[x*]\s*(\d{2,5})\s*$", re.IGNORECASE)
_BASE64_FORMATS = frozenset({"b64_json", "base64", "bs64_json", "b64"})


def requested_count(body: Any) -> int | None:
    """How many images the request asks for, if it says (1 to 10)."""
    if not isinstance(body, Mapping):
        return None
    for name in COUNT_FIELDS:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return min(value, 10)
    return None


def requested_size(body: Any) -> tuple[int, int] | None:
    """The pixel size the request asks for (`size: "1024x768"`, `width` and `height`,
    or `image_size: {width, height}`), each side kept within `MIN_SIDE`-`MAX_SIDE`."""
    if not isinstance(body, Mapping):
        return None
    found: tuple[Any, Any] | None = None
    size = body.get("size")
    if isinstance(size, str) and (match := _SIZE.match(size)):
        found = (int(match.group(1)), int(match.group(2)))
    elif isinstance(body.get("width"), int) and isinstance(body.get("height"), int):
        found = (body["width"], body["height"])
    elif isinstance(body.get("image_size"), Mapping):
        found = (body["image_size"].get("width"), body["image_size"].get("height"))
    if found is None or not all(isinstance(side, int) and side > 0 for side in found):
        return None
    return (min(max(found[0], MIN_SIDE), MAX_SIDE), min(max(found[1], MIN_SIDE), MAX_SIDE))


def requested_format(body: Any) -> str | None:
    """The image format the request chose (`output_format`: png, jpeg or webp)."""
    value = body.get("output_format") if isinstance(body, Mapping) else None
    if isinstance(value, str) and value.lower() in {"png", "jpeg", "jpg", "webp"}:
        return value.lower()
    return None


def wants_base64(body: Any) -> bool | None:
    """True for `response_format` b64_json, False for url, None when it says nothing."""
    value = body.get("response_format") if isinstance(body, Mapping) else None
    if not isinstance(value, str):
        return None
    return value.lower() in _BASE64_FORMATS


def echo_request(payload: Any, body: Any) -> Any:
    """`payload` repeating the request's model, prompt and seed wherever it has a field
    of that name holding a value of the same kind (as a real answer does)."""
    if not isinstance(body, Mapping):
        return payload
    given = {
        name: body[name]
        for name in ECHOED_FIELDS
        if isinstance(body.get(name), str | int) and not isinstance(body.get(name), bool)
    }
    return _echoed(payload, given) if given else payload


def _echoed(payload: Any, given: Mapping[str, Any]) -> Any:
    if isinstance(payload, Mapping):
        return {
            key: given[key]
            if key in given and type(value) is type(given[key])
            else _echoed(value, given)
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [_echoed(item, given) for item in payload]
    return payload


def asset_lists(declaration: ResultDeclaration | None) -> list[str]:
    """The dotted paths of the lists an answer's files are in (`data`, `images`,
    `data.outputs`), from the `[]` fan-outs of its declared assets."""
    if declaration is None:
        return []
    paths = []
    for entry in declaration.assets:
        values = entry.values() if isinstance(entry, Mapping) else [entry]
        for value in values:
            text = str(value)
            if "[]" in text and "[?" not in text:
                head = text.split("[]", 1)[0]
                if head and head not in paths:
                    paths.append(head)
    return paths


def shape_assets(
    payload: Any, lists: list[str], body: Any, encoded_image: Callable[[], str]
) -> Any:
    """`payload` with each list of files as long as the request's count, and each
    item that holds its image as `url` or `b64_json` in the one form `response_format` asks for
    (`encoded_image` gives base64 for a new inline image)."""
    count = requested_count(body)
    base64_wanted = wants_base64(body)
    result = copy.deepcopy(payload)
    for path in lists:
        items = dig(result, path)
        if not isinstance(items, list) or not items:
            continue
        if count is not None:
            items[:] = [copy.deepcopy(items[number % len(items)]) for number in range(count)]
        for item in items:
            if isinstance(item, dict) and ("url" in item or "b64_json" in item):
                _one_form(
                    item, base64_wanted, encoded_image, redraw=requested_size(body) is not None
                )
    return result


def _one_form(
    item: dict[str, Any], base64_wanted: bool | None, image: Callable[[], str], *, redraw: bool
) -> None:
    """An item holding its image one way: base64 when asked (or when it only ever had
    base64), else a URL. `redraw`: the request asked for a size, so an inline image is
    drawn anew (else the example's stays, as its streamed twin carries it too)."""
    inline = (
        base64_wanted
        if base64_wanted is not None
        else not item.get("url") and bool(item.get("b64_json"))
    )
    if inline:
        item.pop("url", None)
        if not item.get("b64_json") or redraw:
            item["b64_json"] = image()  # drawn for this request (its size, its prompt)
    else:
        item.pop("b64_json", None)
        if not item.get("url"):
            item["url"] = "https://sandbox.invalid/image.png"  # made local when sent
