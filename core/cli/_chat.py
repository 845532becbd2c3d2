"""`py302 chat MODEL PROMPT`: one question to a chat model, the answer printed as it comes.

Each chat format 302.AI speaks is a provider whose plugin says how one question is put
to it (`Provider.ask`, an `AskFormat`): `--format` picks one by its name. Each ends in
the same `Result` (text, reasoning, tool calls, usage), which `--json` prints.
"""

from __future__ import annotations

from typing import Any

import attrs
import click

from py302._plugins import AskFormat, default_host
from py302._results import Result

from ._clients import cli_client
from ._output import emit_json

__all__ = ["chat", "result_document"]


def ask_formats() -> dict[str, tuple[str, AskFormat]]:
    """Format name -> (provider, how to ask it), from the plugins that say so."""
    return {
        provider.ask.name: (provider.name, provider.ask)
        for provider in default_host().providers.values()
        if provider.ask is not None
    }


class _FormatChoice(click.Choice[str]):
    """The formats the installed plugins offer, read when the command runs."""

    def __init__(self) -> None:
        super().__init__([])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        self.choices = tuple(sorted(ask_formats()))
        return super().convert(value, param, ctx)


@click.command()
@click.argument("model")
@click.argument("prompt")
@click.option(
    "--format",
    "wire_format",
    type=_FormatChoice(),
    help="The request format, one the plugins offer (default: the one that reaches "
    "every model, chat completions).",
)
@click.option("--system", help="A system prompt.")
@click.option("--max-tokens", type=click.IntRange(min=1), help="The most tokens to answer with.")
@click.option("--no-stream", is_flag=True, help="Wait for the whole answer instead of streaming.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the final Result as JSON (nothing else)."
)
def chat(  # noqa: PLR0917 - click passes each option as an argument
    model: str,
    prompt: str,
    wire_format: str | None,
    system: str | None,
    max_tokens: int | None,
    no_stream: bool,
    as_json: bool,
) -> None:
    """Ask MODEL one question and print the answer as it arrives.

    Without AI302_API_KEY a local sandbox answers. Examples:

        py302 chat gpt-4o "Name three lighthouses"

        py302 chat gpt-4o "Name three lighthouses" --json
    """
    formats = ask_formats()
    if wire_format is None:
        preferred = [name for name, (_, asked) in formats.items() if asked.preferred]
        wire_format = (preferred or sorted(formats))[0]
    provider, asked = formats[wire_format]
    arguments = dict(asked.arguments(model, prompt, system, max_tokens))
    with cli_client() as client:
        namespace = client.provider(provider)
        if no_stream:
            result: Result[Any] = getattr(namespace, asked.operation)(**arguments)
            if not as_json:
                click.echo(result.text or "")
        else:
            if asked.streaming_operation is not None:
                stream = getattr(namespace, asked.streaming_operation)(**arguments)
            else:
                stream = getattr(namespace, asked.operation).stream(**arguments)
            with stream:
                for text in stream.text_stream:
                    if not as_json:
                        click.echo(text, nl=False)
                result = stream.result()
            if not as_json:
                click.echo()
    if as_json:
        emit_json(result_document(result))


def result_document(result: Result[Any]) -> dict[str, Any]:
    """A `Result` as JSON for scripts: what it said, reasoned, called and cost."""
    return {
        "operation": result.operation,
        "text": result.text,
        "reasoning": result.reasoning,
        "tool_calls": [
            {"id": call.id, "name": call.name, "arguments": call.arguments}
            for call in result.tool_calls
        ],
        "usage": attrs.asdict(result.usage) if result.usage is not None else None,
        "request_id": result.request_id,
    }
