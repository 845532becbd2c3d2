"""What `help()` and IDEs show for a generated operation is what the caller gets.

The bound method's signature is the caller's (no `self`) and names what the call
returns (`Result`, `Task`, `Stream`, awaitable on the async client), not the builder's
`Call`; its docstring lists every argument, documented or not.
"""

from __future__ import annotations

import inspect
import pydoc

import pytest

from py302 import AsyncClient, Client, PluginHost

KEY = "sk-canary-7f3a9c1e5b2d"


@pytest.fixture
def client() -> Client:
    return Client(api_key=KEY, plugins=PluginHost(entry_points=False))


@pytest.fixture
def async_client() -> AsyncClient:
    return AsyncClient(api_key=KEY, plugins=PluginHost(entry_points=False))


def test_help_shows_the_result_and_every_argument(client: Client) -> None:
    plain = pydoc.plaintext  # type: ignore[attr-defined]  # not in typeshed
    text = pydoc.render_doc(client.flux.dev, renderer=plain)
    assert "-> 'Result[SubmitImagesResponse]'" in text
    assert "Call[" not in text
    assert "self" not in str(inspect.signature(client.flux.dev))
    args = text.partition("Args:")[2]
    for name in inspect.signature(client.flux.dev).parameters:
        assert f"{name}:" in args, f"{name} is missing from the Args section"


def test_each_kind_of_call_names_what_it_returns(client: Client, async_client: AsyncClient) -> None:
    def returned(method: object) -> str:
        return str(inspect.signature(method).return_annotation)  # type: ignore[arg-type]

    assert returned(client.flux.generate) == "Task[BflResultResponse]"
    assert returned(client.chat.completions) == "Result[ChatCompletion]"
    assert returned(client.chat.completions.stream) == "Stream[ChatCompletionChunk, ChatCompletion]"
    assert returned(async_client.flux.dev) == "Awaitable[Result[SubmitImagesResponse]]"
    assert returned(async_client.kling.images_generations) == (
        "Awaitable[AsyncTask[KlingTaskResponse]]"
    )
