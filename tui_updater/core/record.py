"""Record: the frozen pydantic base of every record. Its JSON (camelCase, ``_ms`` dropped) and its
construction derive from the field declarations; nothing per record is written by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self, dataclass_transform

from pydantic import BaseModel, ConfigDict, Field
from pydantic._internal._model_construction import ModelMetaclass
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticUndefined

_set = object.__setattr__  # frozen records refuse their own __setattr__
_new = object.__new__


def json_name(field_name: str) -> str:
    """The JSON key of a field: ``created_at_ms`` → ``createdAt``, ``task_id`` → ``taskId``."""
    return to_camel(field_name.removesuffix("_ms"))


def json_key(
    key: str, *, default: Any = PydanticUndefined, default_factory: Callable[[], Any] | None = None
) -> Any:
    """A field whose JSON key is not derived from its name (``finished_at_ms`` → "completedAt").

    Not ``Field(alias=…)``: to a type checker an alias renames the constructor's parameter too."""
    if default_factory is not None:
        return Field(default_factory=default_factory, validation_alias=key, serialization_alias=key)
    return Field(default, validation_alias=key, serialization_alias=key)


# Records are built positionally all over the code base (``ItemRecord(task_id, seq, key, label)``),
# as the dataclasses they replace allowed; pydantic declares its fields keyword-only to type
# checkers, so this metaclass restates the transform with positional fields.
@dataclass_transform(frozen_default=True, field_specifiers=(Field, json_key))
class _RecordMeta(ModelMetaclass):
    pass


class Record(BaseModel, metaclass=_RecordMeta):
    """Frozen, validated on construction by field name; JSON keys by alias, on input and output."""

    model_config = ConfigDict(
        defer_build=True,
        frozen=True,
        alias_generator=json_name,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )
    # The field names in declaration order, cached: pydantic's own mapping is a lookup per access.
    __record_fields__: ClassVar[tuple[str, ...]] = ()
    __record_field_set__: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.__record_fields__ = tuple(cls.__pydantic_fields__)
        cls.__record_field_set__ = frozenset(cls.__record_fields__)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args:
            names = type(self).__record_fields__
            if len(args) > len(names):
                raise TypeError(f"{type(self).__name__} takes at most {len(names)} arguments")
            # One dict in C, not a loop: records are built positionally on the engine's hot path.
            given = dict(zip(names, args, strict=False))
            if kwargs:
                twice = given.keys() & kwargs.keys()
                if twice:
                    raise TypeError(f"{type(self).__name__} got two values for {min(twice)!r}")
                given.update(kwargs)
            kwargs = given
        # By field name only: TaskTypeInfo's ``title`` has the JSON key "name", which must never
        # be read as its ``name`` field. JSON comes in through ``from_json``, by alias only.
        self.__pydantic_validator__.validate_python(
            kwargs, self_instance=self, by_alias=False, by_name=True
        )

    # Marks this __init__ as pydantic's own (as RootModel does), so validating JSON does not route
    # through it; without the mark model_validate would call it with the JSON keys.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """A record from values known to be valid (rows of our own store): every field given, no
        validation. Several times cheaper than validating, and than ``model_construct``."""
        if values.keys() != cls.__record_field_set__:
            raise TypeError(f"{cls.__name__} needs exactly its fields, got {sorted(values)}")
        record = _new(cls)  # _from_dict inlined, as in evolve: rows and sums on the hot path
        _set(record, "__dict__", values)
        _set(record, "__pydantic_fields_set__", set(values))
        _set(record, "__pydantic_extra__", None)
        _set(record, "__pydantic_private__", None)
        return record

    def evolve(self, **changes: Any) -> Self:
        """A copy with some fields changed (not validated: the engine's hot path). Names are
        checked.

        Not validating is safe because every caller is our own code changing fields to values of
        their declared types (the values themselves came from validated records or from
        constructors typed by mypy); pydantic's ``model_copy(update=…)`` makes the same choice."""
        cls = type(self)
        if not cls.__record_field_set__.issuperset(changes):
            unknown = sorted(set(changes) - cls.__record_field_set__)
            raise TypeError(f"{cls.__name__} has no field {unknown[0]!r}")
        # _from_dict inlined (a call fewer, ~10 per task): the same four slots, the given-field
        # set shared, as a frozen record's never changes.
        record = _new(cls)
        _set(record, "__dict__", self.__dict__ | changes)
        _set(record, "__pydantic_fields_set__", self.__pydantic_fields_set__)
        _set(record, "__pydantic_extra__", self.__pydantic_extra__)
        _set(record, "__pydantic_private__", None)
        return record

    @classmethod
    def _from_dict(
        cls,
        values: dict[str, Any],
        fields_set: set[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Self:
        record = cls.__new__(cls)
        _set(record, "__dict__", values)
        # Shared with the original: a frozen record's set of given fields never changes.
        _set(record, "__pydantic_fields_set__", set(values) if fields_set is None else fields_set)
        _set(record, "__pydantic_extra__", extra)
        _set(record, "__pydantic_private__", None)
        return record

    def to_json(self) -> dict[str, Any]:
        """The record as the API and the WebSocket send it."""
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """The record from its JSON (as ``to_json`` wrote it); raises pydantic's ValidationError."""
        return cls.model_validate(data, by_alias=True, by_name=False)
