"""The `py302` command line, run as users run it (a real process, a real terminal-less pipe)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from py302 import Journal
from py302.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def py302(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `py302` command."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("AI302_", "302AI_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "py302", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group) and name != "run":
            found.extend(all_commands(command, path))
    return found


@pytest.mark.parametrize("path", all_commands(cli), ids=" ".join)
def test_every_command_has_complete_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    if path == ("codegen",):  # passes its arguments to the generator's own parser
        assert "--check" in result.output
        assert "--specs" in result.output
        return
    assert f"Usage: cli {' '.join(path)}" in result.output
    description = result.output.split("\n\n")[1].strip()
    assert len(description) > 20, f"{' '.join(path)} has no real description"
    command: click.Command | None = cli
    for part in path:
        assert isinstance(command, click.Group)
        command = command.get_command(click.Context(command), part)
    assert command is not None
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{' '.join(path)} {param.opts[0]} has no help"


def test_run_lists_every_operation_and_describes_its_fields() -> None:
    listing = CliRunner().invoke(cli, ["run", "--help"]).output
    assert "flux.generate" in listing
    assert "stability.erase" in listing
    detail = CliRunner().invoke(cli, ["run", "stability.erase", "--help"]).output
    assert "--image FILE" in detail
    assert "[required]" in detail
    assert "--output [bytes|json]" in detail


def test_no_key_runs_a_full_generation_against_the_sandbox(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    result = py302(
        "run",
        "flux.generate",
        "--model",
        "flux-pro-1.1",
        "--prompt",
        "a lighthouse at dawn",
        "--out",
        str(tmp_path / "out"),
        env={"PY302_JOURNAL": str(journal)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0].startswith(
        "No API key set (AI302_API_KEY): using the built-in sandbox"
    )
    (saved,) = [Path(line) for line in result.stdout.splitlines()]
    assert saved.parent == tmp_path / "out"
    assert saved.read_bytes()[:3] == b"\xff\xd8\xff"
    (row,) = Journal(journal).entries()
    assert (row.state, row.saved_paths) == ("succeeded", (str(saved),))


def test_bad_field_values_are_one_line_errors_naming_the_field(tmp_path: Path) -> None:
    wrong_type = py302("run", "flux.dev", "--prompt", "x", "--num-inference-steps", "many")
    assert wrong_type.returncode == 2
    (line,) = wrong_type.stderr.strip().splitlines()
    assert "--num-inference-steps" in line
    assert "Traceback" not in wrong_type.stderr

    wrong_shape = py302(
        "run",
        "flux.dev",
        "--prompt",
        "x",
        "--image-size",
        '{"width": "big"}',
        env={"PY302_JOURNAL": str(tmp_path / "j")},
    )
    assert wrong_shape.returncode == 1
    error = [line for line in wrong_shape.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1
    assert "image_size.width" in error[0]
    assert "nothing was sent" in error[0]


def test_unexpected_errors_are_one_line_unless_debugging(tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    result = py302("run", "stability.erase", "--image", str(missing))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_output_for_scripts(tmp_path: Path) -> None:
    result = py302(
        "run",
        "kling.images_generations",
        "--model-name",
        "kling-v2",
        "--prompt",
        "a cat",
        "--json",
        "--out",
        str(tmp_path),
        env={"PY302_JOURNAL": str(tmp_path / "j.sqlite3")},
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["operation"] == "kling.images_generations"
    assert outcome["status"] == "succeeded"
    assert outcome["task_id"].startswith("sbx-")
    assert all(Path(path).exists() for path in outcome["saved"])
    listed = json.loads(
        py302("tasks", "list", "--json", env={"PY302_JOURNAL": str(tmp_path / "j.sqlite3")}).stdout
    )
    assert [entry["task_id"] for entry in listed] == [outcome["task_id"]]


def test_stream_prints_the_text_as_it_comes_and_the_json_carries_it() -> None:
    messages = '[{"role": "user", "content": "hello there"}]'
    args = ("run", "chat.completions", "--model", "gpt-4o", "--messages", messages, "--stream")
    printed = py302(*args)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines() == ["Sandbox reply to: hello there"]
    as_json = py302(*args, "--json")
    assert json.loads(as_json.stdout)["text"] == "Sandbox reply to: hello there"
    assert "--stream" not in py302("run", "flux.dev", "--help").stdout


def test_an_empty_balance_says_how_to_fix_it() -> None:
    from py302 import APIStatusError
    from py302.cli._output import error_line

    error = APIStatusError("insufficient balance", status=402, operation="flux.dev")
    assert "top it up at https://302.ai" in error_line(error)


def test_plugins_lists_versions() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    loaded = {plugin["name"]: plugin for plugin in json.loads(result.output)["loaded"]}
    assert loaded["flux"]["providers"] == ["flux"]
    assert "built in" in loaded["stability"]["version"]
    spec_only = {entry["name"]: entry["from"] for entry in json.loads(result.output)["spec_only"]}
    # Every built-in provider without a plugin module of its own is listed as spec-only.
    root = Path(__file__).resolve().parents[2]
    with_plugin = {path.stem for path in (root / "plugins").glob("*.py")}
    specs = [*(root / "specs").glob("*.yaml"), *(root / "specs").glob("*/*.yaml")]
    providers = {
        yaml.safe_load(path.read_text(encoding="utf-8"))["x-py302-provider"] for path in specs
    }
    assert spec_only == dict.fromkeys(sorted(providers - with_plugin), "py302")
    assert {"gongji", "images", "midjourney", "wavespeed"} <= spec_only.keys()


def test_tasks_show_and_cancel_unknown_ids_are_clear_errors() -> None:
    result = py302("tasks", "show", "no-such-task")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "error: no task 'no-such-task' in the journal (py302 tasks list shows them)"
    )


def test_sandbox_serve_on_port_0_announces_the_port_it_got() -> None:
    import socket
    import subprocess
    import sys

    server = subprocess.Popen(
        [sys.executable, "-m", "py302", "sandbox", "serve", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        banner = server.stderr.readline()
        url = banner.split()[3]
        port = int(url.rsplit(":", 1)[1])
        assert port != 0
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        server.terminate()
        server.communicate(timeout=10)  # reads and closes the pipe


def test_sandbox_serve_on_a_port_in_use_is_one_clear_error() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = py302("sandbox", "serve", "--port", str(port))
    assert result.returncode == 1
    assert "cannot listen on 127.0.0.1" in result.stderr
    assert "py302 sandbox on" not in result.stderr
