"""Saving recorded traffic so that it is safe to commit and quick to replay.

Every cassette py302 records goes through `save_recording`, whatever the caller
configured: secrets and signed URLs are scrubbed (`py302.contracts._scrub`), binary
bodies are replaced by their hash and size, runs of identical polls are collapsed to
one per state, and a `provenance` block says that this is recorded traffic, from where
and when. The file is written to a temporary name and renamed, so a failed save never
replaces a good cassette.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from py302._constants import API_KEY_ENV_VARS
from py302._downloads import atomic_write
from py302._version import __version__
from py302.contracts import collapse_polls, dump_cassette, scrub_interactions

__all__ = ["ambient_secrets", "make_persister", "record_cassette", "save_recording"]


def ambient_secrets() -> list[str]:
    """The API keys in the environment, to be scrubbed wherever they appear."""
    return [value for name in API_KEY_ENV_VARS if (value := os.environ.get(name, "").strip())]


def save_recording(
    path: Path, interactions: list[dict[str, Any]], *, secrets: Iterable[str] = ()
) -> dict[str, Any]:
    """Scrub, collapse and atomically write `interactions` as the cassette at `path`."""
    cleaned = collapse_polls(scrub_interactions(interactions, secrets=secrets))
    hosts = sorted(
        {
            f"{parts.scheme}://{parts.netloc}"
            for item in cleaned
            if (parts := urlsplit(str(item["request"]["uri"]))).netloc
        }
    )
    data = {
        "provenance": {
            "recorded": True,
            "recorded_at": datetime.datetime.now(datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "hosts": hosts,
            "tool": f"py302 {__version__}",
            "summary": (
                "Recorded traffic. Credentials and signed-URL parameters are replaced by "
                "REDACTED, binary bodies by their sha256 and size, and repeated identical "
                "polls are collapsed to one per state."
            ),
            "interactions_recorded": len(interactions),
        },
        "interactions": cleaned,
        "version": 1,
    }
    text = dump_cassette(data)
    atomic_write(path, [text.encode("utf-8")], overwrite=True)  # re-recording replaces
    return data


def _interactions(cassette_dict: Mapping[str, Any]) -> list[dict[str, Any]]:
    from vcr.serializers import compat

    return [
        {
            "request": compat.convert_to_unicode(request._to_dict()),
            "response": compat.convert_to_unicode(response),
        }
        for request, response in zip(
            cassette_dict["requests"], cassette_dict["responses"], strict=True
        )
    ]


def make_persister(
    previous: Any, secrets: Iterable[str] = (), failures: list[Exception] | None = None
) -> type:
    """A vcrpy persister that loads as `previous` does and saves through `save_recording`.

    With `failures`, a save that fails is appended there instead of raised: vcrpy saves
    before it removes its patches, so an error raised from here would leave HTTP patched
    to the dead cassette. The caller raises it once the cassette is closed.
    """
    kept = tuple(secrets)

    class ScrubbingPersister:
        """Loads cassettes unchanged; saves them scrubbed, collapsed and atomically."""

        @staticmethod
        def load_cassette(cassette_path: Any, serializer: Any) -> Any:
            return previous.load_cassette(cassette_path, serializer=serializer)

        @staticmethod
        def save_cassette(cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
            try:
                save_recording(
                    Path(cassette_path),
                    _interactions(cassette_dict),
                    secrets=(*kept, *ambient_secrets()),
                )
            except Exception as exc:
                if failures is None:
                    raise
                failures.append(exc)

    return ScrubbingPersister


def configure_vcr(
    vcr: Any, secrets: Iterable[str] = (), failures: list[Exception] | None = None
) -> None:
    """Make a vcrpy `VCR` save through py302's scrubbing persister (see `make_persister`
    for `failures`)."""
    vcr.register_persister(make_persister(vcr.persister, secrets, failures))
    vcr.decode_compressed_response = True


@contextlib.contextmanager
def record_cassette(path: Path, *, secrets: Iterable[str] = ()) -> Iterator[Any]:
    """Record every HTTP exchange made inside the block into the cassette at `path`
    (replacing it), scrubbed as described in this module."""
    import vcr as vcrpy

    recorder = vcrpy.VCR(record_mode="all")
    failures: list[Exception] = []
    configure_vcr(recorder, secrets, failures)
    try:
        with recorder.use_cassette(str(path)) as cassette:
            yield cassette
    finally:
        if failures:  # reported even when the block failed too (that error is its context)
            raise failures[0]
