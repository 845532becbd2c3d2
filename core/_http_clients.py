"""The httpx clients py302 makes for itself (a caller's own `http_client` is used as
given).

They keep no cookies. py302 builds every API request itself, with exactly the headers
the spec and the caller give, so a cookie an answer sets would never be sent back;
httpx would still parse every answer's `Set-Cookie` headers into a jar (through the
standard library's cookie machinery, a tenth of the cost of a small call) and keep
them for the life of the client.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["ApiAsyncClient", "ApiClient"]


class _NoCookies(httpx.Cookies):
    """A cookie jar that takes nothing from answers."""

    def extract_cookies(self, response: httpx.Response) -> None:
        """Ignore the answer's cookies."""


class ApiClient(httpx.Client):
    """An `httpx.Client` that keeps no cookies."""

    @property
    def cookies(self) -> httpx.Cookies:
        """Always empty: see the module's docstring."""
        return _NoCookies()

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        pass


class ApiAsyncClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` that keeps no cookies."""

    @property
    def cookies(self) -> httpx.Cookies:
        """Always empty: see the module's docstring."""
        return _NoCookies()

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        pass
