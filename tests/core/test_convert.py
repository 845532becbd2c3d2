"""Reading answers into models: the scalar and optional fields every answer is full of."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from py302 import ResponseShapeError
from py302._convert import structure
from py302.binding import OpenStrEnum
from py302.payloads import urls_in_text


class Mood(OpenStrEnum):
    CALM = "calm"
    ANGRY = "angry"


class Size(OpenStrEnum):
    SMALL = "s"
    CALM_TOO = "calm"  # also in Mood: the first enum of a union wins


@attrs.frozen(kw_only=True)
class Item:
    url: str | None = None


@attrs.frozen(kw_only=True)
class Answer:
    mood: Mood | str | None = None
    strict_mood: Mood | None = None
    either: Mood | Size | None = None
    scale: float | None = None
    count: int | None = None
    items: list[Item] | None = None
    nested: Answer | None = None


def read(payload: dict[str, Any]) -> Answer:
    answer: Answer = structure(payload, Answer, operation="test.op")
    return answer


def test_a_listed_value_becomes_its_member_and_an_unlisted_one_stays_as_sent() -> None:
    answer = read({"mood": "calm", "strict_mood": "angry"})
    assert answer.mood is Mood.CALM
    assert answer.strict_mood is Mood.ANGRY
    beside_str = read({"mood": "sleepy"}).mood
    assert type(beside_str) is str
    assert beside_str == "sleepy"
    open_only = read({"strict_mood": "sleepy"}).strict_mood
    assert isinstance(open_only, Mood)
    assert not open_only.is_known
    assert open_only.value == "sleepy"


def test_the_first_enum_of_a_union_that_lists_a_value_wins() -> None:
    assert read({"either": "calm"}).either is Mood.CALM
    assert read({"either": "s"}).either is Size.SMALL


def test_numbers_and_nulls() -> None:
    answer = read({"scale": 2, "count": 3, "mood": None})
    assert answer.scale == 2.0
    assert type(answer.scale) is float
    assert answer.count == 3
    assert answer.mood is None
    with pytest.raises(ResponseShapeError, match="count"):
        read({"count": True})  # a boolean is no integer
    with pytest.raises(ResponseShapeError, match="count"):
        read({"count": "3"})


def test_a_value_of_the_wrong_kind_is_named_by_its_path() -> None:
    with pytest.raises(ResponseShapeError, match=r"body\.strict_mood"):
        read({"strict_mood": {"not": "a scalar"}})
    with pytest.raises(ResponseShapeError, match=r"body\.items\[1\]\.url"):
        read({"items": [{"url": "a"}, {"url": 5}]})
    with pytest.raises(ResponseShapeError, match=r"body\.nested\.nested\.count"):
        read({"nested": {"nested": {"count": "x"}}})


def test_a_model_that_contains_itself_is_read_to_any_depth() -> None:
    answer = read({"nested": {"nested": {"items": [{"url": "u"}], "count": 1}}})
    assert answer.nested is not None
    assert answer.nested.nested is not None
    assert answer.nested.nested.items == [Item(url="u")]


def test_a_binary_answer_and_a_json_one_are_told_apart() -> None:
    assert structure(b"\x89PNG", bytes | Answer, operation="t") == b"\x89PNG"
    assert structure({"count": 1}, bytes | Answer, operation="t") == Answer(count=1)
    with pytest.raises(ResponseShapeError, match="expected a binary answer"):
        structure({"count": 1}, bytes, operation="t")
    with pytest.raises(ResponseShapeError, match="got a binary answer"):
        structure(b"x", Answer, operation="t")


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ('["https://a/1.png", 3, "ftp://b"]', ["https://a/1.png"]),
        ('"https://a/1.png"', ["https://a/1.png"]),
        ("https://a/1.png", ["https://a/1.png"]),
        ("  [broken", []),
        ("example", []),
        ("", []),
        ("42", []),
    ],
)
def test_urls_are_read_from_text_that_holds_them(text: str, urls: list[str]) -> None:
    assert urls_in_text(text) == urls
