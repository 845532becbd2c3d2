"""`py302 record CASSETTE PROVIDER.OPERATION ...`: real traffic, safe to commit."""

from __future__ import annotations

from pathlib import Path

import click

from ._output import note

__all__ = ["record"]


@click.command(
    "record",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("cassette", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("run_args", nargs=-1, required=True, type=click.UNPROCESSED)
def record(cassette: Path, run_args: tuple[str, ...]) -> None:
    """Run `py302 run RUN_ARGS...` against the API and record it into CASSETTE.

    \b
        py302 record cassettes/poll.yaml PROVIDER.OPERATION --id 5015d102

    Needs a real key in AI302_API_KEY (and the `testing` extra). Keys, cookies,
    signed-URL parameters and secret-looking fields are replaced by REDACTED;
    images and other binary bodies by their sha256 and size; repeated identical
    polls are collapsed. The cassette is then ready for `py302 cassette check`,
    `py302 specs drift` and `py302 specs learn`, and replays without waiting.
    """
    from py302.cli import cli

    try:
        from py302.testing._recording import ambient_secrets, record_cassette
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"{exc.name} is missing; install the recorder: pip install 'py302[testing]'"
        ) from None
    secrets = ambient_secrets()
    if not secrets:
        raise click.ClickException(
            "py302 record records real traffic and needs a key: set AI302_API_KEY "
            "(it is scrubbed from the cassette)"
        )
    # A failing call (an error answer, say) is worth recording too: the cassette is
    # saved either way, and the error then ends the command as `run` would.
    recording = None
    try:
        with record_cassette(cassette, secrets=secrets) as recording:
            cli.main(args=["run", *run_args], prog_name="py302", standalone_mode=False)
    finally:
        if recording is not None and len(recording.data):
            note(f"recorded {len(recording.data)} interaction(s) into {cassette} (scrubbed)")
