"""`py302 chat MODEL PROMPT`: one question to a chat model, the answer printed as it comes.

The same question can go out in each of the formats 302.AI speaks (`--format`):
OpenAI's chat completions, Claude's messages, Gemini's generateContent. Each ends in
the same `Result` (text, reasoning, tool calls, usage), which `--json` prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import click

from py302._results import Result

from ._clients import cli_client
from ._output import emit_json

__all__ = ["chat"]


@attrs.frozen(kw_only=True)
class ChatFormat:
    """Where a format's operation is and how one question is put to it."""

    provider: str
    operation: str
    #: An operation that always streams, where the format has one (Gemini's
    #: streamGenerateContent); else the operation's own `.stream(...)` form.
    streaming_operation: str | None
    arguments: Callable[[str, str, str | None, int | None], dict[str, Any]]


def _openai(model: str, prompt: str, system: str | None, max_tokens: int | None) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}] if system else []
    return {
        "model": model,
        "messages": [*messages, {"role": "user", "content": prompt}],
        **({"max_tokens": max_tokens} if max_tokens else {}),
    }


def _claude(model: str, prompt: str, system: str | None, max_tokens: int | None) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": max_tokens or 1024,  # Claude requires it
        "messages": [{"role": "user", "content": prompt}],
        **({"system": system} if system else {}),
    }


def _gemini(model: str, prompt: str, system: str | None, max_tokens: int | None) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "model": model,
        "contents": [{"role": "user", "parts": [{"text": prompt}]}],
    }
    if system:
        arguments["system_instruction"] = {"parts": [{"text": system}]}
    if max_tokens:
        arguments["generation_config"] = {"maxOutputTokens": max_tokens}
    return arguments


FORMATS = {
    "openai": ChatFormat(
        provider="chat", operation="completions", streaming_operation=None, arguments=_openai
    ),
    "claude": ChatFormat(
        provider="claude", operation="messages", streaming_operation=None, arguments=_claude
    ),
    "gemini": ChatFormat(
        provider="gemini",
        operation="generate_content",
        streaming_operation="stream_generate_content",
        arguments=_gemini,
    ),
}


@click.command()
@click.argument("model")
@click.argument("prompt")
@click.option(
    "--format",
    "wire_format",
    type=click.Choice(sorted(FORMATS)),
    default="openai",
    show_default=True,
    help="The request format: OpenAI chat completions, Claude messages or Gemini.",
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
    wire_format: str,
    system: str | None,
    max_tokens: int | None,
    no_stream: bool,
    as_json: bool,
) -> None:
    """Ask MODEL one question and print the answer as it arrives.

    Without AI302_API_KEY a local sandbox answers. Examples:

        py302 chat gpt-4o "Name three lighthouses"

        py302 chat claude-sonnet-4-20250514 "Hello" --format claude --json
    """
    chosen = FORMATS[wire_format]
    arguments = chosen.arguments(model, prompt, system, max_tokens)
    with cli_client() as client:
        namespace = client.provider(chosen.provider)
        if no_stream:
            result: Result[Any] = getattr(namespace, chosen.operation)(**arguments)
            if not as_json:
                click.echo(result.text or "")
        else:
            if chosen.streaming_operation is not None:
                stream = getattr(namespace, chosen.streaming_operation)(**arguments)
            else:
                stream = getattr(namespace, chosen.operation).stream(**arguments)
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
