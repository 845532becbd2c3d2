"""`Client` and `AsyncClient`: configuration, and where each kind of call starts.

Every call becomes a flow (`py302._calls`, `_task_flows`, `_streams`) run by the
client's driver (`py302._drivers`), so the two clients behave alike by construction.
Provider namespaces (`client.<provider>`) come from the generated mixins and are
created on first access; `client.provider("name")` reaches any registered provider,
third-party ones included.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from py302.generated import AsyncProviders, SyncProviders

from ._bodies import BodyLimits
from ._calls import Prepared, call_flow, prepare
from ._constants import (
    API_KEY_ENV_VARS,
    BASE_URL_ENV_VAR,
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_STREAM_IDLE_TIMEOUT,
    DEFAULT_STREAM_TIMEOUT,
    DEFAULT_TIMEOUT,
)
from ._context import Context
from ._downloads import bounded_chunks, bounded_chunks_async, download_error
from ._drivers import AsyncDriver, SyncDriver
from ._errors import ConfigurationError
from ._http_clients import ApiAsyncClient, ApiClient
from ._plugins import PluginHost, default_host
from ._secret import Secret
from ._uploads import uploads_flow
from .binding import STREAM, TASK, Async, Call, Namespace, Sync

if TYPE_CHECKING:
    from ._journal import Journal
    from ._task_handles import AsyncTask, Task
    from ._webhooks import AsyncWebhooks, Webhooks

# Tasks, streams and the journal are imported where they are first used: a program
# that makes plain calls does not pay for them when it imports the client.

__all__ = ["AsyncClient", "Client"]

M = TypeVar("M")
_LIMITS = httpx.Limits(
    max_connections=DEFAULT_MAX_CONNECTIONS, max_keepalive_connections=DEFAULT_MAX_CONNECTIONS
)
_SelfT = TypeVar("_SelfT", bound="_BaseClient[Any, Any]")


def _resolve_key(api_key: str | None) -> Secret | None:
    if api_key is not None:
        if not api_key.strip():
            raise ConfigurationError("api_key is empty; pass a key or leave it out")
        return Secret(_sendable(api_key.strip(), "api_key"))
    for name in API_KEY_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return Secret(_sendable(value, name))
    return None


def _sendable(key: str, source: str) -> str:
    """`key`, if every character can go in an HTTP header; the error names where the
    key came from and never the key itself."""
    if all("!" <= char <= "~" for char in key):
        return key
    raise ConfigurationError(
        f"the API key in {source} holds a space, a control character or a non-ASCII "
        "character, which cannot be sent in an HTTP header; copy the key again"
    )


def _resolve_base_url(base_url: str | None) -> str:
    source = "base_url" if base_url else BASE_URL_ENV_VAR
    url = (base_url or os.environ.get(BASE_URL_ENV_VAR) or DEFAULT_BASE_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"{source} must start with http:// or https://, got {url!r}")
    return url


def _journal(journal: Journal | str | os.PathLike[str] | bool | None) -> Journal | None:
    if journal is None or journal is False:
        return None
    from ._journal import Journal  # only a client that journals pays for importing it

    if journal is True:
        return Journal()
    if isinstance(journal, Journal):
        return journal
    return Journal(journal)


def _timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if timeout is None or not timeout > 0:
        raise ConfigurationError(
            f"timeout must be seconds above 0, got {timeout!r} (None would let a request "
            "hang for ever)"
        )
    return httpx.Timeout(timeout, connect=min(timeout, DEFAULT_CONNECT_TIMEOUT))


def _deadline(timeout: httpx.Timeout) -> float:
    """The whole-call deadline a timeout stands for: its longest part (httpx's own
    limits apply to each read, which a trickling server never trips)."""
    parts = [value for value in timeout.as_dict().values() if value is not None]
    if not parts:
        raise ConfigurationError("an httpx.Timeout with no limit at all would let calls hang")
    return max(parts)


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{name} must be a number of bytes above 0, got {value!r}")
    return value


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
SleepT = TypeVar("SleepT")


class _BaseClient(Generic[HttpT, SleepT]):
    """One constructor for both clients; each says how it makes its httpx client and
    its driver (`_new_http`, `_new_driver`)."""

    _ctx: Context

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: HttpT | None = None,
        plugins: PluginHost | None = None,
        sleep: SleepT | None = None,
        journal: Journal | str | os.PathLike[str] | bool | None = None,
        idle_timeout: float = DEFAULT_STREAM_IDLE_TIMEOUT,
        stream_timeout: float = DEFAULT_STREAM_TIMEOUT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        upload_files: bool = False,
    ) -> None:
        if max_retries < 0:
            raise ConfigurationError("max_retries must be 0 or more")
        if idle_timeout <= 0 or stream_timeout <= 0:
            raise ConfigurationError("idle_timeout and stream_timeout must be seconds above 0")
        self._ctx = Context(
            base_url=_resolve_base_url(base_url),
            api_key=_resolve_key(api_key),
            max_retries=max_retries,
            host=plugins if plugins is not None else default_host(),
            downloader=self,  # type: ignore[arg-type]
            idle_timeout=idle_timeout,
            stream_timeout=stream_timeout,
            upload_files=upload_files,
        )
        self._journal = _journal(journal)
        if self._journal is not None:
            from ._observers import JournalObserver

            self._ctx.observers.append(JournalObserver(self._journal, self._ctx.base_url))
        self._max_download_bytes = _positive("max_download_bytes", max_download_bytes)
        self._owns_http = http_client is None
        self._closed = False
        self._http: HttpT = http_client or self._new_http(_timeout(timeout))
        limits = BodyLimits(
            max_bytes=_positive("max_response_bytes", max_response_bytes),
            deadline=_deadline(self._http.timeout),
        )
        self._new_driver(self._http, sleep, limits)

    def _new_http(self, timeout: httpx.Timeout) -> HttpT:
        raise NotImplementedError

    def _new_driver(self, http: HttpT, sleep: SleepT | None, limits: BodyLimits) -> None:
        raise NotImplementedError

    @property
    def journal(self) -> Journal | None:
        """The task journal this client writes to, if any."""
        return self._journal

    @property
    def base_url(self) -> str:
        """The API's base URL (from the argument, `AI302_BASE_URL`, or the default)."""
        return self._ctx.base_url

    @property
    def plugins(self) -> PluginHost:
        """The plugin host this client uses."""
        return self._ctx.host

    def _namespace(self, name: str) -> Any:
        return _namespace_class(self._ctx.host.provider(name).bindings, name)(self)

    def _prepared(self, namespace: type[Namespace[Any]], call: Call[Any]) -> Prepared:
        self._check_open()
        return prepare(self._ctx, self._ctx.registry_of(namespace), call)

    def _check_open(self) -> None:
        # An httpx client py302 made may have been closed with its event loop (see
        # AsyncDriver.current_http): only close() ends the client itself.
        if self._closed or (not self._owns_http and self._http.is_closed):
            raise ConfigurationError("this client is closed; make a new one (nothing was sent)")

    def __repr__(self) -> str:
        key = "set" if self._ctx.api_key is not None else "missing"
        return f"<{type(self).__name__} base_url={self.base_url!r} api_key={key}>"


class Client(SyncProviders, _BaseClient[httpx.Client, Callable[[float], None]]):
    """The synchronous client.

    `api_key` falls back to `AI302_API_KEY`, then `302AI_API_KEY`; `base_url` to
    `AI302_BASE_URL`, then https://api.302.ai. `timeout` (seconds) bounds each HTTP
    request as a whole, from sending it to the last byte of its answer (with an
    `http_client` of your own, from the answer's first chunk on);
    `max_retries` bounds resends (see `py302._retry` for what is resent).
    `max_response_bytes` caps one API answer and `max_download_bytes` one result file,
    both counted once decoded (`ResponseTooLargeError`, `DownloadTooLargeError`).
    `idle_timeout` bounds the silence between two chunks of a stream, `stream_timeout`
    a whole stream. `http_client` replaces the httpx client (it is then yours to
    close); `sleep` is what waits between polls and retries (tests pass a no-op).
    `journal` (a `Journal`, a path, or True for the default file) records every
    submitted task so none is lost; it is off by default for library use.
    `upload_files=True` lets a local file given for a field that takes only a URL be
    uploaded to 302's file host first (the file gets a public URL; each upload is
    billed); without it such a file is refused before anything is sent.
    """

    _driver: SyncDriver
    _sockets_bounded = False

    def _new_http(self, timeout: httpx.Timeout) -> httpx.Client:
        from ._deadlines import bounds_sockets, with_deadlines

        transport = with_deadlines(httpx.HTTPTransport(limits=_LIMITS))
        self._sockets_bounded = bounds_sockets(transport)
        return ApiClient(
            timeout=timeout, follow_redirects=True, limits=_LIMITS, transport=transport
        )

    def _new_driver(
        self, http: httpx.Client, sleep: Callable[[float], None] | None, limits: BodyLimits
    ) -> None:
        self._driver = SyncDriver(
            http,
            sleep or time.sleep,
            limits,
            self._ctx.api_key,
            sockets_bounded=self._owns_http and self._sockets_bounded,
        )

    def provider(self, name: str) -> Namespace[Sync]:
        """The operations of any registered provider, by name (untyped access)."""
        namespace: Namespace[Sync] = self._namespace(name)
        return namespace

    @functools.cached_property
    def webhooks(self) -> Webhooks:
        """Read the callbacks 302 posts to your webhook URL, and confirm them by
        fetching the task with this client's key (callbacks are not signed)."""
        from ._webhooks import Webhooks  # only webhook receivers pay for importing it

        return Webhooks(self._ctx, self.resume_task)

    def resume_task(
        self, operation: str, task_id: str, *, path: Mapping[str, Any] | None = None
    ) -> Task[Any]:
        """A handle for a task submitted earlier (`operation` as `provider.operation`);
        `path` gives the submit URL's path values where its poll URL needs them (the
        journal keeps them: `JournalEntry.submit_path`)."""
        from ._task_flows import poll_flow, resumed_state
        from ._task_handles import Task

        self._check_open()
        state = resumed_state(self._ctx, operation, task_id, path)
        self._driver.run(poll_flow(self._ctx, state))
        return Task(state, self._ctx, self._driver)

    def close(self) -> None:
        """Close the HTTP connections (unless the httpx client was passed in)."""
        self._closed = True
        if self._owns_http:
            self._http.close()

    def __enter__(self: _SelfT) -> _SelfT:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _invoke(self, namespace: type[Namespace[Any]], call: Call[Any], kind: str) -> Any:
        """Where every generated method lands: a call, a task submit, or a stream."""
        prepared = self._prepared(namespace, call)
        if prepared.uploads:
            prepared = self._driver.run(uploads_flow(self._ctx, prepared))
        if kind == STREAM:
            from ._streams import Stream  # only streaming callers pay for importing it

            return Stream(self._ctx, prepared, getattr(call, "event_model", Any), self._driver)
        if kind == TASK:
            from ._task_flows import submit_flow
            from ._task_handles import Task

            flow = submit_flow(self._ctx, prepared, getattr(call, "result_model", Any))
            return Task(self._driver.run(flow), self._ctx, self._driver)
        return self._driver.run(call_flow(self._ctx, prepared))

    @contextlib.contextmanager
    def stream(self, url: str) -> Iterator[Iterator[bytes]]:
        """Stream a result file (no API key is sent to file hosts)."""
        try:
            with self._http.stream("GET", url) as response:
                if response.status_code >= 400:
                    response.read()
                    raise download_error(url, response)
                yield bounded_chunks(response.iter_bytes(), url, self._max_download_bytes)
        except httpx.RequestError as exc:  # transport, decoding, redirects
            raise download_error(url, exc) from exc

    def astream(self, url: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """Not available on the synchronous client: use `read()`/`save()`."""
        raise TypeError("this asset came from the synchronous Client: use read() or save()")


class AsyncClient(
    AsyncProviders, _BaseClient[httpx.AsyncClient, Callable[[float], Awaitable[None]]]
):
    """The asynchronous client: `Client`'s twin, with awaitable calls."""

    _driver: AsyncDriver

    def _new_http(self, timeout: httpx.Timeout) -> httpx.AsyncClient:
        from ._async_pool import ShardedTransport

        return ApiAsyncClient(
            timeout=timeout,
            follow_redirects=True,
            transport=ShardedTransport(DEFAULT_MAX_CONNECTIONS),
        )

    def _new_driver(
        self,
        http: httpx.AsyncClient,
        sleep: Callable[[float], Awaitable[None]] | None,
        limits: BodyLimits,
    ) -> None:
        renew = self._renew_http if self._owns_http else None
        self._driver = AsyncDriver(
            http, sleep or _asyncio_sleep, limits, self._ctx.api_key, renew=renew
        )

    def _renew_http(self) -> httpx.AsyncClient:
        """A fresh httpx client for a new event loop (see `AsyncDriver.current_http`)."""
        self._http = self._new_http(self._http.timeout)
        return self._http

    def provider(self, name: str) -> Namespace[Async]:
        """The operations of any registered provider, by name (untyped access)."""
        namespace: Namespace[Async] = self._namespace(name)
        return namespace

    @functools.cached_property
    def webhooks(self) -> AsyncWebhooks:
        """Read the callbacks 302 posts to your webhook URL, and confirm them by
        fetching the task with this client's key (callbacks are not signed)."""
        from ._webhooks import AsyncWebhooks  # only webhook receivers pay for importing it

        return AsyncWebhooks(self._ctx, self.resume_task)

    async def resume_task(
        self, operation: str, task_id: str, *, path: Mapping[str, Any] | None = None
    ) -> AsyncTask[Any]:
        """A handle for a task submitted earlier (`operation` as `provider.operation`);
        `path` as for `Client.resume_task`."""
        from ._task_flows import poll_flow, resumed_state
        from ._task_handles import AsyncTask

        self._check_open()
        state = resumed_state(self._ctx, operation, task_id, path)
        await self._driver.run(poll_flow(self._ctx, state))
        return AsyncTask(state, self._ctx, self._driver)

    async def aclose(self) -> None:
        """Close the HTTP connections (unless the httpx client was passed in)."""
        self._closed = True
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self: _SelfT) -> _SelfT:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _invoke(self, namespace: type[Namespace[Any]], call: Call[Any], kind: str) -> Any:
        """Where every generated method lands: a call, a task submit, or a stream."""
        prepared = self._prepared(namespace, call)
        if prepared.uploads:
            prepared = await self._driver.run(uploads_flow(self._ctx, prepared))
        if kind == STREAM:
            from ._streams import AsyncStream  # only streaming callers pay for importing it

            events = getattr(call, "event_model", Any)
            return await AsyncStream(self._ctx, prepared, events, self._driver)._open()
        if kind == TASK:
            from ._task_flows import submit_flow
            from ._task_handles import AsyncTask

            flow = submit_flow(self._ctx, prepared, getattr(call, "result_model", Any))
            return AsyncTask(await self._driver.run(flow), self._ctx, self._driver)
        return await self._driver.run(call_flow(self._ctx, prepared))

    @contextlib.contextmanager
    def stream(self, url: str) -> Iterator[Iterator[bytes]]:
        """Not available on the async client: use `aread()`/`asave()`."""
        raise TypeError("this asset came from the AsyncClient: use aread() or asave()")

    @contextlib.asynccontextmanager
    async def astream(self, url: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """Stream a result file (no API key is sent to file hosts)."""
        try:
            http = await self._driver.current_http()
            async with http.stream("GET", url) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise download_error(url, response)
                yield bounded_chunks_async(response.aiter_bytes(), url, self._max_download_bytes)
        except httpx.RequestError as exc:  # transport, decoding, redirects
            raise download_error(url, exc) from exc


async def _asyncio_sleep(seconds: float) -> None:
    # asyncio costs ~50 ms to import: only async users should pay for it.
    import asyncio

    await asyncio.sleep(seconds)


def _namespace_class(bindings: str, provider: str) -> type[Namespace[Any]]:
    import importlib

    module = importlib.import_module(bindings)
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, Namespace)
            and getattr(value, "provider", None) == provider
        ):
            return value
    raise ConfigurationError(f"{bindings} defines no namespace for provider {provider!r}")
