"""Tooling that holds the specs against traffic; none of it runs in an ordinary API call.

* `_cassettes` reads VCR cassette files (their interactions and the JSON or form
  fields in their bodies) and writes them as readable YAML.
* `_events` reads a recorded event-stream body as the client reads it: the events that
  carry data, the one that reported an error, whether the end marker came.
* `_contract` checks each interaction of a cassette against the spec of the operation
  it was sent to (`py302 cassette check`, `py302.testing.assert_contract`).
* `_drift` lists what recorded traffic shows that the specs do not say (`py302 specs
  drift`, and the input of `py302 specs learn`).
* `_match` finds the operation a recorded request was sent to; `_contract` and
  `_drift` both build on it.
* `_examples` lays out the specs' own examples as the cassettes of one call each
  (`py302 cassette examples`), and gives the sandbox its answers.
* `_scrub` makes recorded traffic safe to commit: secrets and signed URLs redacted,
  binary bodies replaced, repeated polls collapsed.
* `_report` counts how much of the documentation the specs cover, and how well
  (`py302 specs report`).

Reading cassettes needs PyYAML (the `testing` or `cli` extra); the rest needs only
what `py302` itself does. This package re-exports what the command line, codegen, the
sandbox and `py302.testing` use, with the types their results come in.
"""

from __future__ import annotations

from ._cassettes import CassetteError, dump_cassette
from ._contract import DEFAULT_API_HOSTS, InteractionReport, check_cassette, default_registries
from ._drift import DriftReport, Finding, find_drift, operation_pointer
from ._examples import (
    FILE_MARKER,
    PNG_2X2,
    STREAM_SUFFIX,
    Body,
    ExampleError,
    answer_when,
    example_cassette,
    example_cassettes,
    final_answer,
    media_example,
    named_answer,
    stream_answer,
    with_sample_files,
)
from ._report import EVIDENCE_ORDER, ProviderReport, evidence_report, inventory_rows
from ._scrub import collapse_polls, scrub_interactions

__all__ = [
    "DEFAULT_API_HOSTS",
    "EVIDENCE_ORDER",
    "FILE_MARKER",
    "PNG_2X2",
    "STREAM_SUFFIX",
    "Body",
    "CassetteError",
    "DriftReport",
    "ExampleError",
    "Finding",
    "InteractionReport",
    "ProviderReport",
    "answer_when",
    "check_cassette",
    "collapse_polls",
    "default_registries",
    "dump_cassette",
    "evidence_report",
    "example_cassette",
    "example_cassettes",
    "final_answer",
    "find_drift",
    "inventory_rows",
    "media_example",
    "named_answer",
    "operation_pointer",
    "scrub_interactions",
    "stream_answer",
    "with_sample_files",
]
