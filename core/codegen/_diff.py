"""What a regeneration would change in the public Python API, found by comparing two spec trees.

Each tree is reduced to its `ApiSurface` (`py302.codegen._surface`); `diff_surfaces`
then lists each change and says whether code written against the old bindings can break.

A model field's change breaks code depending on which way the model travels. Callers build
the models a request body reaches, so a new required field breaks them; they read the
models a response reaches, so a field that may now be missing breaks them. A model that
travels both ways, or neither, is judged both ways.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ._surface import (
    ApiSurface,
    Member,
    ModelSurface,
    OperationSurface,
    ProviderSurface,
    load_tree,
)

__all__ = ["ApiDiff", "Change", "diff_surfaces", "diff_trees"]


@attrs.frozen
class Change:
    """One difference between two surfaces.

    `kind` is one of provider_added/removed, operation_added/removed/renamed/moved,
    returns_changed, model_added/removed, model_type_changed, and for `argument` and
    `field`: `<noun>_added`, `_removed`, `_renamed`, `_required`, `_optional`,
    `_type_changed`. `subject` names what changed: `acme.paint(width)`,
    `acme.PaintResult.url`.
    """

    kind: str
    subject: str
    breaking: bool
    explanation: str


@attrs.frozen(kw_only=True)
class ApiDiff:
    """Every change from the old tree to the new one, in provider and name order."""

    old: str
    new: str
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> tuple[Change, ...]:
        """The changes that can break code written against the old bindings."""
        return tuple(change for change in self.changes if change.breaking)

    @property
    def compatible(self) -> tuple[Change, ...]:
        """The changes existing code keeps working through."""
        return tuple(change for change in self.changes if not change.breaking)

    def as_json(self) -> dict[str, Any]:
        """The diff as one JSON-ready document."""
        return {
            "old": self.old,
            "new": self.new,
            "breaking": len(self.breaking),
            "compatible": len(self.compatible),
            "changes": [attrs.asdict(change) for change in self.changes],
        }


def diff_trees(old: str | Path, new: str | Path, *, repo: Path | None = None) -> ApiDiff:
    """Compare the API of two spec trees; each is a folder or a git revision (`load_tree`)."""
    return diff_surfaces(
        load_tree(old, repo=repo), load_tree(new, repo=repo), old_label=str(old), new_label=str(new)
    )


def diff_surfaces(
    old: ApiSurface, new: ApiSurface, *, old_label: str = "old", new_label: str = "new"
) -> ApiDiff:
    """Every change from `old` to `new`, each marked breaking or not."""
    changes: list[Change] = []
    for provider in sorted(old.providers.keys() | new.providers.keys()):
        before, after = old.providers.get(provider), new.providers.get(provider)
        if before is not None and after is not None:
            changes += _provider_changes(provider, before, after)
        elif before is not None:
            count = len(before.operations)
            gone = f"client.{provider} and its {count} operation(s) are gone"
            changes.append(Change("provider_removed", provider, True, gone))
        elif after is not None:
            count = len(after.operations)
            fresh = f"new client.{provider} with {count} operation(s)"
            changes.append(Change("provider_added", provider, False, fresh))
    return ApiDiff(old=old_label, new=new_label, changes=tuple(changes))


def _provider_changes(provider: str, old: ProviderSurface, new: ProviderSurface) -> list[Change]:
    added = sorted(new.operations.keys() - old.operations.keys())
    renamed: dict[str, str] = {}
    for op_id in sorted(old.operations.keys() - new.operations.keys()):
        endpoint = _endpoint(old.operations[op_id])
        same = [other for other in added if _endpoint(new.operations[other]) == endpoint]
        if len(same) == 1:  # with two candidates the pairing would be a guess
            renamed[op_id] = same[0]
            added.remove(same[0])
    changes: list[Change] = []
    for op_id in sorted(old.operations.keys() | new.operations.keys()):
        subject = f"{provider}.{op_id}"
        before, after = old.operations.get(op_id), new.operations.get(op_id)
        if before is not None and op_id in renamed:
            target = f"{provider}.{renamed[op_id]}"
            now = f"now {target} ({_endpoint(before)}); calls by the old name fail"
            changes.append(Change("operation_renamed", subject, True, now))
            changes += _operation_changes(target, before, new.operations[renamed[op_id]])
        elif before is not None and after is not None:
            changes += _operation_changes(subject, before, after)
        elif before is not None:
            gone = f"{_endpoint(before)} has no binding any more"
            changes.append(Change("operation_removed", subject, True, gone))
        elif after is not None and op_id in added:
            fresh = f"new binding for {_endpoint(after)}"
            changes.append(Change("operation_added", subject, False, fresh))
    for name in sorted(old.models.keys() | new.models.keys()):
        subject = f"{provider}.{name}"
        model, later = old.models.get(name), new.models.get(name)
        if model is not None and later is not None:
            changes += _model_changes(subject, model, later)
        elif model is not None:
            gone = "the class is gone; code that imports it fails"
            changes.append(Change("model_removed", subject, True, gone))
        else:
            changes.append(Change("model_added", subject, False, "new class"))
    return changes


def _endpoint(op: OperationSurface) -> str:
    return f"{op.method} {op.path}"


def _operation_changes(subject: str, old: OperationSurface, new: OperationSurface) -> list[Change]:
    changes = []
    if _endpoint(old) != _endpoint(new):
        moved = f"sends {_endpoint(new)} (was {_endpoint(old)}); the Python call is the same"
        changes.append(Change("operation_moved", subject, False, moved))
    if old.returns != new.returns:
        returns = f"Result.data is now {new.returns} (was {old.returns})"
        changes.append(Change("returns_changed", subject, True, returns))
    return changes + _member_changes(
        lambda name: f"{subject}({name})",
        old.arguments,
        new.arguments,
        noun="argument",
        sent=True,
        received=False,
    )


def _model_changes(subject: str, old: ModelSurface, new: ModelSurface) -> list[Change]:
    changes = []
    if old.type != new.type:
        retyped = f"now {new.type} (was {old.type})"
        changes.append(Change("model_type_changed", subject, True, retyped))
    return changes + _member_changes(
        lambda name: f"{subject}.{name}",
        old.fields,
        new.fields,
        noun="field",
        sent=old.sent or new.sent,
        received=old.received or new.received,
    )


def _member_changes(
    subject: Callable[[str], str],
    old: Mapping[str, Member],
    new: Mapping[str, Member],
    *,
    noun: str,
    sent: bool,
    received: bool,
) -> list[Change]:
    """Changes to arguments or fields. `sent`: callers supply the values, so a new required
    one breaks them; `received`: callers read them, so one that may be missing breaks them."""
    added = sorted(new.keys() - old.keys())
    renamed: dict[str, str] = {}
    for name in sorted(old.keys() - new.keys()):
        twin = next((other for other in added if new[other].wire == old[name].wire), None)
        if twin is not None:  # the same wire name under a new Python name
            renamed[name] = twin
            added.remove(twin)
    changes = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before is not None and name in renamed:
            twin = renamed[name]
            now = f"now {twin} (wire name {before.wire!r} unchanged); code using {name} fails"
            changes.append(Change(f"{noun}_renamed", subject(name), True, now))
            changes += _member_change(
                subject(twin), before, new[twin], noun=noun, sent=sent, received=received
            )
        elif before is not None and after is not None:
            changes += _member_change(
                subject(name), before, after, noun=noun, sent=sent, received=received
            )
        elif before is not None:
            gone = f"the {noun} is gone; code that uses it fails"
            changes.append(Change(f"{noun}_removed", subject(name), True, gone))
        elif after is not None and name in added:
            breaking = after.required and sent
            need = "required" if after.required else "optional"
            fresh = f"new {need} {noun} ({after.type})"
            fresh += "; code that omits it fails" if breaking else ""
            changes.append(Change(f"{noun}_added", subject(name), breaking, fresh))
    return changes


def _member_change(
    subject: str, old: Member, new: Member, *, noun: str, sent: bool, received: bool
) -> list[Change]:
    """How one argument or field changed in being required and in type."""
    changes = []
    if not old.required and new.required:
        now = "now required" + ("; code that omits it fails" if sent else "")
        changes.append(Change(f"{noun}_required", subject, sent, now))
    elif old.required and not new.required:
        now = "now optional" + ("; it may be missing (None)" if received else "")
        changes.append(Change(f"{noun}_optional", subject, received, now))
    if old.type != new.type:
        retyped = f"now {new.type} (was {old.type})"
        changes.append(Change(f"{noun}_type_changed", subject, True, retyped))
    return changes
