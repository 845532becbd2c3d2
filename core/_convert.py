"""The one cattrs converter that reads bodies into generated models and back.

Field names equal wire names except where the generator recorded another wire name
in the field's metadata (`metadata={"wire": "from"}`). Unknown keys in a body are
ignored by the models (the whole body stays on `Result.raw`); unknown enum values
become pseudo-members of `OpenEnum`. cattrs is imported on first use.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._errors import ResponseShapeError

if TYPE_CHECKING:
    import cattrs

__all__ = ["structure", "unstructure"]


@functools.lru_cache(maxsize=1)
def _converter() -> cattrs.Converter:
    import cattrs
    from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

    converter = cattrs.Converter(forbid_extra_keys=False)

    def renames(cls: type) -> dict[str, Any]:
        return {
            field.name: override(rename=field.metadata["wire"])
            for field in attrs.fields(cls)
            if "wire" in field.metadata
        }

    def structure_factory(cls: type) -> Any:
        read: Callable[[Any, Any], Any] = make_dict_structure_fn(cls, converter, **renames(cls))
        fills = _single_values(cls)
        extra = _additional_field(cls)
        named = {field.metadata.get("wire", field.name) for field in attrs.fields(cls)}

        def from_object(value: Any, kind: Any) -> Any:
            # cattrs would read any container (a string included) as an object whose
            # optional fields are all missing: a model needs a JSON object.
            if not isinstance(value, dict):
                raise ValueError(f"expected a JSON object, got {type(value).__name__}")
            if fills and fills.keys() - value.keys():
                value = {**fills, **value}
            if extra is not None:
                rest = {key: item for key, item in value.items() if key not in named}
                value = {key: item for key, item in value.items() if key in named}
                value[extra] = rest
            return read(value, kind)

        return from_object

    def unstructure_factory(cls: type) -> Any:
        plain: Callable[[Any], dict[str, Any]] = make_dict_unstructure_fn(
            cls, converter, **renames(cls)
        )
        extra = _additional_field(cls)

        def without_nones(instance: Any) -> dict[str, Any]:
            body = {key: value for key, value in plain(instance).items() if value is not None}
            if extra is not None:
                body = {**body.pop(extra, {}), **body}
            return body

        return without_nones

    # Registered first, so the more specific union hooks below take precedence.
    converter.register_structure_hook_factory(
        _is_union, lambda kind: _json_union_hook(kind, converter)
    )
    converter.register_structure_hook_factory(_is_list, lambda kind: _list_hook(kind, converter))
    converter.register_structure_hook_factory(_is_scalar_union, _scalar_union_hook)
    converter.register_structure_hook_factory(
        _is_model_union, lambda kind: _model_union_hook(kind, converter)
    )
    converter.register_structure_hook_factory(attrs.has, structure_factory)
    converter.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    converter.register_unstructure_hook(enum.Enum, lambda member: member.value)
    return converter


def _single_values(cls: type) -> dict[str, Any]:
    """The required fields of `cls` that allow one value only (`Literal["square"]`, as
    a discriminated `oneOf` member pins its discriminator), by wire name: an answer
    that leaves such a property out still says which member it is."""
    hints = typing.get_type_hints(cls)
    found = {}
    for field in attrs.fields(cls):
        hint = hints.get(field.name)
        if field.default is attrs.NOTHING and typing.get_origin(hint) is Literal:
            values = typing.get_args(hint)
            if len(values) == 1:
                found[field.metadata.get("wire", field.name)] = values[0]
    return found


def _additional_field(cls: type) -> str | None:
    """The field that keeps the keys `cls`'s schema does not name, if it has one."""
    return next((f.name for f in attrs.fields(cls) if f.metadata.get("additional")), None)


_SCALARS = (str, int, float, bool, type(None))


def _is_union(kind: Any) -> bool:
    return typing.get_origin(kind) in (typing.Union, types.UnionType)


def _is_scalar_union(kind: Any) -> bool:
    """`Status | str | None`, `int | str` and the like: unions of enums and JSON scalars."""
    if not _is_union(kind):
        return False
    return all(m in _SCALARS or _is_enum(m) for m in typing.get_args(kind))


def _is_model_union(kind: Any) -> bool:
    """`A | B | None` where A and B are generated models."""
    if not _is_union(kind):
        return False
    members = [m for m in typing.get_args(kind) if m is not type(None)]
    return len(members) >= 2 and all(attrs.has(m) for m in members)


def _model_union_hook(kind: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """Read a body into the member whose fields best match its keys.

    Providers' answers rarely carry a discriminator, and every field of a tolerant
    model is optional, so "the first that fits" would always pick the first member.
    Members are tried by how many of the body's keys they know; the first that
    structures (Literal fields included) wins.
    """
    members = [m for m in typing.get_args(kind) if m is not type(None)]
    optional = type(None) in typing.get_args(kind)
    known = {
        member: {field.metadata.get("wire", field.name) for field in attrs.fields(member)}
        for member in members
    }

    def structure_member(value: Any, _: Any) -> Any:
        if value is None and optional:
            return None
        keys = set(value) if isinstance(value, dict) else set()
        ranked = sorted(members, key=lambda member: -len(keys & known[member]))
        errors = []
        for member in ranked:
            try:
                return converter.structure(value, member)
            except Exception as exc:
                errors.append(exc)
        # The member that knows most of the keys is the likely intent: say why it failed.
        raise ValueError(
            f"fits none of {', '.join(m.__name__ for m in members)}; as {ranked[0].__name__}: "
            + "; ".join(_reasons(errors[0]))
        )

    return structure_member


def _reasons(error: Exception) -> list[str]:
    """What cattrs found wrong, one line per problem, paths from the member's root."""
    import cattrs

    if isinstance(error, cattrs.BaseValidationError):
        return cattrs.transform_error(error, path="$")
    return [str(error)]


def _is_list(kind: Any) -> bool:
    return typing.get_origin(kind) is list or kind is list


def _list_hook(kind: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """A JSON array, item by item; anything else (an object, whose keys cattrs would
    iterate as if they were items) is an error."""
    import cattrs
    from cattrs.errors import IterableValidationNote

    args = typing.get_args(kind)
    item = args[0] if args else Any
    # Looked up on first use and kept (when the hook is made, a model that contains
    # itself would recurse).
    hook = functools.cache(functools.partial(converter.get_structure_hook, item))

    def structure_list(value: Any, _: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValueError(f"expected a JSON array, got {_json_kind(value)}")
        items, errors = [], []
        read = hook()
        for index, entry in enumerate(value):
            try:
                items.append(read(entry, item))
            except Exception as exc:
                note = IterableValidationNote(f"Structuring {kind} @ index {index}", index, item)
                # cattrs reads the item's index from the note (Python 3.10 has no add_note).
                setattr(exc, "__notes__", [*getattr(exc, "__notes__", []), note])  # noqa: B010
                errors.append(exc)
        if errors:
            raise cattrs.IterableValidationError(f"While structuring {kind!r}", errors, kind)
        return items

    return structure_list


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return kinds.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _json_union_hook(kind: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    """Any other union (containers beside scalars, `Any` from a `{}` branch): the members
    whose JSON kind matches the value are tried in order, the first that reads wins."""
    members = typing.get_args(kind)
    if Any in members:
        return lambda value, _: value  # one branch takes anything: keep it as it came
    # Which JSON kind each member reads, worked out once: this runs for every value.
    plan = [(member, typing.get_origin(member) or member, _taker(member)) for member in members]
    optional = [(member, takes) for member, _, takes in plan if member is not type(None)]
    if len(optional) == 1 and len(plan) == 2:
        # `X | None`, most optional fields: no choosing between members to do.
        (only, only_takes) = optional[0]
        hook = functools.cache(functools.partial(converter.get_structure_hook, only))

        def structure_optional(value: Any, _: Any) -> Any:
            if value is None:
                return None
            if not only_takes(value):
                raise ValueError(f"{_json_kind(value)} fits none of {kind}")
            return hook()(value, only)

        return structure_optional

    def structure_member(value: Any, _: Any) -> Any:
        if value is None and type(None) in members:
            return None
        errors = []
        fitting = [(member, origin) for member, origin, takes in plan if takes(value)]
        exact = [member for member, origin in fitting if origin is type(value)]
        for member in [*exact, *(m for m, _ in fitting if m not in exact)]:
            try:
                return converter.structure(value, member)
            except Exception as exc:
                errors.append(exc)
        reason = f": {errors[-1]}" if errors else ""
        raise ValueError(f"{_json_kind(value)} fits none of {kind}{reason}")

    return structure_member


def _taker(member: Any) -> Callable[[Any], bool]:
    """Whether `member` reads values of a value's JSON kind, as a test of the value."""
    origin = typing.get_origin(member) or member
    if origin in (dict, typing.Mapping) or attrs.has(origin):
        return lambda value: isinstance(value, dict)
    if origin in (list, tuple, typing.Sequence):
        return lambda value: isinstance(value, list)
    if origin is typing.Literal:
        allowed = typing.get_args(member)
        return lambda value: value in allowed
    if _is_enum(origin):
        return lambda value: isinstance(value, str | int) and not isinstance(value, bool)
    if origin is bool:
        return lambda value: isinstance(value, bool)
    if origin is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if origin is float:
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    if origin is str:
        return lambda value: isinstance(value, str)
    takes_any = origin is not type(None)
    return lambda value: takes_any


def _is_enum(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, enum.Enum)


def _scalar_union_hook(kind: Any) -> Callable[[Any, Any], Any]:
    members = typing.get_args(kind)
    enums = [m for m in members if _is_enum(m)]
    plain = tuple(m for m in members if m in _SCALARS)
    # Worked out once: this runs for most fields of every answer.
    by_value: dict[Any, Any] = {}
    for kind_ in reversed(enums):  # the first enum that has a value wins
        by_value.update({member.value: member for member in kind_})
    takes_float = float in plain

    def structure_member(value: Any, _: Any) -> Any:
        if value is None and type(None) in plain:
            return None
        if by_value and value.__hash__ is not None:
            member = by_value.get(value)  # a member is never None (a str enum's "" is falsy)
            if member is not None:
                return member
        if type(value) in plain:
            return value
        if enums:
            return enums[0](value)  # OpenEnum keeps unknown values
        if takes_float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"{value!r} is none of {kind}")

    return structure_member


def structure(payload: Any, model: Any, *, operation: str) -> Any:
    """Read `payload` into `model`; a mismatch raises `ResponseShapeError`."""
    if model is Any or model is None:
        return payload
    takes_bytes, json_model = _split_binary(model)
    if isinstance(payload, bytes | bytearray):
        if takes_bytes:
            return bytes(payload)
        raise ResponseShapeError(operation, ["body: expected JSON, got a binary answer"], payload)
    if json_model is None:
        raise ResponseShapeError(operation, ["body: expected a binary answer"], payload)
    import cattrs

    try:
        return _converter().structure(payload, json_model)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, cattrs.BaseValidationError):
            problems = cattrs.transform_error(exc, path="body")
        else:
            problems = [f"body: {exc}"]
        raise ResponseShapeError(operation, problems, payload) from exc


@functools.lru_cache(maxsize=4096)
def _split_binary(model: Any) -> tuple[bool, Any]:
    """Whether `model` takes a binary answer, and what reads a JSON one (None: nothing)."""
    members = typing.get_args(model) if _is_union(model) else (model,)
    rest = tuple(member for member in members if member is not bytes)
    if len(rest) == len(members):
        return False, model
    if not rest:
        return True, None
    return True, rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007


def unstructure(value: Any) -> Any:
    """Turn models, enums and containers of them into plain JSON values."""
    if isinstance(value, dict):
        return {key: unstructure(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [unstructure(item) for item in value]
    if attrs.has(type(value)) or isinstance(value, enum.Enum):
        return _converter().unstructure(value)
    return value
