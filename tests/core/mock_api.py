"""A tiny programmable stand-in for the API behind `httpx.MockTransport`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from py302 import AsyncClient, Client, PluginHost
from tests.support import TEST_KEY, no_sleep, no_sleep_async

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception


class MockAPI:
    """Answers each route from a queue of replies and records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def on(self, method: str, path: str, *replies: Reply) -> MockAPI:
        """Queue replies for `method path`; the last one repeats."""
        self.routes.setdefault((method, path), []).extend(replies)
        return self

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get((request.method, request.url.path))
        if not queue:
            return httpx.Response(404, json={"error": {"message": f"no route {request.url.path}"}})
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        # A fresh response each time: one object cannot be sent twice, or to both clients.
        return httpx.Response(reply.status_code, headers=reply.headers, content=reply.read())

    def sent(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    def client(self, host: PluginHost | None = None, **options: Any) -> Client:
        options.setdefault("api_key", TEST_KEY)

        def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            no_sleep(seconds)

        return Client(
            http_client=httpx.Client(transport=httpx.MockTransport(self.handler)),
            plugins=host or PluginHost(entry_points=False),
            sleep=sleep,
            **options,
        )

    def async_client(self, host: PluginHost | None = None, **options: Any) -> AsyncClient:
        options.setdefault("api_key", TEST_KEY)

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            await no_sleep_async(seconds)

        return AsyncClient(
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(self.handler)),
            plugins=host or PluginHost(entry_points=False),
            sleep=sleep,
            **options,
        )


def images(url: str = "https://file.302.ai/a.png") -> httpx.Response:
    """A fal-style images answer."""
    return httpx.Response(200, json={"images": [{"url": url, "content_type": "image/png"}]})
