"""Hostile servers of our own on 127.0.0.1: each answers from a small function.

`HostileServer(answer)` serves in a thread until closed, records every request
(method, path, headers, body) and answers with `answer(request) -> (status, headers,
body)`. A body is bytes, or an iterator of chunks written one by one (a trickle, an
endless body: the answer then has no length and ends when the connection closes).
Status `RAW` sends the chunks as they are, status line and headers included (to
trickle the headers themselves). The server stops writing once the client hangs up,
so tests stay bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.frozen
class Seen:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = Callable[[Seen], tuple[int, dict[str, str], bytes | Iterable[bytes]]]
#: The status of an answer whose chunks are written raw: status line, headers, body.
RAW = 0


class HostileServer:
    """A loopback HTTP server answering every request through one function."""

    def __init__(self, answer: Answer) -> None:
        self.seen: list[Seen] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                seen = Seen(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                owner.seen.append(seen)
                status, headers, body = answer(seen)
                if status == RAW:
                    self._write(body)
                    self.close_connection = True
                    return
                self.send_response(status)
                if isinstance(body, bytes):
                    headers = {"content-length": str(len(body)), **headers}
                else:
                    headers = {"connection": "close", **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self._write(body)
                if not isinstance(body, bytes):
                    self.close_connection = True

            def _write(self, body: bytes | Iterable[bytes]) -> None:
                try:
                    for chunk in [body] if isinstance(body, bytes) else body:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up, as it should on a hostile answer

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def hostile(answer: Answer) -> Iterator[HostileServer]:
    """A `HostileServer` for the length of a `with` block."""
    server = HostileServer(answer)
    try:
        yield server
    finally:
        server.close()


def json_answer(status: int, body: bytes, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """An answer with a JSON content type."""
    return status, {"content-type": "application/json", **headers}, body


def header_auth_host(header: str) -> Any:
    """A plugin host whose flux provider sends the key in `header` (as a plugin's
    `auth_headers` hook does: `x-api-key`, `mj-api-secret`) instead of Bearer."""
    from py302 import PluginHost, Provider, hookimpl

    class HeaderAuth:
        @hookimpl
        def py302_register_providers(self, register: Callable[[Provider], None]) -> None:
            register(
                Provider(
                    name="flux",
                    bindings="py302.generated.flux",
                    auth_headers=lambda key: {header: key},
                )
            )

    return PluginHost(entry_points=False, disabled=["flux"], plugins=[("auth", HeaderAuth())])
