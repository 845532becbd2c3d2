"""What every flow of one client needs to know: configuration and the providers.

A `Context` is built once per client and shared by every call it makes. It holds no
connection and does no I/O; the flows read it, the drivers never do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from ._plugins import PluginHost, Provider
from ._registry import ProviderRegistry, load_registry
from ._secret import Secret

if TYPE_CHECKING:
    from ._observers import TaskObserver
    from ._results import Downloader
    from .binding import Namespace

__all__ = ["Context"]


@attrs.define(kw_only=True, eq=False)
class Context:
    """A client's configuration, its plugin host, and who watches its tasks.

    `idle_timeout` bounds the silence between two chunks of a stream;
    `stream_timeout` the whole of one stream.
    """

    base_url: str
    api_key: Secret | None
    max_retries: int
    host: PluginHost
    downloader: Downloader
    idle_timeout: float
    stream_timeout: float
    upload_files: bool = False
    """Whether a local file given for a field that takes a URL is uploaded to 302's
    file host (public, billed) instead of refused."""
    observers: list[TaskObserver] = attrs.field(factory=list)
    clock: Callable[[], float] = time.monotonic

    def registry_of(self, namespace: type[Namespace[Any]] | str) -> ProviderRegistry:
        """The registry of a namespace class, or of a provider registered by name."""
        if isinstance(namespace, str):
            return load_registry(self.host.provider(namespace).bindings)
        return load_registry(namespace.bindings)

    def provider(self, name: str) -> Provider:
        """What the plugin of provider `name` supplies (nothing, for a spec-only one)."""
        return self.host.provider(name)
