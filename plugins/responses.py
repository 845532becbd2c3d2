"""OpenAI's Responses API on 302.AI: folding a stream of typed events into one response.

Everything else about `client.responses` is declared in specs/responses.yaml (the
stream flag, where the text, reasoning, tool calls, usage and error are). What data
cannot say is how the events of a streamed response add up to the `response` object
the same request answers whole:

* the stream normally ends with `response.completed` (or `response.failed`,
  `response.incomplete`), whose `response` is that whole object: the last such
  event wins, as it is;
* a stream cut before it still has something to give: the latest `response`
  snapshot seen (`response.created`, `response.in_progress`), with its `output`
  rebuilt from the events - an item as `response.output_item.done` sent it, or else
  as `response.output_item.added` began it with the text, refusal, argument and
  reasoning-summary deltas received since joined in.

A terminal response without an `output` key (a proxy that strips the final
response) gets the rebuilt items; one with an `output`, even empty, is kept as it is,
so that the stream's result equals the whole answer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from py302 import Provider, hookimpl

PY302_PLUGIN_API = 2
PROVIDER = "responses"
#: Events whose `response` is the whole, final response.
_TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete"})
#: Events that grow or set one string: type -> (what they write to, the event key
#: holding the value, whether the value is the whole string or the next piece).
_TEXT_EVENTS: dict[str, tuple[str, str, bool]] = {
    "response.output_text.delta": ("output_text", "delta", False),
    "response.output_text.done": ("output_text", "text", True),
    "response.refusal.delta": ("refusal", "delta", False),
    "response.refusal.done": ("refusal", "refusal", True),
    "response.function_call_arguments.delta": ("function_call", "delta", False),
    "response.function_call_arguments.done": ("function_call", "arguments", True),
    "response.reasoning_summary_text.delta": ("reasoning", "delta", False),
    "response.reasoning_summary_text.done": ("reasoning", "text", True),
}


class _Item:
    """One output item being rebuilt from events, by its `output_index`."""

    def __init__(self, item: Mapping[str, Any]) -> None:
        self.item: dict[str, Any] = copy.deepcopy(dict(item))
        self.parts: dict[int, dict[str, Any]] = {}  # message content, by content_index
        self.summary: dict[int, dict[str, Any]] = {}  # reasoning summary, by summary_index
        self.done = False  # output_item.done sent the whole item: nothing more to add

    def body(self) -> dict[str, Any]:
        item = dict(self.item)
        if self.done:
            return item
        if self.parts:
            item["content"] = [self.parts[i] for i in sorted(self.parts)]
        if self.summary:
            item["summary"] = [self.summary[i] for i in sorted(self.summary)]
        return item


class _Text:
    """A string field of a part or an item, grown by deltas and set by a done event."""

    def __init__(self, target: dict[str, Any], key: str) -> None:
        self._target = target
        self._key = key

    def append(self, piece: Any) -> None:
        if isinstance(piece, str):
            current = self._target.get(self._key)
            self._target[self._key] = (current if isinstance(current, str) else "") + piece

    def replace(self, whole: Any) -> None:
        if isinstance(whole, str):
            self._target[self._key] = whole


class ResponsesAccumulator:
    """Folds Responses stream events into the `response` body the whole call answers."""

    def __init__(self) -> None:
        self._final: dict[str, Any] | None = None  # of the last terminal event
        self._latest: dict[str, Any] | None = None  # of the last other snapshot
        self._items: dict[int, _Item] = {}
        self._index_of: dict[str, int] = {}  # item id -> output_index

    def add(self, event: Any) -> None:
        """Take one event's data."""
        if not isinstance(event, Mapping):
            return
        kind = event.get("type")
        response = event.get("response")
        if isinstance(response, Mapping):
            if kind in _TERMINAL:
                self._final = dict(response)
            else:
                self._latest = dict(response)
        elif kind in ("response.output_item.added", "response.output_item.done"):
            self._take_item(event, done=kind == "response.output_item.done")
        elif kind in ("response.content_part.added", "response.content_part.done"):
            self._take_part(event)
        elif isinstance(kind, str) and kind in _TEXT_EVENTS:
            target, key, whole = _TEXT_EVENTS[kind]
            text = self._text_of(event, target)
            if whole:
                text.replace(event.get(key))
            else:
                text.append(event.get(key))

    def body(self) -> dict[str, Any]:
        """The response the events so far add up to."""
        output = [self._items[i].body() for i in sorted(self._items)]
        if self._final is not None:
            body = dict(self._final)
            if output and "output" not in body:
                body["output"] = output
            return body
        body = dict(self._latest) if self._latest is not None else {"object": "response"}
        if output or "output" not in body:
            body["output"] = output
        return body

    def _take_item(self, event: Mapping[str, Any], *, done: bool) -> None:
        item = event.get("item")
        if not isinstance(item, Mapping):
            return
        index = self._position(event, item.get("id"))
        current = self._items.get(index)
        if done or current is None:
            current = self._items[index] = _Item(item)
        else:  # deltas came first and began the item: keep what they built
            for key, value in item.items():
                current.item.setdefault(key, copy.deepcopy(value))
        current.done = done
        if isinstance(item.get("id"), str):
            self._index_of[item["id"]] = index

    def _take_part(self, event: Mapping[str, Any]) -> None:
        part = event.get("part")
        if isinstance(part, Mapping):
            item = self._item(event, "message")
            item.parts[_index(event.get("content_index"))] = copy.deepcopy(dict(part))

    def _item(self, event: Mapping[str, Any], default_type: str) -> _Item:
        """The item an event adds to; begun from the event's ids if none was announced."""
        item_id = event.get("item_id")
        index = self._position(event, item_id)
        if index not in self._items:
            start: dict[str, Any] = {"type": default_type}
            if isinstance(item_id, str):
                start["id"] = item_id
                self._index_of[item_id] = index
            if default_type == "message":
                start["role"] = "assistant"
            self._items[index] = _Item(start)
        return self._items[index]

    def _position(self, event: Mapping[str, Any], item_id: Any) -> int:
        """The event's `output_index`; else the index its item id was seen at; else next."""
        index = event.get("output_index")
        if isinstance(index, int) and not isinstance(index, bool):
            return index
        if isinstance(item_id, str) and item_id in self._index_of:
            return self._index_of[item_id]
        return max(self._items, default=-1) + 1

    def _text_of(self, event: Mapping[str, Any], target: str) -> _Text:
        """The string a text event grows or sets."""
        if target == "function_call":
            return _Text(self._item(event, "function_call").item, "arguments")
        if target == "reasoning":
            item = self._item(event, "reasoning")
            index = _index(event.get("summary_index"))
            return _Text(item.summary.setdefault(index, {"type": "summary_text"}), "text")
        item = self._item(event, "message")
        part = item.parts.setdefault(_index(event.get("content_index")), {"type": target})
        if target == "output_text":
            part.setdefault("annotations", [])
            return _Text(part, "text")
        return _Text(part, "refusal")


def _index(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@hookimpl
def py302_register_providers(register: Callable[[Provider], None]) -> None:
    """The Responses API is generated from specs/responses.yaml; its event accumulator."""
    register(
        Provider(
            name=PROVIDER,
            bindings="py302.generated.responses",
            title="OpenAI Responses API (302.AI)",
            accumulators={"openai.responses": ResponsesAccumulator},
        )
    )
