"""Editing a fragment's YAML while keeping its comments, quoting and layout.

`py302 specs learn` proposes changes as a patch a maintainer reviews, so the edited
file must differ from the original only where something was learned. ruamel.yaml
keeps comments and quoting on a round trip; the layout (how far sequences are
indented) is taken from whichever style reproduces the file unchanged.
"""

from __future__ import annotations

import difflib
import io
from typing import Any

__all__ = ["EditableYaml"]

# (mapping indent, sequence indent, sequence dash offset) in the styles fragments use.
_STYLES = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4))


class EditableYaml:
    """A YAML text loaded for editing; `dump()` writes it back in the same style."""

    def __init__(self, text: str) -> None:
        self.original = text
        best: tuple[int, Any, Any] | None = None
        for style in _STYLES:
            yaml = _yaml(style)
            document = yaml.load(text)
            changed = _changed_lines(text, _dump(yaml, document))
            if best is None or changed < best[0]:
                best = (changed, yaml, document)
            if changed == 0:
                break
        assert best is not None
        self.round_trip_noise, self._yaml, self.document = best

    def dump(self) -> str:
        """The (edited) document as text."""
        return _dump(self._yaml, self.document)

    def new_map(self, values: dict[str, Any] | None = None) -> Any:
        """A block-style mapping of `values`; short lists of scalars stay on one line."""
        from ruamel.yaml.comments import CommentedMap, CommentedSeq

        mapping = CommentedMap()
        for key, value in (values or {}).items():
            converted: Any = value
            if isinstance(value, dict):
                converted = self.new_map(value)
            elif isinstance(value, list):
                items = [self.new_map(v) if isinstance(v, dict) else v for v in value]
                converted = CommentedSeq(items)
                if not any(isinstance(v, dict | list) for v in items):
                    converted.fa.set_flow_style()
            mapping[key] = converted
        return mapping

    def append_entry(self, mapping: Any, key: str, value: Any) -> None:
        """Add `key: value` at the end of `mapping`, after its last entry but before
        the blank lines that separate it from what follows (they stay at the end)."""
        trailing = _pop_trailing_comment(mapping)
        mapping[key] = value
        if trailing is not None:
            _attach_trailing_comment(mapping, trailing)


def _pop_trailing_comment(node: Any) -> Any:
    """The comment (blank lines, usually) after the last entry nested in `node`."""
    items = getattr(getattr(node, "ca", None), "items", None)
    if items is None or not len(node):
        return None
    last = list(node)[-1] if hasattr(node, "keys") else len(node) - 1
    child = node[last]
    if hasattr(child, "ca") and len(child):
        found = _pop_trailing_comment(child)
        if found is not None:
            return found
    slot = items.get(last)
    index = 2 if hasattr(node, "keys") else 0
    if slot and len(slot) > index and slot[index] is not None:
        comment = slot[index]
        slot[index] = None
        return comment
    return None


def _attach_trailing_comment(node: Any, comment: Any) -> None:
    last = list(node)[-1] if hasattr(node, "keys") else len(node) - 1
    child = node[last]
    if hasattr(child, "ca") and len(child) and hasattr(child, "keys"):
        _attach_trailing_comment(child, comment)
        return
    if hasattr(node, "keys"):
        node.ca.items[last] = [None, None, comment, None]
    else:
        node.ca.items[last] = [comment, None]


def _yaml(style: tuple[int, int, int]) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines that were written on one line
    mapping, sequence, offset = style
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    # Keep an explicit `null` written as `null` (ruamel's default writes nothing).
    yaml.representer.add_representer(
        type(None),
        lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null"),
    )
    return yaml


def _dump(yaml: Any, document: Any) -> str:
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _changed_lines(before: str, after: str) -> int:
    return sum(
        1
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )
