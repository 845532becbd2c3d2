"""Carrying out flows: one small driver per I/O style.

A driver owns the httpx client and the sleep function of one `Client` or
`AsyncClient` and performs the steps of `py302._steps`. Transport errors
(and any other `httpx.RequestError`: a body that does not decode, say) are handed
back to the flow as outcomes, because only the flow knows whether they may be
retried; everything else about a call is decided in the flow. API requests never
follow a redirect (one could resend a paid submit, or the key, to another origin): a
3xx answer reaches the flow, which reports it. Stepping a flow
(`Stepper`) is shared, so each driver only says how it does each kind of I/O.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

import httpx

from ._constants import DEFAULT_MAX_CONNECTIONS
from ._steps import Close, Emit, Flow, Open, Read, Send, Sleep, Step

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

    def __init__(self, http: httpx.Client, sleep: Callable[[float], None]) -> None:
        self.http = http
        self.sleep = sleep
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
                response = self.http.send(step.request, follow_redirects=False)
                response.read()
                return response
            if isinstance(step, Open):
                return self.http.send(
                    _idle_bounded(step, self.http.timeout), stream=True, follow_redirects=False
                )
            if isinstance(step, Read) and step.whole:
                step.response.read()
                return step.response
            if isinstance(step, Read):
                chunks = _body(self._bodies, step.response, step.response.iter_bytes)
                return next(chunks, b"")
        except httpx.RequestError as exc:  # transport, decoding, redirects
            return exc
        if isinstance(step, Close):
            return step.response.close()
        if isinstance(step, Sleep):
            return self.sleep(step.seconds)
        raise TypeError(f"a flow emitted outside a stream: {step!r}")


class AsyncDriver:
    """Performs steps with an `httpx.AsyncClient` and an awaitable sleep."""

    def __init__(self, http: httpx.AsyncClient, sleep: Callable[[float], Awaitable[None]]) -> None:
        self.http = http
        self.sleep = sleep
        self._bodies: weakref.WeakKeyDictionary[httpx.Response, AsyncIterator[bytes]]
        self._bodies = weakref.WeakKeyDictionary()
        # One gate per event loop: a client may be used from several asyncio.run().
        self._gates: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

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
                    response = await self.http.send(step.request, follow_redirects=False)
                    await response.aread()
                return response
            if isinstance(step, Open):
                return await self.http.send(
                    _idle_bounded(step, self.http.timeout), stream=True, follow_redirects=False
                )
            if isinstance(step, Read) and step.whole:
                await step.response.aread()
                return step.response
            if isinstance(step, Read):
                chunks = _body(self._bodies, step.response, step.response.aiter_bytes)
                return await anext(chunks, b"")
        except httpx.RequestError as exc:  # transport, decoding, redirects
            return exc
        if isinstance(step, Close):
            return await step.response.aclose()
        if isinstance(step, Sleep):
            return await self.sleep(step.seconds)
        raise TypeError(f"a flow emitted outside a stream: {step!r}")

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
