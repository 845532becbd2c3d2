"""OpenAI-format chat on 302.AI: folding a stream of chunks back into one completion.

Everything else about `client.chat` is declared in specs/chat.yaml (the stream flag,
the end marker, where the text and the usage are). What data cannot say is how
`chat.completion.chunk` events add up to the `chat.completion` the same request
answers without streaming: deltas of content, refusal and reasoning text are joined,
an audio reply's data and transcript too, tool calls are assembled per index from
their id, name and argument fragments, and the last finish reason, logprobs and usage
win.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from py302 import AskFormat, Provider, hookimpl

PY302_PLUGIN_API = 2
PROVIDER = "chat"
_TOP_LEVEL_SKIPPED = frozenset({"choices", "usage", "object"})
#: Delta fields whose pieces are joined: the reply, a refusal, and 302's reasoning text.
_JOINED = frozenset({"content", "refusal", "reasoning_content"})


class ChatCompletionAccumulator:
    """Folds `chat.completion.chunk` data into a `chat.completion` body."""

    def __init__(self) -> None:
        self._top: dict[str, Any] = {}
        self._choices: dict[int, dict[str, Any]] = {}
        self._usage: Any = None

    def add(self, event: Any) -> None:
        """Take one chunk."""
        if not isinstance(event, Mapping):
            return
        for key, value in event.items():
            if key not in _TOP_LEVEL_SKIPPED and (value is not None or key not in self._top):
                self._top[key] = value
        if event.get("usage") is not None:
            self._usage = event["usage"]
        for choice in event.get("choices") or ():
            if isinstance(choice, Mapping):
                self._add_choice(choice)

    def _add_choice(self, chunk: Mapping[str, Any]) -> None:
        index = int(chunk.get("index", 0))
        choice = self._choices.setdefault(index, {"index": index, "message": {}})
        for key in ("finish_reason", "logprobs"):
            if key in chunk and (chunk[key] is not None or key not in choice):
                choice[key] = chunk[key]
        delta = chunk.get("delta")
        if not isinstance(delta, Mapping):
            return
        message = choice["message"]
        for key, value in delta.items():
            if key == "tool_calls":
                _add_tool_calls(message.setdefault("tool_calls", {}), value)
            elif key in _JOINED and isinstance(value, str):
                message[key] = (message.get(key) or "") + value
            elif key == "audio" and isinstance(value, Mapping):
                _add_audio(message.setdefault("audio", {}), value)
            elif value is not None or key not in message:
                message.setdefault(key, value)

    def body(self) -> dict[str, Any]:
        """The completion the chunks so far add up to."""
        body: dict[str, Any] = {**self._top, "object": "chat.completion"}
        choices = []
        for index in sorted(self._choices):
            choice = dict(self._choices[index])
            message = dict(choice["message"])
            if "tool_calls" in message:
                calls = message["tool_calls"]
                message["tool_calls"] = [calls[i] for i in sorted(calls)]
            choice["message"] = message
            choices.append(choice)
        body["choices"] = choices
        if self._usage is not None:
            body["usage"] = self._usage
        return body


def _add_audio(audio: dict[str, Any], delta: Mapping[str, Any]) -> None:
    """An audio reply arrives in pieces: base64 `data` and the `transcript` are joined,
    `id` and `expires_at` are kept from wherever they come."""
    for key, value in delta.items():
        if key in {"data", "transcript"} and isinstance(value, str):
            audio[key] = audio.get(key, "") + value
        elif value is not None:
            audio[key] = value


def _add_tool_calls(calls: dict[int, dict[str, Any]], deltas: Any) -> None:
    for delta in deltas or ():
        if not isinstance(delta, Mapping):
            continue
        call = calls.setdefault(int(delta.get("index", len(calls))), {})
        for key in ("id", "type"):
            if delta.get(key) is not None:
                call[key] = delta[key]
        function = delta.get("function")
        if isinstance(function, Mapping):
            target = call.setdefault("function", {"name": "", "arguments": ""})
            for key in ("name", "arguments"):
                if isinstance(function.get(key), str):
                    target[key] += function[key]


@hookimpl
def py302_register_providers(register: Callable[[Provider], None]) -> None:
    """OpenAI-format chat is generated from specs/chat.yaml; its chunk accumulator."""
    register(
        Provider(
            name=PROVIDER,
            bindings="py302.generated.chat",
            title="OpenAI-format chat (302.AI)",
            accumulators={"openai.chat": ChatCompletionAccumulator},
            ask=AskFormat(
                name="openai", operation="completions", arguments=_question, preferred=True
            ),
        )
    )


def _question(
    model: str, prompt: str, system: str | None, max_tokens: int | None
) -> dict[str, Any]:
    """A system message if given, then the user's."""
    messages = [{"role": "system", "content": system}] if system else []
    return {
        "model": model,
        "messages": [*messages, {"role": "user", "content": prompt}],
        **({"max_tokens": max_tokens} if max_tokens else {}),
    }
