"""What a user sees is true: `help()`, the progress label, the README's set-up.

A generated operation's signature is the caller's (no `self`) and names what the
call returns (`Result`, `Task`, `Stream`, awaitable on the async client), not the
builder's `Call`; its docstring lists every argument. The CLI's progress label leads
with py302's status word. The README's first command does not install the made-up
example plugin into the user's environment (where `py302 ops` would list it).
"""

from __future__ import annotations

import inspect
import pydoc
import re
from pathlib import Path

import pytest

from py302 import AsyncClient, Client, PluginHost, TaskSnapshot, TaskStatus
from py302.cli._progress import status_label

ROOT = Path(__file__).resolve().parents[2]

KEY = "sk-canary-7f3a9c1e5b2d"


@pytest.fixture
def client() -> Client:
    return Client(api_key=KEY, plugins=PluginHost(entry_points=False))


@pytest.fixture
def async_client() -> AsyncClient:
    return AsyncClient(api_key=KEY, plugins=PluginHost(entry_points=False))


def test_help_shows_the_result_and_every_argument(client: Client) -> None:
    plain = pydoc.plaintext  # type: ignore[attr-defined]  # not in typeshed
    text = pydoc.render_doc(client.flux.dev, renderer=plain)
    assert "-> 'Result[SubmitImagesResponse]'" in text
    assert "Call[" not in text
    assert "self" not in str(inspect.signature(client.flux.dev))
    args = text.partition("Args:")[2]
    for name in inspect.signature(client.flux.dev).parameters:
        assert f"{name}:" in args, f"{name} is missing from the Args section"


def test_each_kind_of_call_names_what_it_returns(client: Client, async_client: AsyncClient) -> None:
    def returned(method: object) -> str:
        return str(inspect.signature(method).return_annotation)  # type: ignore[arg-type]

    assert returned(client.flux.generate) == "Task[BflResultResponse]"
    assert returned(client.chat.completions) == "Result[ChatCompletion]"
    assert returned(client.chat.completions.stream) == "Stream[ChatCompletionChunk, ChatCompletion]"
    assert returned(async_client.flux.dev) == "Awaitable[Result[SubmitImagesResponse]]"
    assert returned(async_client.kling.images_generations) == (
        "Awaitable[AsyncTask[KlingTaskResponse]]"
    )


@pytest.mark.parametrize(
    ("status", "provider", "label"),
    [
        (TaskStatus.QUEUED, None, "queued"),
        (TaskStatus.QUEUED, "Pending", "queued (Pending)"),
        (TaskStatus.RUNNING, "processing", "running (processing)"),
        (TaskStatus.RUNNING, "RUNNING", "running"),
        (TaskStatus.SUCCEEDED, "Ready", "succeeded (Ready)"),
    ],
)
def test_the_progress_label_leads_with_py302s_word(
    status: TaskStatus, provider: str | None, label: str
) -> None:
    assert status_label(TaskSnapshot(status=status, provider_status=provider)) == label
    assert str(status) == status.value  # on_progress callbacks print words, not enums


def test_the_first_setup_command_installs_no_example_plugin() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (first,) = re.findall(r"^# 1\..*\n(.*)$", readme, re.MULTILINE)
    assert "pip install -e '.[cli,dev]'" in first
    assert "example_plugin" not in first
    assert "example_plugin" not in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_cli_default_output_folder_is_ignored_by_git() -> None:
    from py302.cli._run import DEFAULT_OUT

    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert f"{DEFAULT_OUT}/" in ignored or DEFAULT_OUT in ignored


def test_the_debug_hint_says_where_the_flag_goes() -> None:
    from py302.cli._output import error_line

    line = error_line(RuntimeError("boom"))
    assert "py302 --debug" in line  # `py302 codegen --debug` is refused by click
