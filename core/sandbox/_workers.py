"""The sandbox as several worker processes on one port (`py302 sandbox serve
--workers N`), for load that one Python process cannot answer fast enough.

The workers share the listening socket (the parent binds it, uvicorn's supervisor
starts the processes and restarts one that dies) and their tasks, through an SQLite
file in a temporary folder (`SharedTaskStore`): a poll finds its task whichever worker
took the submit. Result files need nothing shared, since their names say what to
draw. Faults are not offered here: each worker would count a fault's `times` apart.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from ._app import SandboxApp
from ._faults import FaultPlan
from ._server import KEEP_ALIVE_SECONDS, listening_socket
from ._tasks import SharedTaskStore

__all__ = ["WORKER_HEADER", "WorkerSettings", "serve_workers", "worker_app"]

#: The environment variable that hands the settings to each worker process.
_SETTINGS_VARIABLE = "PY302_SANDBOX_WORKER_SETTINGS"
#: The answer header naming the process that answered (what tests check spreading by).
WORKER_HEADER = "x-py302-sandbox-worker"


@attrs.frozen(kw_only=True)
class WorkerSettings:
    """What every worker is started with."""

    tasks_db: str
    task_seconds: float
    hints: bool
    image_px: int
    reply_words: int | None


def worker_app() -> Any:
    """The ASGI app of one worker (uvicorn calls this in each process it starts)."""
    from py302.contracts import default_registries

    _end_with_parent()
    settings = WorkerSettings(**json.loads(os.environ[_SETTINGS_VARIABLE]))
    state = SandboxApp(
        default_registries(),
        tasks=SharedTaskStore(Path(settings.tasks_db), time.monotonic),
        faults=FaultPlan(()),
        task_seconds=settings.task_seconds,
        hints=settings.hints,
        image_px=settings.image_px,
        reply_words=settings.reply_words,
    )
    return _named(state.app, str(os.getpid()).encode())


def _end_with_parent() -> None:
    """Have the kernel stop this worker when the process that started it dies, however
    it dies (its supervisor stops the workers on SIGINT and SIGTERM, but a SIGKILL
    leaves them running, holding the port). Linux only; elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    set_parent_death_signal = 1  # PR_SET_PDEATHSIG, from <linux/prctl.h>
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(set_parent_death_signal, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def _named(app: Any, worker: bytes) -> Any:
    """`app`, every answer's headers naming this worker process."""

    async def named(scope: Any, receive: Any, send: Any) -> None:
        async def send_named(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message["headers"], (WORKER_HEADER.encode(), worker)],
                }
            await send(message)

        await app(scope, receive, send_named)

    return named


def serve_workers(
    *,
    host: str,
    port: int,
    workers: int,
    task_seconds: float,
    hints: bool,
    image_px: int,
    reply_words: int | None = None,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve with `workers` processes until interrupted; `ready` is told the address
    once the port is bound (an `OSError` before that if it is taken)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    listener = listening_socket(host, port)
    with tempfile.TemporaryDirectory(prefix="py302-sandbox-") as folder:
        settings = WorkerSettings(
            tasks_db=str(Path(folder) / "tasks.sqlite"),
            task_seconds=task_seconds,
            hints=hints,
            image_px=image_px,
            reply_words=reply_words,
        )
        SharedTaskStore(Path(settings.tasks_db), time.monotonic)  # the schema, made once
        os.environ[_SETTINGS_VARIABLE] = json.dumps(attrs.asdict(settings))
        if ready is not None:
            ready(f"http://{host}:{listener.getsockname()[1]}")
        config = uvicorn.Config(
            f"{__name__}:worker_app",
            factory=True,
            workers=workers,
            log_level="warning",
            lifespan="off",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            access_log=False,
        )
        Multiprocess(config, sockets=[listener]).run()
