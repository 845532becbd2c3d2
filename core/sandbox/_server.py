"""Running the sandbox: on a port for `py302 sandbox serve`, or in a thread for tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType

from py302._registry import ProviderRegistry

from ._app import SandboxApp
from ._faults import Fault, FaultPlan
from ._tasks import TaskStore

__all__ = ["DEFAULT_TASK_SECONDS", "KEEP_ALIVE_SECONDS", "Sandbox", "listening_socket"]

DEFAULT_TASK_SECONDS = 3.0
#: How long an idle connection stays open: longer than clients keep one (httpx: 5 s),
#: so a client never sends on a connection the sandbox is closing at that moment (a
#: POST that meets a closing connection is not resent: it may have been received).
KEEP_ALIVE_SECONDS = 30


class Sandbox:
    """A sandbox server on loopback, started by `with Sandbox() as sandbox:`.

    `sandbox.base_url` is what to point a client at; `sandbox.faults` takes new faults
    while it runs; `clock` (seconds, monotonic) decides when tasks finish, so a test
    can drive time by hand. `port=0` picks a free port. `hints` makes running tasks
    answer with `Retry-After` set to the time they have left. `reply_words` sets the
    length of chat replies (by default the prompt's first words, after a preamble), so
    that a stream has that many text chunks.
    """

    def __init__(
        self,
        *,
        registries: Sequence[ProviderRegistry] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        task_seconds: float = DEFAULT_TASK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        faults: Iterable[Fault] = (),
        hints: bool = False,
        image_px: int = 256,
        reply_words: int | None = None,
    ) -> None:
        if registries is None:
            from py302.contracts import default_registries

            registries = default_registries()
        self.faults = FaultPlan(faults)
        self.tasks = TaskStore(clock)
        self.state = SandboxApp(
            registries,
            tasks=self.tasks,
            faults=self.faults,
            task_seconds=task_seconds,
            hints=hints,
            image_px=image_px,
            reply_words=reply_words,
        )
        self.host = host
        self.port = port
        self._server: object | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL to give a client (`Client(base_url=sandbox.base_url)`)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> Sandbox:
        """Serve in a background thread; returns once the port accepts connections."""
        import uvicorn

        config = uvicorn.Config(
            self.state.app,
            host=self.host,
            port=self.port,
            log_level="critical",
            lifespan="off",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            access_log=False,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, name="py302-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        if self._server is not None:
            self._server.should_exit = True  # type: ignore[attr-defined]
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def serve_forever(self, ready: Callable[[str], None] | None = None) -> None:
        """Serve in this thread until interrupted (what `py302 sandbox serve` does).

        The port is bound first, so `ready` is told the real address (port 0 picks a
        free one) and a port in use is an `OSError` before anything is announced.
        """
        import uvicorn

        listener = listening_socket(self.host, self.port)
        self.port = int(listener.getsockname()[1])
        if ready is not None:
            ready(self.base_url)
        config = uvicorn.Config(
            self.state.app,
            log_level="warning",
            lifespan="off",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        uvicorn.Server(config).run(sockets=[listener])


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to `host:port` and listening (port 0 picks a free one); an
    `OSError` if the port is taken."""
    # IPPROTO_TCP named outright: asyncio turns Nagle off (TCP_NODELAY) only on
    # sockets whose protocol says TCP, and accepted sockets inherit ours; with
    # protocol 0 every keep-alive answer waited 40 ms for a delayed ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(1024)  # connections wait in the backlog until uvicorn accepts
    except OSError:
        listener.close()
        raise
    return listener
