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


def provider_host(provider: str, bindings: str) -> Any:
    """A plugin host whose one plugin registers `provider` from the generated module
    `bindings` (what a spec-only third-party plugin does), and nothing else."""
    import types
    from collections.abc import Callable

    from py302 import PluginHost, Provider, hookimpl

    @hookimpl
    def py302_register_providers(register: Callable[[Provider], None]) -> None:
        register(Provider(name=provider, bindings=bindings))

    plugin = types.ModuleType(f"{provider}_plugin")
    plugin.py302_register_providers = py302_register_providers  # type: ignore[attr-defined]
    return PluginHost(builtins=False, entry_points=False, plugins=[(provider, plugin)])
