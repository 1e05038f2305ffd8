"""Rows of tasks.db derived from the records' fields: adding a field needs only a migration.

A field is the column of the same name (or a declared rename); a nested record's fields are
columns of their own (``counts.total`` → ``total``). Enums are stored by value, dicts as JSON
text, bools as 0/1; a NULL read for a field whose default is not None gives that default.
"""

from __future__ import annotations

import enum
import json
import operator
import sqlite3
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic_core import PydanticUndefined

from tui_updater.core.record import Record

R = TypeVar("R", bound=Record)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The C encoder behind ``_ENCODER.encode``, built once: ``encode`` builds one per call (two
# Python calls and an encoder object per dict column, four a task). No circular check: the dicts
# are JSON parameters and results, and a cycle still fails (RecursionError).
_C_ENCODE = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
)
_NO_DEFAULT = object()


def _encode_dict(value: dict[str, Any]) -> str:
    """A dict column's JSON text, as ``_ENCODER.encode`` writes it."""
    return "".join(_C_ENCODE(value, 0)) if value else "{}"


@dataclass(frozen=True)
class _Column:
    name: str
    field: str
    inner: str | None  # the nested record's field, for a flattened one
    encode: Callable[[Any], Any] | None
    decode: Callable[[Any], Any] | None
    null_default: Any  # what a NULL reads as, or _NO_DEFAULT to keep None


def _plain(annotation: Any) -> tuple[Any, bool]:
    """The type inside ``X | None``, and whether None was allowed."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(members) < len(typing.get_args(annotation))
        return (members[0] if len(members) == 1 else annotation), optional
    return annotation, False


def _codec(annotation: Any) -> tuple[Callable[[Any], Any] | None, Callable[[Any], Any] | None]:
    kind = typing.get_origin(annotation) or annotation
    if kind is dict:
        return _encode_dict, json.loads
    if kind is bool:
        return int, bool
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        if issubclass(kind, (str, int)):  # sqlite binds a str or int subclass as its value
            return None, kind
        return (lambda member: member.value), kind
    return None, None


def _null_default(field: Any, optional: bool) -> Any:
    if optional or field.default is None:
        return _NO_DEFAULT
    if field.default is not PydanticUndefined:
        return field.default
    return _NO_DEFAULT


class Rows(Generic[R]):
    """The columns of one table, and the conversion of its rows to and from ``model``."""

    def __init__(self, table: str, model: type[R], renames: Mapping[str, str] | None = None):
        self.table = table
        self._model = model
        self._nested: dict[str, type[Record]] = {}
        columns: list[_Column] = []
        for name, field in model.__pydantic_fields__.items():
            annotation, optional = _plain(field.annotation)
            if isinstance(annotation, type) and issubclass(annotation, Record):
                self._nested[name] = annotation
                for inner, inner_field in annotation.__pydantic_fields__.items():
                    inner_type, inner_optional = _plain(inner_field.annotation)
                    columns.append(
                        _Column(
                            inner,
                            name,
                            inner,
                            *_codec(inner_type),
                            _null_default(inner_field, inner_optional),
                        )
                    )
                continue
            column = (renames or {}).get(name, name)
            columns.append(
                _Column(column, name, None, *_codec(annotation), _null_default(field, optional))
            )
        self.columns = tuple(c.name for c in columns)
        self._columns = tuple(columns)
        self._plain = tuple(
            (c.name, c.field) for c in columns if c.inner is None and c.encode is None
        )
        self._coded = tuple(c for c in columns if c.inner is not None or c.encode is not None)
        plain_fields = [field for _, field in self._plain]
        self._take_plain: Callable[[dict[str, Any]], tuple[Any, ...]] = (
            operator.itemgetter(*plain_fields)
            if len(plain_fields) > 1
            else lambda values: tuple(values[field] for field in plain_fields)
        )
        into = f"INTO {table} ({', '.join(self.columns)}) VALUES "
        values = f"({', '.join(':' + c for c in self.columns)})"
        self.insert = f"INSERT {into}{values}"
        self.upsert = f"INSERT OR REPLACE {into}{values}"
        # The same statements with ``?`` parameters in the order ``row()`` fills its dict, for
        # ``tuple(row(r).values())``: sqlite binds a name per parameter, twice the cost of a place
        # on a task's 21 columns (the hot path writes seven rows a task).
        order = [name for name, _ in self._plain] + [c.name for c in self._coded]
        placed = f"INTO {table} ({', '.join(order)}) VALUES ({', '.join('?' * len(order))})"
        self.insert_placed = f"INSERT {placed}"
        self.upsert_placed = f"INSERT OR REPLACE {placed}"
        self.placed_columns = tuple(order)

    def placed(self, record: R) -> list[Any]:
        """The record's values in the order of ``insert_placed`` (a list: the caller may fill in
        a column it owns, such as an id). The same values as ``row()``, without a dict per row."""
        values = record.__dict__
        out = list(self._take_plain(values))  # one C call for the plain values
        for column in self._coded:
            value = values[column.field]
            if column.inner is not None:
                value = value.__dict__[column.inner]
            if value is not None and column.encode is not None:
                value = column.encode(value)
            out.append(value)
        return out

    def update_placed(self, keys: tuple[str, ...], columns: tuple[str, ...]) -> str:
        """An UPDATE of ``columns`` of the row found by ``keys``, taking ``placed()`` values as
        they are (numbered parameters pick each column's place)."""
        place = {name: n for n, name in enumerate(self.placed_columns, start=1)}
        sets = ", ".join(f"{c}=?{place[c]}" for c in columns)
        where = " AND ".join(f"{k}=?{place[k]}" for k in keys)
        return f"UPDATE {self.table} SET {sets} WHERE {where}"

    def row(self, record: R) -> dict[str, Any]:
        """The record as named SQL parameters, one per column."""
        values = record.__dict__
        # Plain columns first in one pass; the few encoded or nested ones after (hot path).
        row = {name: values[field] for name, field in self._plain}
        for column in self._coded:
            value = values[column.field]
            if column.inner is not None:
                value = value.__dict__[column.inner]
            if value is not None and column.encode is not None:
                value = column.encode(value)
            row[column.name] = value
        return row

    def record(self, row: sqlite3.Row) -> R:
        """The record from a row read by column name (our own data: not validated again)."""
        values: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {name: {} for name in self._nested}
        for column in self._columns:
            value = row[column.name]
            if value is None:
                if column.null_default is not _NO_DEFAULT:
                    value = column.null_default
            elif column.decode is not None:
                value = column.decode(value)
            if column.inner is None:
                values[column.field] = value
            else:
                nested[column.field][column.inner] = value
        for name, model in self._nested.items():
            values[name] = model.trusted(**nested[name])
        return self._model.trusted(**values)
