"""Gemini's native format on 302.AI: folding a stream of chunks back into one reply.

Everything else about `client.gemini` is declared in specs/gemini.yaml (the paths, the
`alt=sse` framing, where the text, thoughts, function calls, inline images and usage
are). What data cannot say is how the partial `GenerateContentResponse` events of
`:streamGenerateContent` add up to the one `:generateContent` answers: per candidate,
consecutive text parts of the same kind (thought or answer) are joined, every other
part (inlineData, functionCall, ...) is appended as it came, the last finishReason and
safety ratings win, and the usage is the last chunk's that carries one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from py302 import AskFormat, Provider, hookimpl

PY302_PLUGIN_API = 2
PROVIDER = "gemini"
_TOP_LEVEL_SKIPPED = frozenset({"candidates", "usageMetadata"})
# A text part is joined to the one before only when it holds no data of another kind.
_TEXT_KEYS = frozenset({"text", "thought", "thoughtSignature"})


class GenerateContentAccumulator:
    """Folds `GenerateContentResponse` chunks into the whole `GenerateContentResponse`."""

    def __init__(self) -> None:
        self._top: dict[str, Any] = {}
        self._candidates: dict[int, dict[str, Any]] = {}
        self._usage: Any = None

    def add(self, event: Any) -> None:
        """Take one chunk."""
        if not isinstance(event, Mapping):
            return
        for key, value in event.items():
            if key not in _TOP_LEVEL_SKIPPED and (value is not None or key not in self._top):
                self._top[key] = value
        if event.get("usageMetadata") is not None:
            self._usage = event["usageMetadata"]
        for candidate in event.get("candidates") or ():
            if isinstance(candidate, Mapping):
                self._add_candidate(candidate)

    def _add_candidate(self, chunk: Mapping[str, Any]) -> None:
        index = chunk.get("index", 0)
        index = index if isinstance(index, int) else 0
        candidate = self._candidates.setdefault(index, {})
        for key, value in chunk.items():
            if key == "content":
                if isinstance(value, Mapping):
                    _add_content(candidate.setdefault("content", {}), value)
            elif value is not None or key not in candidate:
                candidate[key] = value  # finishReason, safetyRatings, index...: the last wins

    def body(self) -> dict[str, Any]:
        """The reply the chunks so far add up to."""
        body: dict[str, Any] = dict(self._top)
        if self._candidates:
            body["candidates"] = [
                _copy_candidate(self._candidates[index]) for index in sorted(self._candidates)
            ]
        if self._usage is not None:
            body["usageMetadata"] = self._usage
        return body


def _add_content(content: dict[str, Any], chunk: Mapping[str, Any]) -> None:
    for key, value in chunk.items():
        if key == "parts":
            parts = content.setdefault("parts", [])
            for part in value or ():
                if isinstance(part, Mapping):
                    _add_part(parts, part)
        elif value is not None or key not in content:
            content[key] = value


def _add_part(parts: list[dict[str, Any]], part: Mapping[str, Any]) -> None:
    """Join a text part to the text part before it when both are thoughts or both are
    not; append any other part whole."""
    previous = parts[-1] if parts else None
    if (
        previous is not None
        and _is_text(part)
        and _is_text(previous)
        and bool(part.get("thought")) == bool(previous.get("thought"))
    ):
        previous["text"] += part["text"]
        if part.get("thoughtSignature") is not None:
            previous["thoughtSignature"] = part["thoughtSignature"]
        return
    parts.append(dict(part))


def _is_text(part: Mapping[str, Any]) -> bool:
    return isinstance(part.get("text"), str) and set(part) <= _TEXT_KEYS


def _copy_candidate(candidate: Mapping[str, Any]) -> dict[str, Any]:
    """A copy that later chunks cannot change (the body may be read mid-stream)."""
    copied = dict(candidate)
    content = candidate.get("content")
    if isinstance(content, Mapping):
        copied["content"] = dict(content)
        if isinstance(content.get("parts"), list):
            copied["content"]["parts"] = [dict(part) for part in content["parts"]]
    return copied


@hookimpl
def py302_register_providers(register: Callable[[Provider], None]) -> None:
    """Gemini's native format is generated from specs/gemini.yaml; its chunk accumulator."""
    register(
        Provider(
            name=PROVIDER,
            bindings="py302.generated.gemini",
            title="Gemini official format (302.AI)",
            accumulators={"google.generate_content": GenerateContentAccumulator},
            ask=AskFormat(
                name="gemini",
                operation="generate_content",
                streaming_operation="stream_generate_content",
                arguments=_question,
            ),
        )
    )


def _question(
    model: str, prompt: str, system: str | None, max_tokens: int | None
) -> dict[str, Any]:
    """One user turn; a system prompt is the system instruction."""
    arguments: dict[str, Any] = {
        "model": model,
        "contents": [{"role": "user", "parts": [{"text": prompt}]}],
    }
    if system:
        arguments["systemInstruction"] = {"parts": [{"text": system}]}
    if max_tokens:
        arguments["generationConfig"] = {"maxOutputTokens": max_tokens}
    return arguments
