"""The SSE decoder: line endings, comments, multi-line data, huge lines, split chunks."""

from __future__ import annotations

import pytest

from py302._sse import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_events_are_split_at_blank_lines_whatever_the_line_ending(newline: bytes) -> None:
    text = newline.join([b"data: one", b"", b"event: note", b"data: two", b"", b""])
    assert decode(text) == [
        ServerSentEvent(data="one"),
        ServerSentEvent(data="two", event="note"),
    ]


def test_comments_and_keep_alives_are_skipped() -> None:
    assert decode(b": keep-alive\n\n: ping\ndata: x\n\n") == [ServerSentEvent(data="x")]


def test_multi_line_data_is_joined_with_newlines_and_fields_are_kept() -> None:
    assert decode(b"id: 7\nretry: 300\ndata: a\ndata:b\n\n") == [
        ServerSentEvent(data="a\nb", id="7", retry=300)
    ]


def test_an_event_split_anywhere_across_chunks_decodes_the_same() -> None:
    text = b'data: {"k": "v"}\r\n\r\ndata: second\r\n\r\n'
    whole = decode(text)
    for cut in range(1, len(text)):
        assert decode(text[:cut], text[cut:]) == whole, cut


def test_a_multi_megabyte_line_in_small_chunks() -> None:
    payload = b"A" * (8 * 1024 * 1024)
    text = b"data: " + payload + b"\n\n"
    chunks = [text[i : i + 65536] for i in range(0, len(text), 65536)]
    (event,) = decode(*chunks)
    assert len(event.data) == len(payload)


def test_an_unterminated_last_event_is_dispatched_at_close() -> None:
    assert decode(b"data: tail") == [ServerSentEvent(data="tail")]
