"""The httpx clients py302 makes for itself keep no cookies from answers."""

from __future__ import annotations

import asyncio

import httpx

from py302 import AsyncClient, Client
from py302._http_clients import ApiAsyncClient, ApiClient


def _answer_with_cookie(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={"cookie_sent": request.headers.get("cookie")},
        headers={"Set-Cookie": "session=abc; Path=/"},
    )


def test_sync_client_takes_no_cookie_and_sends_none_back() -> None:
    with ApiClient(transport=httpx.MockTransport(_answer_with_cookie)) as http:
        first = http.get("http://api.test/a")
        second = http.get("http://api.test/b")
        assert first.headers["set-cookie"] == "session=abc; Path=/"
        assert second.json() == {"cookie_sent": None}
        assert dict(http.cookies) == {}


def test_async_client_takes_no_cookie_and_sends_none_back() -> None:
    async def run() -> tuple[object, dict[str, str]]:
        transport = httpx.MockTransport(_answer_with_cookie)
        async with ApiAsyncClient(transport=transport) as http:
            await http.get("http://api.test/a")
            second = await http.get("http://api.test/b")
            return second.json(), dict(http.cookies)

    assert asyncio.run(run()) == ({"cookie_sent": None}, {})


def test_clients_use_them_unless_given_an_httpx_client() -> None:
    with Client(api_key="k" * 20, base_url="http://api.test") as client:
        assert isinstance(client._http, ApiClient)
    mine = httpx.Client()
    with Client(api_key="k" * 20, base_url="http://api.test", http_client=mine) as client:
        assert client._http is mine
    mine.close()
    assert isinstance(AsyncClient(api_key="k" * 20)._http, ApiAsyncClient)
