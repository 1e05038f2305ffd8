"""Every parameter of every task type, read from the registry's schemas, sent with wrong types,
out-of-range, empty and huge values, unicode and NUL: through REST (a live server) and through
``run --data``. A value the schema forbids is a 4xx / exit 2 naming the field; nothing is a 5xx
or a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import app_for
from tui_updater.__main__ import main
from tui_updater.core.capabilities import is_sql_field
from tui_updater.runtime import Runtime
from tui_updater.tasks.registry import default_registry

REGISTRY = default_registry(load_entry_points=False)
TYPE_NAMES = REGISTRY.names()
HUGE_TEXT = "x" * 100_000


@dataclass(frozen=True)
class Case:
    field: str
    label: str
    value: Any
    refused: bool  # the schema forbids it: 4xx / exit 2 naming the field


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str):
        return dict(schema["$defs"][ref.rsplit("/", 1)[-1]])
    return node


def _branches(schema: dict[str, Any], node: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The non-null alternatives of a property and whether null is allowed."""
    node = _resolve(schema, node)
    options = [_resolve(schema, b) for b in node.get("anyOf", [node])]
    real = [b for b in options if b.get("type") != "null"]
    return real, len(real) < len(options)


def _valid_scalar(node: dict[str, Any]) -> Any:
    if node.get("enum"):
        return node["enum"][0]
    kind = node.get("type")
    if kind == "integer":
        return int(node.get("minimum", 1))
    if kind == "boolean":
        return False
    return "SELECT 1;" if is_sql_field(node) else "x"


def valid_value(schema: dict[str, Any], name: str) -> Any:
    node = schema["properties"][name]
    if "default" in node and node["default"] is not None:
        return node["default"]
    branch = _branches(schema, node)[0][0]
    if branch.get("type") == "array":
        return [_valid_scalar(_branches(schema, branch.get("items", {}))[0][0])]
    return _valid_scalar(branch)


def base_data(schema: dict[str, Any]) -> dict[str, Any]:
    return {name: valid_value(schema, name) for name in schema.get("required", [])}


def _scalar_cases(node: dict[str, Any], types: set[str]) -> Iterator[tuple[str, Any, bool | None]]:
    wrong_types = [
        ("string-number", "5", "string"),
        ("string-off", "off", "string"),
        ("float", 1.5, "number"),
        ("whole-float", 5.0, "number"),
        ("number", 1, "integer"),
        ("boolean", True, "boolean"),
        ("list", ["x"], "array"),
        ("object", {"k": 1}, "object"),
    ]
    for label, value, json_type in wrong_types:
        # A JSON Schema "number" takes whole numbers too (a budget's maxCost of 1).
        if json_type not in types and not (json_type == "integer" and "number" in types):
            yield label, value, True
    if "integer" in types:
        if "minimum" in node:
            yield "below-minimum", int(node["minimum"]) - 1, True
        if "maximum" in node:
            yield "above-maximum", int(node["maximum"]) + 1, True
        yield "huge-integer", 10**30, "maximum" in node
        yield "huge-negative", -(10**30), "minimum" in node
    if "string" in types and not node.get("enum"):
        yield "empty-string", "", node.get("minLength", 0) > 0
        yield "blank-string", "   ", None
        yield "nul", "a\x00b", True
        yield "unicode", "名前 ☃ \u202e", None
        yield "huge-string", HUGE_TEXT, len(HUGE_TEXT) > node.get("maxLength", 10**9) or None
    if node.get("enum"):
        yield "not-a-choice", "nope", True


def field_cases(schema: dict[str, Any], name: str) -> list[Case]:
    branches, nullable = _branches(schema, schema["properties"][name])
    cases: list[tuple[str, Any, bool | None]] = []
    if not nullable:
        cases.append(("null", None, True))
    arrays = [b for b in branches if b.get("type") == "array"]
    if arrays:
        items, _ = _branches(schema, arrays[0].get("items", {}))
        item_types = {str(b.get("type")) for b in items}
        cases += [("string-not-list", "abc", True), ("number-not-list", 5, True)]
        cases.append(("empty-list", [], True if name == "characterIds" else None))
        if arrays[0].get("minItems", 0) > 0:
            cases[-1] = ("empty-list", [], True)
        cases.append(("null-item", [None], True))
        cases.append(("nested-list", [["x"]], True))
        for label, value, refused in _scalar_cases(items[0], item_types):
            cases.append((f"item-{label}", [value], refused))
        cases.append(("huge-list", [_valid_scalar(items[0])] * 20_000, None))
    else:
        types = {str(b.get("type")) for b in branches}
        cases += list(_scalar_cases(branches[0], types))
    return [Case(name, label, value, bool(refused)) for label, value, refused in cases]


def sweep(type_name: str) -> list[Case]:
    schema = REGISTRY.get(type_name).params_schema()
    return [case for name in schema["properties"] for case in field_cases(schema, name)]


def data_for(type_name: str, case: Case) -> dict[str, Any]:
    schema = REGISTRY.get(type_name).params_schema()
    return {**base_data(schema), case.field: case.value}


def test_the_sweep_covers_every_declared_parameter() -> None:
    for type_name in TYPE_NAMES:
        properties = REGISTRY.get(type_name).params_schema()["properties"]
        swept = {case.field for case in sweep(type_name)}
        assert swept == set(properties), type_name
        assert all(any(c.refused for c in sweep(type_name) if c.field == f) for f in properties)


@pytest.mark.parametrize("type_name", TYPE_NAMES)
async def test_rest_answers_every_bad_parameter_with_a_4xx_naming_it(
    demo_runtime: Runtime, tmp_path: Path, live_server: Any, type_name: str
) -> None:
    server = await live_server(app_for(demo_runtime.service, tmp_path))
    wrong: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as api:
        assert (await api.post("/api/queue/pause")).status_code == 200  # nothing runs
        for case in sweep(type_name):
            response = await api.post(
                "/api/tasks", json={"type": type_name, "data": data_for(type_name, case)}
            )
            text = response.text
            if response.status_code >= 500:
                wrong[f"{case.field}/{case.label}"] = f"{response.status_code} {text[:200]}"
            elif case.refused and not (400 <= response.status_code < 500 and case.field in text):
                wrong[f"{case.field}/{case.label}"] = f"{response.status_code} {text[:200]}"
    assert wrong == {}


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``run`` configures the tui_updater logger for a process; put it back for later tests."""
    logger = logging.getLogger("tui_updater")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield
    for handler in logger.handlers:
        if handler not in saved[0]:
            handler.close()
    logger.handlers[:], logger.propagate, logger.level = saved


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_run_data_exits_2_naming_every_bad_parameter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: None, type_name: str
) -> None:
    dirs = ["--data-dir", "--state-dir", "--log-dir", "--backup-dir", "--avatar-dir"]
    paths = [part for flag in dirs for part in (flag, str(tmp_path / flag.strip("-")))]
    wrong: dict[str, str] = {}
    for case in (c for c in sweep(type_name) if c.refused):
        data = json.dumps(data_for(type_name, case))
        code = main(["run", type_name, "--demo", "--offline", "--data", data, *paths])
        err = capsys.readouterr().err
        if code != 2 or case.field not in err or "Traceback" in err:
            wrong[f"{case.field}/{case.label}"] = f"exit {code}: {err[-300:]}"
    assert wrong == {}
