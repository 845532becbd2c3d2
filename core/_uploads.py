"""Local files for fields that take a URL: uploaded to 302's file host, when allowed.

A text field marked `x-py302-file: url` takes an image's public URL only. Given a
local path, bytes or an open file there, py302 refuses it before sending, unless the
client was made with `upload_files=True`: then the request is checked with a
placeholder URL, each file is sent to the operation a spec marks `x-py302-upload`
(302's `POST /302/upload-file`), and the request goes out with the URLs that
operation answered. Uploading is opt-in because the file becomes reachable by anyone
who has its URL, and each upload is billed.

The upload operation's mark says which multipart field takes the file and where
the answer keeps its URL: `x-py302-upload: {field: file, url: data}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._errors import ConfigurationError, ResponseShapeError
from .binding import Call
from .payloads import dig

if TYPE_CHECKING:
    from ._calls import Prepared
    from ._context import Context
    from ._registry import OperationSpec, ProviderRegistry
    from ._steps import Flow

__all__ = ["UPLOAD_MARK", "PendingUpload", "uploads_flow"]

#: The extension that marks the operation which turns a file into a public URL.
UPLOAD_MARK = "x-py302-upload"


@attrs.frozen
class PendingUpload:
    """A file given for a URL field: the request holds `placeholder` until it is
    uploaded."""

    placeholder: str
    file: Any = attrs.field(repr=False)  # a path or the file's bytes


def uploads_flow(ctx: Context, prepared: Prepared) -> Flow[Prepared]:
    """Upload the files a call gave for URL fields; the call with their URLs in."""
    from ._calls import interpret, prepare, request_flow

    if not prepared.uploads:
        return prepared
    registry, spec = _uploader(ctx)
    mark = spec.extensions[UPLOAD_MARK]
    urls: dict[str, str] = {}
    for pending in prepared.uploads:
        call: Call[Any] = Call(
            operation=spec.operation_id, model=Any, body={mark["field"]: pending.file}
        )
        upload = prepare(ctx, registry, call)
        response = yield from request_flow(ctx, upload)
        payload = interpret(ctx, spec, response)
        url = dig(payload, mark["url"])
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ResponseShapeError(
                spec.qualified_name, [f"no file URL at {mark['url']!r} in the answer"], payload
            )
        urls[pending.placeholder] = url
    return prepared.with_body(_replaced(prepared.body, urls))


def _uploader(ctx: Context) -> tuple[ProviderRegistry, OperationSpec]:
    """The operation some spec marks as the upload, in the first provider that has one."""
    for provider in sorted(ctx.host.providers):
        registry = ctx.registry_of(provider)
        for spec in registry.operations.values():
            mark = spec.extensions.get(UPLOAD_MARK)
            if isinstance(mark, Mapping) and {"field", "url"} <= mark.keys():
                return registry, spec
    raise ConfigurationError(
        "upload_files=True, but no registered provider declares an upload operation "
        f"({UPLOAD_MARK}); pass the image's URL instead"
    )


def _replaced(value: Any, urls: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return urls.get(value, value)
    if isinstance(value, Mapping):
        return {key: _replaced(item, urls) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_replaced(item, urls) for item in value]
    return value
