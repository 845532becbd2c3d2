"""Names a generated module keeps for itself."""

from __future__ import annotations

__all__ = ["RESERVED_NAMES"]

#: Names the generated module imports or defines besides the models: a schema of one of
#: these names would shadow it and break every builder.
RESERVED_NAMES = frozenset(
    {
        "Any", "Literal", "Mapping", "TypeAlias", "annotations", "field", "frozen",
        "Call", "FileInput", "ModeT", "Namespace", "OpenEnum", "OpenStrEnum", "StreamCall",
        "TaskCall", "drop_none", "operation", "streamable", "streaming", "task", "Sequence",
    }
)  # fmt: skip
