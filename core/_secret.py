"""A value that never shows itself: how the client holds the API key, and how an
answer is cleared of it before anyone can look at the answer."""

from __future__ import annotations

import httpx

from ._bodies import settled

__all__ = ["HIDDEN", "Secret", "shielded"]

#: What stands in for the key wherever it was found.
HIDDEN = "[hidden]"
# Shorter "keys" (a test's "k") would match ordinary text; no real key is this short.
_MIN_HIDDEN_LENGTH = 8


class Secret:
    """Holds a secret string; `repr()` and `str()` show only that one is set."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: call it only where it is sent."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


def shielded(response: httpx.Response, secret: Secret | None) -> httpx.Response:
    """`response` with the key gone from what an error may carry or show.

    Its `request` becomes a copy whose headers hold `HIDDEN` where they held the key
    (whatever header a plugin put it in), and a body already read that echoes the
    key (some servers quote the header they refused) has it replaced as well.
    """
    if secret is None or len(secret.reveal()) < _MIN_HIDDEN_LENGTH:
        return response
    key = secret.reveal()
    request = response.request
    hidden = HIDDEN.encode()
    # A shallow copy keeps the parsed URL and the body as they are (building a new
    # request would parse both again, a tenth of a small call's cost in py302); made
    # by hand, as `copy.copy` takes seven times as long through `__reduce_ex__`.
    cleared = object.__new__(type(request))
    cleared.__dict__.update(request.__dict__)
    cleared.headers = httpx.Headers(
        [(name, value.replace(key.encode(), hidden)) for name, value in request.headers.raw]
    )
    if key in str(request.url):  # a query parameter some API asks for
        cleared.url = httpx.URL(str(request.url).replace(key, HIDDEN))
    response.request = cleared
    if not response.is_stream_consumed or not _may_echo(response):
        return response
    if key.encode() in response.content:
        return settled(response, response.content.replace(key.encode(), HIDDEN.encode()))
    return response


def _may_echo(response: httpx.Response) -> bool:
    """Whether a body could quote the key back: any error or redirect answer, and any
    text (JSON included); a successful binary body (an image) is not searched."""
    if response.status_code >= 300:
        return True
    kind = response.headers.get("content-type", "").lower()
    return not kind or kind.startswith(("text/", "application/json")) or "json" in kind
