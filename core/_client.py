"""`Client` and `AsyncClient`: configuration, and the I/O of every call.

Both hand the thinking to one `Engine` (validation, retry decisions, errors, results)
and only carry out its steps with httpx, so they behave alike by construction.
Provider namespaces (`client.<provider>`) come from the generated mixins and are
created on first access; `client.provider("name")` reaches any registered provider,
third-party ones included.
"""

from __future__ import annotations

import contextlib
import os
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, TypeVar

import httpx

from py302.generated import AsyncProviders, SyncProviders

from ._constants import (
    API_KEY_ENV_VARS,
    BASE_URL_ENV_VAR,
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
)
from ._engine import Engine, Prepared, Send
from ._errors import ConfigurationError
from ._journal import Journal
from ._plugins import PluginHost, default_host
from ._registry import ProviderRegistry
from ._results import Result
from ._secret import Secret
from ._tasks import AsyncTask, Task, _TaskCore
from .binding import Async, Call, Namespace, Sync, TaskCall

__all__ = ["AsyncClient", "Client"]

M = TypeVar("M")
_LIMITS = httpx.Limits(
    max_connections=DEFAULT_MAX_CONNECTIONS, max_keepalive_connections=DEFAULT_MAX_CONNECTIONS
)
_SelfT = TypeVar("_SelfT", bound="_BaseClient")


def _resolve_key(api_key: str | None) -> Secret | None:
    if api_key is not None:
        if not api_key.strip():
            raise ConfigurationError("api_key is empty; pass a key or leave it out")
        return Secret(api_key.strip())
    for name in API_KEY_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return Secret(value)
    return None


def _resolve_base_url(base_url: str | None) -> str:
    url = (base_url or os.environ.get(BASE_URL_ENV_VAR) or DEFAULT_BASE_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"base_url must start with http:// or https://, got {url!r}")
    return url


def _journal(journal: Journal | str | os.PathLike[str] | bool | None) -> Journal | None:
    if journal is None or journal is False:
        return None
    if journal is True:
        return Journal()
    if isinstance(journal, Journal):
        return journal
    return Journal(journal)


def _timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if timeout is None:
        raise ConfigurationError("timeout=None would let a request hang for ever; give seconds")
    return httpx.Timeout(timeout, connect=min(timeout, DEFAULT_CONNECT_TIMEOUT))


class _BaseClient:
    _engine: Engine

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        max_retries: int,
        plugins: PluginHost | None,
        journal: Journal | str | os.PathLike[str] | bool | None,
    ) -> None:
        if max_retries < 0:
            raise ConfigurationError("max_retries must be 0 or more")
        self._engine = Engine(
            base_url=_resolve_base_url(base_url),
            api_key=_resolve_key(api_key),
            max_retries=max_retries,
            host=plugins if plugins is not None else default_host(),
            journal=_journal(journal),
        )

    @property
    def journal(self) -> Journal | None:
        """The task journal this client writes to, if any."""
        return self._engine.journal

    @property
    def base_url(self) -> str:
        """The API's base URL (from the argument, `AI302_BASE_URL`, or the default)."""
        return self._engine.base_url

    @property
    def plugins(self) -> PluginHost:
        """The plugin host this client uses."""
        return self._engine.host

    def __repr__(self) -> str:
        key = "set" if self._engine.api_key is not None else "missing"
        return f"<{type(self).__name__} base_url={self.base_url!r} api_key={key}>"


class Client(SyncProviders, _BaseClient):
    """The synchronous client.

    `api_key` falls back to `AI302_API_KEY`, then `302AI_API_KEY`; `base_url` to
    `AI302_BASE_URL`, then https://api.302.ai. `timeout` (seconds) bounds each HTTP
    request; `max_retries` bounds resends (see `py302._retry` for what is resent).
    `http_client` replaces the httpx client (it is then yours to close); `sleep` is
    what waits between polls and retries (tests pass a no-op). `journal` (a `Journal`,
    a path, or True for the default file) records every submitted task so none is
    lost; it is off by default for library use.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        plugins: PluginHost | None = None,
        sleep: Callable[[float], None] = time.sleep,
        journal: Journal | str | os.PathLike[str] | bool | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            max_retries=max_retries,
            plugins=plugins,
            journal=journal,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=_timeout(timeout), follow_redirects=True, limits=_LIMITS
        )
        self._sleep = sleep

    def provider(self, name: str) -> Namespace[Sync]:
        """The operations of any registered provider, by name (untyped access)."""
        bindings = self._engine.host.provider(name).bindings
        return _namespace_class(bindings, name)(self)

    def resume_task(self, operation: str, task_id: str) -> Task[Any]:
        """A handle for a task submitted earlier (`operation` as `provider.operation`)."""
        registry, core = self._engine.resumed_task(operation, task_id, downloader=self)
        task: Task[Any] = self._task(registry, core)
        task.refresh()
        return task

    def close(self) -> None:
        """Close the HTTP connections (unless the httpx client was passed in)."""
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

    # -- what generated namespaces call ------------------------------------------------

    def _execute(self, namespace: type[Namespace[Any]], call: Call[M]) -> Result[M]:
        registry = self._engine.registry_of(namespace)
        prepared = self._engine.prepare(registry, call)
        response, payload = self._send(prepared)
        return self._engine.result(
            prepared.spec, payload, call.model, response=response, downloader=self
        )

    def _submit(self, namespace: type[Namespace[Any]], call: TaskCall[Any, Any]) -> Task[Any]:
        registry = self._engine.registry_of(namespace)
        prepared, pattern = self._engine.prepare_submit(registry, call)
        entry = self._engine.journal_begin(prepared.spec)
        try:
            response, payload = self._send(prepared)
            core = self._engine.start_task(
                registry,
                prepared,
                pattern,
                payload,
                response,
                result_model=call.result_model,
                downloader=self,
            )
        except BaseException as exc:
            self._engine.journal_refused(entry, exc)
            raise
        self._engine.journal_follow(core, entry)
        return self._task(registry, core)

    def _task(self, registry: ProviderRegistry, core: _TaskCore) -> Task[Any]:
        def poll() -> tuple[Any, httpx.Response]:
            response, payload = self._send(self._engine.poll_prepared(registry, core))
            return payload, response

        cancel_prepared = self._engine.cancel_prepared(registry, core)

        def cancel() -> Any:
            assert cancel_prepared is not None
            return self._send(cancel_prepared)[1]

        return Task(core, poll=poll, cancel=cancel if cancel_prepared else None, sleep=self._sleep)

    def _send(self, prepared: Prepared) -> tuple[httpx.Response, Any]:
        steps = self._engine.request_steps(prepared)
        step = next(steps)
        while True:
            try:
                if isinstance(step, Send):
                    outcome: httpx.Response | Exception
                    try:
                        response = self._http.send(step.request)
                        response.read()
                        outcome = response
                    except httpx.TransportError as exc:
                        outcome = exc
                    step = steps.send(outcome)
                else:
                    self._sleep(step.seconds)
                    step = steps.send(None)
            except StopIteration as done:
                final: httpx.Response = done.value
                return final, self._engine.interpret(prepared.spec, final)

    # -- Downloader, for assets -------------------------------------------------------

    @contextlib.contextmanager
    def stream(self, url: str) -> Iterator[Iterator[bytes]]:
        """Stream a result file (no API key is sent to file hosts)."""
        with self._http.stream("GET", url) as response:
            response.raise_for_status()
            yield response.iter_bytes()

    def astream(self, url: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """Not available on the synchronous client: use `read()`/`save()`."""
        raise TypeError("this asset came from the synchronous Client: use read() or save()")


class AsyncClient(AsyncProviders, _BaseClient):
    """The asynchronous client: `Client`'s twin, with awaitable calls."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        plugins: PluginHost | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        journal: Journal | str | os.PathLike[str] | bool | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            max_retries=max_retries,
            plugins=plugins,
            journal=journal,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=_timeout(timeout), follow_redirects=True, limits=_LIMITS
        )
        self._sleep = sleep or _asyncio_sleep
        # One gate per event loop: a client may be used from several asyncio.run().
        self._gates: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    def _gate(self) -> Any:
        """At most as many requests in flight as connections: httpcore's pool slows down
        quadratically with the requests queued on it (measured: 1,000 tasks 37 s -> see
        the benchmark), so the queue is kept here instead."""
        import asyncio

        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(DEFAULT_MAX_CONNECTIONS)
        return gate

    def provider(self, name: str) -> Namespace[Async]:
        """The operations of any registered provider, by name (untyped access)."""
        bindings = self._engine.host.provider(name).bindings
        return _namespace_class(bindings, name)(self)

    async def resume_task(self, operation: str, task_id: str) -> AsyncTask[Any]:
        """A handle for a task submitted earlier (`operation` as `provider.operation`)."""
        registry, core = self._engine.resumed_task(operation, task_id, downloader=self)
        task: AsyncTask[Any] = self._task(registry, core)
        await task.refresh()
        return task

    async def aclose(self) -> None:
        """Close the HTTP connections (unless the httpx client was passed in)."""
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

    async def _execute(self, namespace: type[Namespace[Any]], call: Call[M]) -> Result[M]:
        registry = self._engine.registry_of(namespace)
        prepared = self._engine.prepare(registry, call)
        response, payload = await self._send(prepared)
        return self._engine.result(
            prepared.spec, payload, call.model, response=response, downloader=self
        )

    async def _submit(
        self, namespace: type[Namespace[Any]], call: TaskCall[Any, Any]
    ) -> AsyncTask[Any]:
        registry = self._engine.registry_of(namespace)
        prepared, pattern = self._engine.prepare_submit(registry, call)
        entry = self._engine.journal_begin(prepared.spec)
        try:
            response, payload = await self._send(prepared)
            core = self._engine.start_task(
                registry,
                prepared,
                pattern,
                payload,
                response,
                result_model=call.result_model,
                downloader=self,
            )
        except BaseException as exc:
            self._engine.journal_refused(entry, exc)
            raise
        self._engine.journal_follow(core, entry)
        return self._task(registry, core)

    def _task(self, registry: ProviderRegistry, core: _TaskCore) -> AsyncTask[Any]:
        async def poll() -> tuple[Any, httpx.Response]:
            response, payload = await self._send(self._engine.poll_prepared(registry, core))
            return payload, response

        cancel_prepared = self._engine.cancel_prepared(registry, core)

        async def cancel() -> Any:
            assert cancel_prepared is not None
            return (await self._send(cancel_prepared))[1]

        return AsyncTask(
            core, poll=poll, cancel=cancel if cancel_prepared else None, sleep=self._sleep
        )

    async def _send(self, prepared: Prepared) -> tuple[httpx.Response, Any]:
        steps = self._engine.request_steps(prepared)
        step = next(steps)
        while True:
            try:
                if isinstance(step, Send):
                    outcome: httpx.Response | Exception
                    try:
                        async with self._gate():
                            response = await self._http.send(step.request)
                            await response.aread()
                        outcome = response
                    except httpx.TransportError as exc:
                        outcome = exc
                    step = steps.send(outcome)
                else:
                    await self._sleep(step.seconds)
                    step = steps.send(None)
            except StopIteration as done:
                final: httpx.Response = done.value
                return final, self._engine.interpret(prepared.spec, final)

    @contextlib.contextmanager
    def stream(self, url: str) -> Iterator[Iterator[bytes]]:
        """Not available on the async client: use `aread()`/`asave()`."""
        raise TypeError("this asset came from the AsyncClient: use aread() or asave()")

    @contextlib.asynccontextmanager
    async def astream(self, url: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """Stream a result file (no API key is sent to file hosts)."""
        async with self._http.stream("GET", url) as response:
            response.raise_for_status()
            yield response.aiter_bytes()


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
