"""Form fields generated from a task type's parameter JSON schema, and reading their values.

A new task type gets a form with no UI code: each schema property becomes a widget by its type.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from textual.validation import Integer, Length, Number, Validator
from textual.widget import Widget
from textual.widgets import Input, Select, SelectionList, Switch, TextArea

from tui_updater.core.capabilities import is_sql_field

_INT_TOKEN = re.compile(r"-?\d+")

# What a number field lets the operator type, checked on every key. Textual's own patterns for
# ``type="integer"``/``"number"`` nest quantifiers (``(?:\d*|\d+_)*``) and backtrack exponentially
# when a long run of digits meets a refused character: one key can hold the event loop, which the
# engine shares, for minutes. These have no nested repetition, so a refusal costs one pass.
INTEGER_KEYS = r"[-+]?[0-9_]*"
NUMBER_KEYS = r"[-+]?[0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9_]*)?"


class FieldError(ValueError):
    """A field's value is unusable; the message says why."""


@dataclass(frozen=True)
class FieldSpec:
    """One parameter as the form sees it."""

    name: str
    title: str
    description: str
    kind: str  # bool, int, number, text, sql, choice, choices, list, json
    required: bool
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    min_items: int | None = None
    item_types: tuple[str, ...] = ()  # JSON types a list's items may have ("integer", "string")

    @property
    def widget_id(self) -> str:
        return f"field-{self.name}"

    @property
    def error_id(self) -> str:
        return f"error-{self.name}"


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(schema.get("$defs", {}).get(ref.split("/")[-1], {}))
    return node


def _non_null(schema: dict[str, Any], node: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The first non-null branch of an anyOf, and whether null was allowed."""
    node = _resolve(schema, node)
    branches = node.get("anyOf") or node.get("oneOf")
    if not branches:
        return node, node.get("type") == "null"
    nullable = any(b.get("type") == "null" for b in branches)
    real = [_resolve(schema, b) for b in branches if b.get("type") != "null"]
    if len(real) == 1:
        merged = {**{k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}, **real[0]}
        return merged, nullable
    return {
        **{k: v for k, v in node.items() if k not in ("anyOf", "oneOf")},
        "anyOf": real,
    }, nullable


def _title(name: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ")
    return words[:1].upper() + words[1:].lower()


def _kind(name: str, node: dict[str, Any], schema: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    kind = node.get("type")
    if kind == "boolean":
        return "bool", ()
    if kind == "integer":
        return "int", ()
    if kind == "number":
        return "number", ()
    if kind == "string":
        if node.get("enum"):
            return "choice", tuple(str(v) for v in node["enum"])
        if is_sql_field(node):
            return "sql", ()
        return "text", ()
    if kind == "array":
        items = _resolve(schema, node.get("items") or {})
        if items.get("enum"):
            return "choices", tuple(str(v) for v in items["enum"])
        return "list", ()
    return "json", ()


def _item_types(schema: dict[str, Any], node: dict[str, Any]) -> tuple[str, ...]:
    if node.get("type") != "array":
        return ()
    items = _resolve(schema, node.get("items") or {})
    branches = items.get("anyOf") or [items]
    return tuple(str(_resolve(schema, b).get("type")) for b in branches)


def field_specs(schema: dict[str, Any]) -> list[FieldSpec]:
    """The fields of a parameter schema, in declaration order."""
    required = set(schema.get("required", []))
    specs = []
    for name, raw in (schema.get("properties") or {}).items():
        node, _nullable = _non_null(schema, raw)
        kind, choices = _kind(name, node, schema)
        specs.append(
            FieldSpec(
                name=name,
                title=_title(name),
                description=str(raw.get("description") or node.get("description") or ""),
                kind=kind,
                required=name in required,
                default=raw.get("default", node.get("default")),
                minimum=node.get("minimum"),
                maximum=node.get("maximum"),
                min_length=node.get("minLength"),
                max_length=node.get("maxLength"),
                choices=choices,
                min_items=node.get("minItems"),
                item_types=_item_types(schema, node),
            )
        )
    return specs


def _placeholder(spec: FieldSpec) -> str:
    if spec.kind == "list":
        return "comma-separated; empty = all candidates"
    bounds = ""
    if spec.minimum is not None or spec.maximum is not None:
        low = "" if spec.minimum is None else f"{spec.minimum:g}"
        high = "" if spec.maximum is None else f"{spec.maximum:g}"
        bounds = f" ({low}–{high})"
    return ("required" if spec.required else "optional") + bounds


def build_widget(spec: FieldSpec) -> Widget:
    """The input widget for one field, with its validators and default value."""
    wid = spec.widget_id
    if spec.kind == "bool":
        return Switch(value=bool(spec.default), id=wid)
    if spec.kind == "choices":
        defaults = set(spec.default) if isinstance(spec.default, list) else set(spec.choices)
        return SelectionList[str](*((c, c, c in defaults) for c in spec.choices), id=wid)
    if spec.kind == "choice":
        options = [(c, c) for c in spec.choices]
        return Select(
            options,
            value=spec.default if spec.default in spec.choices else Select.BLANK,
            allow_blank=not spec.required,
            id=wid,
        )
    if spec.kind == "sql":
        try:
            # tab must move to the next field, as the form's hint says, not indent
            return TextArea.code_editor("", language="sql", tab_behavior="focus", id=wid)
        except Exception:  # no tree-sitter grammar installed: a plain editor still works
            return TextArea("", id=wid)
    validators: list[Validator] = []
    restrict: str | None = None  # never Input's type="integer"/"number": see INTEGER_KEYS
    if spec.kind == "int":
        validators.append(Integer(minimum=spec.minimum, maximum=spec.maximum))
        restrict = INTEGER_KEYS
    elif spec.kind == "number":
        validators.append(Number(minimum=spec.minimum, maximum=spec.maximum))
        restrict = NUMBER_KEYS
    elif spec.kind == "text" and (spec.min_length is not None or spec.max_length is not None):
        validators.append(Length(minimum=spec.min_length, maximum=spec.max_length))
    value = ""
    if spec.default is not None and spec.kind in ("int", "number", "text"):
        value = str(spec.default)
    elif spec.default is not None and spec.kind == "list":
        value = ", ".join(str(v) for v in spec.default)
    return Input(
        value=value,
        placeholder=_placeholder(spec),
        restrict=restrict,
        validators=validators,
        valid_empty=not spec.required,
        id=wid,
    )


def _list_item(spec: FieldSpec, token: str) -> Any:
    """One comma-separated token as the JSON type the schema declares (parameters are strict):
    text stays text where strings are allowed (ids such as "007" keep their zeros), and a
    number list gets numbers."""
    if "string" in spec.item_types or not spec.item_types:
        return token
    if "integer" in spec.item_types and _INT_TOKEN.fullmatch(token):
        return int(token)
    if "number" in spec.item_types:
        try:
            return float(token)
        except ValueError:
            pass
    raise FieldError(f"{token[:40]!r} is not a number")


def write_value(spec: FieldSpec, widget: Widget, value: Any) -> None:
    """Show ``value`` in a field's widget (the inverse of ``read_value``: a form prefilled)."""
    if isinstance(widget, Switch):
        widget.value = bool(value)
    elif isinstance(widget, SelectionList):
        widget.deselect_all()
        for choice in value or ():
            widget.select(choice)
    elif isinstance(widget, Select):
        widget.value = Select.BLANK if value is None else value
    elif isinstance(widget, TextArea):
        widget.load_text("" if value is None else str(value))
    elif isinstance(widget, Input):
        if value is None:
            widget.value = ""
        elif spec.kind == "list" and isinstance(value, list | tuple):
            widget.value = ", ".join(str(v) for v in value)
        elif spec.kind == "json" or isinstance(value, dict | list):
            widget.value = json.dumps(value, ensure_ascii=False)
        else:
            widget.value = str(value)


def read_value(spec: FieldSpec, widget: Widget) -> tuple[bool, Any]:
    """(present, value) of a field; absent optional fields fall back to the schema default."""
    if isinstance(widget, Switch):
        return True, widget.value
    if isinstance(widget, SelectionList):
        selected = list(widget.selected)
        if spec.min_items and len(selected) < spec.min_items:
            raise FieldError(f"choose at least {spec.min_items}")
        return True, selected
    if isinstance(widget, Select):
        if widget.value is Select.BLANK:
            if spec.required:
                raise FieldError("required")
            return False, None
        return True, widget.value
    if isinstance(widget, TextArea):
        text = widget.text
        if not text.strip():
            if spec.required:
                raise FieldError("required: SQL text or the path of a .sql file")
            return False, None
        return True, text
    if not isinstance(widget, Input):
        return False, None
    raw = widget.value.strip()
    if not raw:
        if spec.required:
            raise FieldError("required")
        return False, None
    result = widget.validate(raw)
    if result is not None and not result.is_valid:
        raise FieldError("; ".join(result.failure_descriptions) or "invalid")
    if spec.kind == "int":
        return True, int(raw)
    if spec.kind == "number":
        return True, float(raw)
    if spec.kind == "list":
        tokens = [t.strip() for t in raw.split(",") if t.strip()]
        return bool(tokens), [_list_item(spec, token) for token in tokens]
    if spec.kind == "json":
        try:
            return True, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise FieldError(f"not valid JSON ({exc.msg})") from None
    return True, raw
