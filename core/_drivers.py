"""Carrying out flows: one small driver per I/O style.

A driver owns the httpx client and the sleep function of one `Client` or
`AsyncClient` and performs the steps of `py302._steps`. Transport errors
(and any other `httpx.RequestError`: a body that does not decode, say) are handed
back to the flow as outcomes, because only the flow knows whether they may be
retried; everything else about a call is decided in the flow. API requests never
follow a redirect (one could resend a paid submit, or the key, to another origin): a
3xx answer reaches the flow, which reports it. Stepping a flow
(`Stepper`) is shared, so each driver only says how it does each kind of I/O.
Whole bodies are read within the client's size cap and whole-call deadline
(`py302._bodies`); the answer a flow receives is already read and closed, and
shielded: the key is gone from its request and its body (`py302._secret`).
"""

from __future__ import annotations

import sys
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

import httpx

from ._bodies import BodyLimits, BoundedBody, readable_at_once, settled
from ._constants import DEFAULT_MAX_CONNECTIONS
from ._deadline_scope import until
from ._secret import Secret, shielded
from ._steps import (
    DRAIN_BYTES,
    DRAIN_SECONDS,
    Close,
    Drain,
    Emit,
    Flow,
    Open,
    Read,
    Send,
    Sleep,
    Step,
)

__all__ = ["AsyncDriver", "Stepper", "SyncDriver"]

T = TypeVar("T")
C = TypeVar("C")


class Stepper(Generic[T]):
    """A flow being stepped: its pending step (None once it returned) and its value."""

    def __init__(self, flow: Flow[T]) -> None:
        self._flow = flow
        self.step: Step | Emit | None = None
        self.value: T | None = None
        self.resume(None)

    def resume(self, outcome: Any) -> None:
        """Hand the outcome of the pending step to the flow, which goes on to the next."""
        try:
            self.step = self._flow.send(outcome)
        except StopIteration as done:
            self.step, self.value = None, done.value

    def emitted(self) -> Emit | None:
        """The pending step if it hands a value out rather than asking for I/O."""
        return self.step if isinstance(self.step, Emit) else None


def _idle_bounded(step: Open, timeout: httpx.Timeout) -> httpx.Request:
    """The request of `step` with its read timeout (the longest silence between two
    chunks) set to the stream's idle timeout, the client's other limits kept."""
    request = step.request
    limits = {**timeout.as_dict(), "read": step.idle_timeout}
    request.extensions = {**request.extensions, "timeout": limits}
    return request


def _body(
    bodies: weakref.WeakKeyDictionary[httpx.Response, C],
    response: httpx.Response,
    start: Callable[[], C],
) -> C:
    """The body iterator of an opened answer, started at its first read."""
    if response not in bodies:
        bodies[response] = start()
    return bodies[response]


class SyncDriver:
    """Performs steps with an `httpx.Client` and a blocking sleep."""

    def __init__(
        self,
        http: httpx.Client,
        sleep: Callable[[float], None],
        limits: BodyLimits,
        secret: Secret | None = None,
        *,
        sockets_bounded: bool = False,
    ) -> None:
        self.http = http
        self.sleep = sleep
        self.limits = limits
        self.secret = secret
        #: Whether `http`'s sockets honour the whole-call deadline (py302 made it).
        self.sockets_bounded = sockets_bounded
        self._bodies: weakref.WeakKeyDictionary[httpx.Response, Iterator[bytes]]
        self._bodies = weakref.WeakKeyDictionary()

    def run(self, flow: Flow[T]) -> T:
        """Drive `flow` to its end and return what it returns."""
        stepper = Stepper(flow)
        while stepper.step is not None:
            stepper.resume(self.perform(stepper.step))
        return stepper.value  # type: ignore[return-value]

    def events(self, flow: Flow[Any]) -> Iterator[Any]:
        """Drive a stream flow, yielding the value of each `Emit` as it comes."""
        stepper = Stepper(flow)
        while stepper.step is not None:
            if emit := stepper.emitted():
                yield emit.value
            stepper.resume(None if emit else self.perform(stepper.step))

    def perform(self, step: Step | Emit) -> Any:
        """Carry out one step; a transport error is returned, not raised."""
        try:
            if isinstance(step, Send):
                return self._send(step)
            if isinstance(step, Open):
                opened = self.http.send(
                    _idle_bounded(step, self.http.timeout), stream=True, follow_redirects=False
                )
                return shielded(opened, self.secret)
            if isinstance(step, Read) and step.whole:
                return self._read_whole(step.response, BoundedBody(self.limits, timed=False))
            if isinstance(step, Read):
                chunks = _body(self._bodies, step.response, step.response.iter_bytes)
                return next(chunks, b"")
            if isinstance(step, Drain):
                return self._drain(step.response)
        except httpx.RequestError as exc:  # transport, decoding, redirects
            return exc
        if isinstance(step, Close):
            # The body's iterator holds its answer: the weak map would keep both forever.
            self._bodies.pop(step.response, None)
            return step.response.close()
        if isinstance(step, Sleep):
            return self.sleep(step.seconds)
        raise TypeError(f"a flow emitted outside a stream: {step!r}")

    def _drain(self, response: httpx.Response) -> None:
        if not self.sockets_bounded:
            return  # a caller's own client: a read could not be cut short
        chunks = _body(self._bodies, response, response.iter_bytes)
        left = DRAIN_BYTES
        with until(time.monotonic() + DRAIN_SECONDS):
            for chunk in chunks:
                left -= len(chunk)
                if left < 0:
                    break

    def _send(self, step: Send) -> httpx.Response | Exception:
        body = BoundedBody(self.limits, deadline=step.deadline)
        try:
            with until(time.monotonic() + body.time_left()):
                response = self.http.send(step.request, stream=True, follow_redirects=False)
                return self._read_whole(response, body)
        except httpx.TimeoutException as exc:
            return body.timed_out() if body.time_left() <= 0 else exc

    def _read_whole(
        self, response: httpx.Response, body: BoundedBody
    ) -> httpx.Response | Exception:
        if self.sockets_bounded and readable_at_once(response, self.limits):
            # Kept as it is, not copied into a settled one: its sockets end by the
            # deadline (`py302._deadlines`), and its size is known to be within the cap.
            response.read()
            return shielded(response, self.secret)
        try:
            for chunk in response.iter_bytes():
                if (refused := body.add(chunk)) is not None:
                    return refused
        finally:
            response.close()
        return shielded(settled(response, body.content()), self.secret)


class AsyncDriver:
    """Performs steps with an `httpx.AsyncClient` and an awaitable sleep."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        sleep: Callable[[float], Awaitable[None]],
        limits: BodyLimits,
        secret: Secret | None = None,
        renew: Callable[[], httpx.AsyncClient] | None = None,
    ) -> None:
        self.http = http
        self.sleep = sleep
        self.limits = limits
        self.secret = secret
        self._renew = renew
        self._loop: weakref.ref[Any] | None = None
        self._keepers: weakref.WeakKeyDictionary[Any, AsyncIterator[None]]
        self._keepers = weakref.WeakKeyDictionary()
        self._bodies: weakref.WeakKeyDictionary[httpx.Response, AsyncIterator[bytes]]
        self._bodies = weakref.WeakKeyDictionary()
        # One gate per event loop: a client may be used from several asyncio.run().
        self._gates: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    async def current_http(self) -> httpx.AsyncClient:
        """The httpx client for the running event loop.

        httpx's pooled connections belong to the loop that opened them. When py302
        made the httpx client (`renew` given), it is closed as its loop's
        `asyncio.run()` ends, and a later loop gets a fresh one; an httpx client
        passed in stays the caller's to manage.
        """
        import asyncio

        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop() is loop:
            return self.http
        if self._renew is None:
            return self.http
        if self._loop is not None:
            self.http = self._renew()
        self._loop = weakref.ref(loop)
        keeper = _closed_with_loop(self.http)
        await anext(keeper)  # parked until asyncio.run() shuts its async generators down
        self._keepers[loop] = keeper
        return self.http

    async def run(self, flow: Flow[T]) -> T:
        """Drive `flow` to its end and return what it returns."""
        stepper = Stepper(flow)
        while stepper.step is not None:
            stepper.resume(await self.perform(stepper.step))
        return stepper.value  # type: ignore[return-value]

    async def events(self, flow: Flow[Any]) -> AsyncIterator[Any]:
        """Drive a stream flow, yielding the value of each `Emit` as it comes."""
        stepper = Stepper(flow)
        while stepper.step is not None:
            if emit := stepper.emitted():
                yield emit.value
            stepper.resume(None if emit else await self.perform(stepper.step))

    async def perform(self, step: Step | Emit) -> Any:
        """Carry out one step; a transport error is returned, not raised."""
        try:
            if isinstance(step, Send):
                async with self._gate():
                    body = BoundedBody(self.limits, deadline=step.deadline)
                    http = await self.current_http()
                    sending = http.send(step.request, stream=True, follow_redirects=False)
                    try:
                        response = await _within(sending, body.time_left())
                    except TimeoutError:
                        return body.timed_out()
                    return await self._read_whole(response, body)
            if isinstance(step, Open):
                opened = await (await self.current_http()).send(
                    _idle_bounded(step, self.http.timeout), stream=True, follow_redirects=False
                )
                return shielded(opened, self.secret)
            if isinstance(step, Read) and step.whole:
                body = BoundedBody(self.limits, timed=False)
                return await self._read_whole(step.response, body)
            if isinstance(step, Read):
                chunks = _body(self._bodies, step.response, step.response.aiter_bytes)
                return await anext(chunks, b"")
            if isinstance(step, Drain):
                try:
                    return await _within(self._drain(step.response), DRAIN_SECONDS)
                except TimeoutError:
                    return None
        except httpx.RequestError as exc:  # transport, decoding, redirects
            return exc
        if isinstance(step, Close):
            self._bodies.pop(step.response, None)  # (see SyncDriver.perform)
            return await step.response.aclose()
        if isinstance(step, Sleep):
            return await self.sleep(step.seconds)
        raise TypeError(f"a flow emitted outside a stream: {step!r}")

    async def _drain(self, response: httpx.Response) -> None:
        chunks = _body(self._bodies, response, response.aiter_bytes)
        left = DRAIN_BYTES
        async for chunk in chunks:
            left -= len(chunk)
            if left < 0:
                break

    async def _read_whole(
        self, response: httpx.Response, body: BoundedBody
    ) -> httpx.Response | Exception:
        if body.timed and readable_at_once(response, self.limits):
            try:
                await _within(response.aread(), body.time_left())
            except TimeoutError:
                await response.aclose()
                return body.timed_out()
            return shielded(response, self.secret)
        try:
            async for chunk in response.aiter_bytes():
                if (refused := body.add(chunk)) is not None:
                    return refused
        finally:
            await response.aclose()
        return shielded(settled(response, body.content()), self.secret)

    def _gate(self) -> Any:
        """At most as many requests in flight as connections: httpcore's pool slows down
        quadratically with the requests queued on it (see the concurrency benchmark), so
        the queue is kept here instead."""
        import asyncio

        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(DEFAULT_MAX_CONNECTIONS)
        return gate


async def _within(sending: Awaitable[T], seconds: float) -> T:
    """`sending`, given at most `seconds` (up to the answer's headers); raises the
    builtin `TimeoutError` (asyncio's own before Python 3.11)."""
    import asyncio

    if sys.version_info >= (3, 11):
        # A timeout scope, not `wait_for`, which runs the send as a task of its own.
        async with asyncio.timeout(max(seconds, 0.001)):
            return await sending
    try:
        return await asyncio.wait_for(sending, max(seconds, 0.001))
    except asyncio.TimeoutError as exc:
        raise TimeoutError from exc


async def _closed_with_loop(http: httpx.AsyncClient) -> AsyncIterator[None]:
    """Closes `http` when its event loop shuts down its async generators, which
    `asyncio.run()` does before closing the loop, so no connection outlives it."""
    try:
        yield
    finally:
        await http.aclose()
