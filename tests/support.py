"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from py302._registry import ProviderRegistry

TEST_KEY = "test-key-0000-not-a-real-key"


def no_sleep(seconds: float) -> None:
    """Replayed polls and retries take no time."""


async def no_sleep_async(seconds: float) -> None:
    """Replayed polls and retries take no time (async)."""


def start_sandbox_process(*extra: str) -> tuple[Any, str]:
    """`py302 sandbox serve` in a process of its own (a fair load test, or one that
    must outlive a killed client); returns (process, base URL)."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen(
        [sys.executable, "-m", "py302", "sandbox", "serve", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("the sandbox server did not start") from None
            time.sleep(0.05)


def project_registries() -> list[ProviderRegistry]:
    """The registries of this repository's own providers (not of installed plugins,
    such as the example plugin, which its own tests cover)."""
    from py302._registry import load_registry
    from py302.generated import PROVIDER_MODULES

    return [load_registry(module) for _, module in sorted(PROVIDER_MODULES.items())]
