"""`py302 specs diff`: API changes between spec trees, and which of them break callers."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from py302.cli import cli, main
from py302.codegen._diff import ApiDiff, Change, diff_surfaces, diff_trees
from py302.codegen._errors import SpecTreeError
from py302.codegen._surface import (
    ApiSurface,
    Member,
    ModelSurface,
    OperationSurface,
    ProviderSurface,
    load_tree,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_SPECS = Path(__file__).parent / "fixtures" / "specs"

Document = dict[str, Any]


def small_tree(folder: Path, *edits: Callable[[Document], None]) -> Path:
    """A one-fragment copy of specs/ (the Kling fragment and the inventory), edited."""
    folder.mkdir(parents=True)
    shutil.copy(ROOT / "specs" / "doc-inventory.tsv", folder)
    document = yaml.safe_load((ROOT / "specs" / "kling.yaml").read_text(encoding="utf-8"))
    for edit in edits:
        edit(document)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    (folder / "kling.yaml").write_text(text, encoding="utf-8")
    return folder


def schema(document: Document, name: str) -> Document:
    found: Document = document["components"]["schemas"][name]
    return found


def drop_response_field(document: Document) -> None:
    del schema(document, "KlingTask")["properties"]["task_status_msg"]


def require_request_field(document: Document) -> None:
    schema(document, "KlingImageGenerationRequest")["required"].append("model_name")


def add_optional_field(document: Document) -> None:
    properties = schema(document, "KlingImageGenerationRequest")["properties"]
    properties["seed"] = {"type": "integer", "description": "Seed for repeatable output."}


def rename_operation(document: Document) -> None:
    document["paths"]["/302/submit/kolors"]["post"]["operationId"] = "kolors_submit"


def remove_operation(document: Document) -> None:
    del document["paths"]["/klingai/v1/images/editing/expand"]


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("trees")
    old = small_tree(root / "old")
    new = small_tree(
        root / "new",
        drop_response_field,
        require_request_field,
        add_optional_field,
        rename_operation,
        remove_operation,
    )
    return old, new


@pytest.fixture(scope="module")
def old_surface(trees: tuple[Path, Path]) -> ApiSurface:
    return load_tree(trees[0])


@pytest.fixture(scope="module")
def edited(trees: tuple[Path, Path], old_surface: ApiSurface) -> ApiDiff:
    return diff_surfaces(old_surface, load_tree(trees[1]))


EXPECTED = [
    ("field_removed", "kling.KlingTask.task_status_msg", True),
    ("argument_required", "kling.images_generations(model_name)", True),
    ("argument_added", "kling.images_generations(seed)", False),
    ("operation_renamed", "kling.kolors", True),
    ("operation_removed", "kling.images_expand", True),
]


@pytest.mark.parametrize(("kind", "subject", "breaking"), EXPECTED)
def test_each_edit_is_reported_with_its_breaking_flag(
    edited: ApiDiff, kind: str, subject: str, breaking: bool
) -> None:
    found = [(c.kind, c.breaking) for c in edited.changes if c.subject == subject]
    assert found == [(kind, breaking)]


def test_nothing_else_is_reported(edited: ApiDiff) -> None:
    assert sorted((c.kind, c.subject, c.breaking) for c in edited.changes) == sorted(EXPECTED)
    assert len(edited.breaking) == 4
    assert all(change.explanation for change in edited.changes)


def test_a_rename_names_the_new_operation(edited: ApiDiff) -> None:
    (renamed,) = [c for c in edited.changes if c.kind == "operation_renamed"]
    assert "kling.kolors_submit" in renamed.explanation
    assert "POST /302/submit/kolors" in renamed.explanation


def test_identical_trees_have_no_changes(old_surface: ApiSurface) -> None:
    same = diff_surfaces(old_surface, old_surface)
    assert same.changes == ()
    assert same.as_json()["breaking"] == 0


def test_surface_has_types_python_names_and_inherited_fields() -> None:
    zoo = load_tree(FIXTURE_SPECS).providers["zoo"]
    owner = zoo.models["Owner"]
    assert owner.fields["from_"] == Member(
        name="from_", wire="from", required=False, type="string", location="field"
    )
    assert owner.fields["name"].required  # from Named, through allOf
    assert (owner.sent, owner.received) == (True, False)
    assert zoo.models["Pet"].type == "Cat | Dog"
    adopt = zoo.operations["adopt"]
    assert (adopt.method, adopt.path, adopt.returns) == ("POST", "/zoo/pets", "Adoption")
    assert adopt.arguments["note"].type == "string | null"
    assert adopt.arguments["dry_run"].location == "query"
    assert zoo.operations["upload_photo"].returns == "PhotoStored | bytes"
    # Request bodies have no class (their fields are the builder's keywords), so no model.
    assert "AdoptRequest" not in zoo.models
    assert "PhotoUpload" not in zoo.models


# The rules, on surfaces built by hand: no compiling, so every case is cheap.


def member(name: str, *, required: bool = False, type: str = "string", wire: str = "") -> Member:
    return Member(name=name, wire=wire or name, required=required, type=type, location="body")


def surface(
    arguments: dict[str, Member] | None = None,
    fields: dict[str, Member] | None = None,
    *,
    path: str = "/paint",
    returns: str = "Painting",
    sent: bool = False,
    received: bool = True,
    model_type: str = "object",
) -> ApiSurface:
    operation = OperationSurface(
        method="POST", path=path, returns=returns, arguments=arguments or {}
    )
    model = ModelSurface(type=model_type, fields=fields or {}, sent=sent, received=received)
    provider = ProviderSurface(operations={"paint": operation}, models={"Painting": model})
    return ApiSurface(providers={"acme": provider})


RULES = [
    pytest.param(
        surface({"size": member("size", type="integer")}),
        surface({"size": member("size", type="string")}),
        Change("argument_type_changed", "acme.paint(size)", True, "now string (was integer)"),
        id="argument type changed",
    ),
    pytest.param(
        surface({"size": member("size", required=True)}),
        surface({"size": member("size")}),
        Change("argument_optional", "acme.paint(size)", False, "now optional"),
        id="argument made optional",
    ),
    pytest.param(
        surface({"size": member("size")}),
        surface({}),
        Change(
            "argument_removed",
            "acme.paint(size)",
            True,
            "the argument is gone; code that uses it fails",
        ),
        id="argument removed",
    ),
    pytest.param(
        surface({}),
        surface({"size": member("size", required=True)}),
        Change(
            "argument_added",
            "acme.paint(size)",
            True,
            "new required argument (string); code that omits it fails",
        ),
        id="required argument added",
    ),
    pytest.param(
        surface(fields={"url": member("url", required=True)}),
        surface(fields={"url": member("url")}),
        Change(
            "field_optional", "acme.Painting.url", True, "now optional; it may be missing (None)"
        ),
        id="read field made optional",
    ),
    pytest.param(
        surface(fields={"url": member("url")}),
        surface(fields={"url": member("url", required=True)}),
        Change("field_required", "acme.Painting.url", False, "now required"),
        id="read field made required",
    ),
    pytest.param(
        surface(fields={}, sent=True, received=False),
        surface(fields={"url": member("url", required=True)}, sent=True, received=False),
        Change(
            "field_added",
            "acme.Painting.url",
            True,
            "new required field (string); code that omits it fails",
        ),
        id="required field added to a sent model",
    ),
    pytest.param(
        surface(fields={"from": member("from")}),
        surface(fields={"from_": member("from_", wire="from")}),
        Change(
            "field_renamed",
            "acme.Painting.from",
            True,
            "now from_ (wire name 'from' unchanged); code using from fails",
        ),
        id="field renamed",
    ),
    pytest.param(
        surface(path="/paint"),
        surface(path="/v2/paint"),
        Change(
            "operation_moved",
            "acme.paint",
            False,
            "sends POST /v2/paint (was POST /paint); the Python call is the same",
        ),
        id="operation moved",
    ),
    pytest.param(
        surface(returns="Painting"),
        surface(returns="Painting | bytes"),
        Change(
            "returns_changed",
            "acme.paint",
            True,
            "Result.data is now Painting | bytes (was Painting)",
        ),
        id="result type changed",
    ),
    pytest.param(
        surface(model_type="object"),
        surface(model_type="string"),
        Change("model_type_changed", "acme.Painting", True, "now string (was object)"),
        id="model type changed",
    ),
    pytest.param(
        ApiSurface(providers={}),
        surface(),
        Change("provider_added", "acme", False, "new client.acme with 1 operation(s)"),
        id="provider added",
    ),
    pytest.param(
        surface(),
        ApiSurface(providers={}),
        Change("provider_removed", "acme", True, "client.acme and its 1 operation(s) are gone"),
        id="provider removed",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), RULES)
def test_rules(old: ApiSurface, new: ApiSurface, expected: Change) -> None:
    assert diff_surfaces(old, new).changes == (expected,)


# The command line.


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(["specs", "diff", *args])
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_cli_json_reports_every_change_and_exits_1(
    trees: tuple[Path, Path], edited: ApiDiff, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run([str(trees[0]), str(trees[1]), "--json"], capsys)
    assert status == 1
    document = json.loads(out)
    assert document == edited.as_json() | {"old": str(trees[0]), "new": str(trees[1])}
    assert document["breaking"] == 4
    assert document["compatible"] == 1


def test_cli_text_puts_breaking_changes_first(
    trees: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run([str(trees[0]), str(trees[1])], capsys)
    assert status == 1
    lines = out.splitlines()
    assert [line.startswith("BREAKING") for line in lines[:-1]] == [True] * 4 + [False]
    assert "kling.images_expand" in lines[0]
    assert "operation removed" in lines[0]
    assert lines[-1] == f"4 breaking, 1 compatible change(s) from {trees[0]} to {trees[1]}"


def test_cli_identical_trees_exit_0(
    trees: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run([str(trees[0]), str(trees[0])], capsys)
    assert status == 0
    assert out.splitlines() == [f"0 breaking, 0 compatible change(s) from {trees[0]} to {trees[0]}"]


def test_cli_help_states_the_exit_statuses() -> None:
    result = CliRunner().invoke(cli, ["specs", "diff", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "Exit status: 0 when nothing breaks, 1 when something does, 2 when OLD or NEW" in text


# Git revisions.


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository whose second commit drops a response field from specs/."""
    root = tmp_path_factory.mktemp("repo")
    git(root, "init", "-q")
    small_tree(root / "specs")
    git(root, "add", "specs")
    git(root, "commit", "-q", "-m", "first")
    shutil.rmtree(root / "specs")
    small_tree(root / "specs", drop_response_field)
    git(root, "commit", "-q", "-a", "-m", "second")
    return root


def test_git_revisions_are_read(repo: Path) -> None:
    result = diff_trees("HEAD~1", "HEAD:specs", repo=repo)
    assert [(c.kind, c.subject, c.breaking) for c in result.changes] == [
        ("field_removed", "kling.KlingTask.task_status_msg", True)
    ]
    assert (result.old, result.new) == ("HEAD~1", "HEAD:specs")


def test_cli_compares_a_revision_with_a_folder(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo)
    status, out, _ = run(["HEAD~1:specs", "specs", "--json"], capsys)
    assert status == 1
    assert json.loads(out)["changes"][0]["subject"] == "kling.KlingTask.task_status_msg"


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("no-such-tree", "'no-such-tree' is neither a folder nor a git revision here"),
        ("HEAD:nowhere", "revision HEAD has no folder 'nowhere'"),
        (".git", ".git holds no spec fragments"),
    ],
)
def test_cli_bad_argument_is_one_line_and_exit_2(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argument: str,
    message: str,
) -> None:
    monkeypatch.chdir(repo)
    status, out, err = run([argument, "specs"], capsys)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"error: {message}")


def test_a_tree_that_does_not_compile_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = small_tree(tmp_path / "broken", lambda document: document.pop("openapi"))
    status, _, err = run([str(broken), str(broken)], capsys)
    assert status == 2
    assert err.startswith(f"error: {broken} does not compile:")
    assert "kling.yaml" in err


def test_load_tree_outside_a_repository(tmp_path: Path) -> None:
    with pytest.raises(SpecTreeError, match="'HEAD' is neither a folder nor a git revision"):
        load_tree("HEAD", repo=tmp_path)
