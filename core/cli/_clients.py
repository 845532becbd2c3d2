"""Which API the command line talks to, and with what key."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from py302._client import Client
from py302._constants import API_KEY_ENV_VARS, BASE_URL_ENV_VAR
from py302._errors import ConfigurationError
from py302._journal import Journal

from ._output import note

__all__ = ["LOCAL_KEY", "cli_client", "is_local"]

#: The key sent to a sandbox on this machine, which checks only that there is one.
LOCAL_KEY = "sandbox-local-key"


def is_local(base_url: str) -> bool:
    """Whether `base_url` is on this machine (a sandbox)."""
    return (urlsplit(base_url).hostname or "") in {"127.0.0.1", "localhost", "::1"}


def _same(url: str, configured: str | None) -> bool:
    return configured is not None and url.rstrip("/") == configured.rstrip("/")


def _configured_key() -> str | None:
    return next(
        (os.environ[name] for name in API_KEY_ENV_VARS if os.environ.get(name, "").strip()), None
    )


@contextmanager
def cli_client(
    *, base_url: str | None = None, journal: Journal | None = None, upload_files: bool = False
) -> Iterator[Client]:
    """A client for a command: the real API with a key, else the built-in sandbox.

    `base_url` (a journal row's, say) or AI302_BASE_URL wins; a local base URL needs
    no key. Without key or base URL, a sandbox is started for the command's duration.
    `upload_files`: see `Client(upload_files=...)`.
    """
    key = _configured_key()
    configured = os.environ.get(BASE_URL_ENV_VAR)
    url = base_url or configured
    journal = journal or Journal()
    if url:
        if key is None and not is_local(url):
            raise ConfigurationError(f"no API key for {url}: set AI302_API_KEY")
        if is_local(url) and not _same(url, configured):
            # A journal row of a sandbox that ran on this machine (the temporary one
            # `py302 run` starts without a key, say): whatever listens on that port now
            # is not that sandbox, must not receive the key, nor be taken for a result.
            raise ConfigurationError(
                f"this task was submitted to a sandbox at {url}, which is not your "
                f"{BASE_URL_ENV_VAR}; if that sandbox still runs, set {BASE_URL_ENV_VAR}={url}. "
                "Tasks of the temporary sandbox `py302 run` starts without a key end with it"
            )
        with Client(
            api_key=key or LOCAL_KEY, base_url=url, journal=journal, upload_files=upload_files
        ) as client:
            yield client
        return
    if key is not None:
        with Client(api_key=key, journal=journal, upload_files=upload_files) as client:
            yield client
        return
    try:
        from py302.sandbox import Sandbox
    except ImportError as exc:
        raise ConfigurationError(
            "no API key, and the sandbox is not installed: set AI302_API_KEY, "
            "or pip install 'py302[sandbox]'"
        ) from exc
    with Sandbox() as sandbox:
        note(f"No API key set (AI302_API_KEY): using the built-in sandbox at {sandbox.base_url}.")
        with Client(
            api_key=LOCAL_KEY,
            base_url=sandbox.base_url,
            journal=journal,
            upload_files=upload_files,
        ) as client:
            yield client
