"""`py302 sandbox serve`: the local stand-in API on a port."""

from __future__ import annotations

import click

from ._output import note

__all__ = ["sandbox"]


@click.group()
def sandbox() -> None:
    """The built-in sandbox: the 302.AI API, answered locally from the specs."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8302, show_default=True, help="Port to listen on.")
@click.option(
    "--task-seconds",
    type=float,
    default=3.0,
    show_default=True,
    help="How long each task runs before it finishes.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="ROUTE:KIND[,key=value...]",
    help="Inject a fault, e.g. PROVIDER.OPERATION:status,status=429,retry_after=2,times=1 "
    "(kinds: latency, status, html, reset, truncate, malformed, task_fails, "
    "task_never_finishes, poll_not_found).",
)
@click.option(
    "--hints", is_flag=True, help="Send Retry-After with the time a running task has left."
)
@click.option(
    "--image-px",
    type=int,
    default=256,
    show_default=True,
    help="Side of the images it serves (large ones are noise, as big as photographs).",
)
@click.option(
    "--reply-words",
    type=click.IntRange(min=1),
    default=None,
    help="Make every chat reply this many words long (a stream of as many text chunks).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes answering on the port, sharing their tasks (for load tests; without --fault).",
)
def serve(  # noqa: PLR0917 - click passes the options by keyword
    host: str,
    port: int,
    task_seconds: float,
    faults: tuple[str, ...],
    hints: bool,
    image_px: int,
    reply_words: int | None,
    workers: int,
) -> None:
    """Serve every operation in the specs until interrupted. Point clients at it with
    AI302_BASE_URL=http://HOST:PORT (no key needed)."""
    try:
        from py302.sandbox import Sandbox, parse_fault
    except ImportError as exc:
        raise click.ClickException(
            "the sandbox needs its extra: pip install 'py302[sandbox]'"
        ) from exc
    if faults and workers > 1:
        raise click.UsageError(
            "--fault needs --workers 1: each worker process would count a fault's times on its own"
        )
    try:
        parsed = [parse_fault(text) for text in faults]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from exc

    def ready(url: str) -> None:
        shown = f" ({workers} worker processes)" if workers > 1 else ""
        note(f"py302 sandbox on {url}{shown} (Ctrl-C to stop)")

    try:
        if workers > 1:
            from py302.sandbox._workers import serve_workers

            serve_workers(
                host=host,
                port=port,
                workers=workers,
                task_seconds=task_seconds,
                hints=hints,
                image_px=image_px,
                reply_words=reply_words,
                ready=ready,
            )
            return
        server = Sandbox(
            host=host,
            port=port,
            task_seconds=task_seconds,
            faults=parsed,
            hints=hints,
            image_px=image_px,
            reply_words=reply_words,
        )
        server.serve_forever(ready=ready)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another --port "
            "(0 picks a free one)"
        ) from exc
