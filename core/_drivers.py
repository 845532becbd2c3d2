"""Carrying out flows: one small driver per I/O style.

A driver owns the httpx client and the sleep function of one `Client` or
`AsyncClient` and performs the steps of `py302._steps`. Transport errors are handed
back to the flow as outcomes, because only the flow knows whether they may be
retried; everything else about a call is decided in the flow.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx

from ._constants import DEFAULT_MAX_CONNECTIONS
from ._steps import Close, Emit, Flow, Open, Read, Sleep, Step

__all__ = ["AsyncDriver", "SyncDriver"]

T = TypeVar("T")


def _idle_bounded(request: httpx.Request, idle: float, timeout: httpx.Timeout) -> httpx.Request:
    """`request` with its read timeout (the longest silence between two chunks) set."""
    request.extensions = {**request.extensions, "timeout": {**timeout.as_dict(), "read": idle}}
    return request


class SyncDriver:
    """Performs steps with an `httpx.Client` and a blocking sleep."""

    def __init__(self, http: httpx.Client, sleep: Callable[[float], None]) -> None:
        self.http = http
        self.sleep = sleep
        self._bodies: weakref.WeakKeyDictionary[httpx.Response, Iterator[bytes]]
        self._bodies = weakref.WeakKeyDictionary()

    def run(self, flow: Flow[T]) -> T:
        """Drive `flow` to its end and return what it returns."""
        outcome: Any = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            outcome = self.perform(step)

    def events(self, flow: Flow[Any]) -> Iterator[Any]:
        """Drive a stream flow, yielding the value of each `Emit` as it comes."""
        outcome: Any = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration:
                return
            if isinstance(step, Emit):
                yield step.value
            outcome = None if isinstance(step, Emit) else self.perform(step)

    def perform(self, step: Step | Emit) -> Any:
        """Carry out one step; a transport error is returned, not raised."""
        if isinstance(step, Emit):
            raise TypeError("a flow emitted outside a stream")
        if isinstance(step, Sleep):
            return self.sleep(step.seconds)
        if isinstance(step, Close):
            return step.response.close()
        try:
            if isinstance(step, Read) and step.whole:
                step.response.read()
                return step.response
            if isinstance(step, Read):
                return next(self._body(step.response), b"")
            if isinstance(step, Open):
                request = _idle_bounded(step.request, step.idle_timeout, self.http.timeout)
                return self.http.send(request, stream=True)
            response = self.http.send(step.request)
            response.read()
            return response
        except httpx.TransportError as exc:
            return exc

    def _body(self, response: httpx.Response) -> Iterator[bytes]:
        chunks = self._bodies.get(response)
        if chunks is None:
            chunks = self._bodies[response] = response.iter_bytes()
        return chunks


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
        outcome: Any = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            outcome = await self.perform(step)

    async def events(self, flow: Flow[Any]) -> AsyncIterator[Any]:
        """Drive a stream flow, yielding the value of each `Emit` as it comes."""
        outcome: Any = None
        while True:
            try:
                step = flow.send(outcome)
            except StopIteration:
                return
            if isinstance(step, Emit):
                yield step.value
            outcome = None if isinstance(step, Emit) else await self.perform(step)

    async def perform(self, step: Step | Emit) -> Any:
        """Carry out one step; a transport error is returned, not raised."""
        if isinstance(step, Emit):
            raise TypeError("a flow emitted outside a stream")
        if isinstance(step, Sleep):
            return await self.sleep(step.seconds)
        if isinstance(step, Close):
            return await step.response.aclose()
        try:
            if isinstance(step, Read) and step.whole:
                await step.response.aread()
                return step.response
            if isinstance(step, Read):
                return await anext(self._body(step.response), b"")
            if isinstance(step, Open):
                request = _idle_bounded(step.request, step.idle_timeout, self.http.timeout)
                return await self.http.send(request, stream=True)
            async with self._gate():
                response = await self.http.send(step.request)
                await response.aread()
            return response
        except httpx.TransportError as exc:
            return exc

    def _body(self, response: httpx.Response) -> AsyncIterator[bytes]:
        chunks = self._bodies.get(response)
        if chunks is None:
            chunks = self._bodies[response] = response.aiter_bytes()
        return chunks

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
