"""Form fields generated from parameter schemas: kinds, bounds and value parsing."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field
from textual.app import App, ComposeResult

from tui_updater.tasks.base import TaskParams
from tui_updater.tasks.settings import SettingsParams
from tui_updater.tasks.upgrade import DatabaseUpgradeParams
from tui_updater.tui.fields import FieldError, FieldSpec, build_widget, field_specs


class NewTypeParams(TaskParams):
    """A type the UI has never seen: it still gets a form."""

    ratio: float = Field(0.5, ge=0, le=1)
    mode: Literal["fast", "careful"] = "fast"
    note: str | None = Field(None, max_length=10)
    limit: int | None = Field(None, ge=1, le=9)
    tags: list[str] = Field(default_factory=list)
    sizes: list[int] = Field(default_factory=list)


class WidgetsOnly(App[None]):
    """An app showing just the widgets of some field specs."""

    def __init__(self, specs: list[FieldSpec]) -> None:
        super().__init__()
        self.specs = specs

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            yield build_widget(spec)


def kinds(params: type[TaskParams]) -> dict[str, str]:
    return {spec.name: spec.kind for spec in field_specs(params.model_json_schema())}


def test_kinds_follow_the_schema() -> None:
    assert kinds(SettingsParams) == {
        "characterIds": "list",
        "review": "bool",
        "maxTokens": "int",  # a budget: every character task may carry one
        "maxCost": "number",
        "updateFields": "choices",
        "overwrite": "bool",
        "batchSize": "int",
        "concurrency": "int",
    }
    assert kinds(DatabaseUpgradeParams)["migrationScript"] == "sql"
    assert kinds(NewTypeParams) == {
        "ratio": "number",
        "mode": "choice",
        "note": "text",
        "limit": "int",
        "tags": "list",
        "sizes": "list",
    }


def test_bounds_defaults_and_requirement_are_kept() -> None:
    specs = {s.name: s for s in field_specs(NewTypeParams.model_json_schema())}
    assert (specs["limit"].minimum, specs["limit"].maximum) == (1, 9)
    assert specs["ratio"].default == 0.5
    assert specs["mode"].choices == ("fast", "careful")
    assert specs["note"].max_length == 10
    upgrade = {s.name: s for s in field_specs(DatabaseUpgradeParams.model_json_schema())}
    assert upgrade["migrationScript"].required and not upgrade["dryRun"].required


async def test_a_new_type_gets_widgets_without_ui_code() -> None:
    from textual.widgets import Input, Select

    from tui_updater.tui.fields import read_value

    specs = field_specs(NewTypeParams.model_json_schema())

    app = WidgetsOnly(specs)
    async with app.run_test() as pilot:
        assert isinstance(app.query_one("#field-mode"), Select)
        limit = app.query_one("#field-limit", Input)
        limit.value = "12"
        await pilot.pause()
        spec = next(s for s in specs if s.name == "limit")
        with pytest.raises(FieldError, match="between 1 and 9"):
            read_value(spec, limit)
        limit.value = ""
        assert read_value(spec, limit) == (False, None)  # optional: the schema default applies
        tags = app.query_one("#field-tags", Input)
        tags.value = "a, 2"
        assert read_value(next(s for s in specs if s.name == "tags"), tags) == (True, ["a", "2"])
        sizes_spec = next(s for s in specs if s.name == "sizes")
        sizes = app.query_one("#field-sizes", Input)
        sizes.value = "3, 12"
        assert read_value(sizes_spec, sizes) == (True, [3, 12])
        sizes.value = "3, x"
        with pytest.raises(FieldError, match="not a number"):
            read_value(sizes_spec, sizes)


async def test_every_task_type_form_submits_values_its_strict_schema_accepts() -> None:
    """The form converts its own text: what it reads passes the strict parameter models."""
    from textual.widgets import Input, TextArea

    from tui_updater.tasks.registry import default_registry
    from tui_updater.tui.fields import read_value

    for task_type in default_registry(load_entry_points=False).all():
        specs = field_specs(task_type.params_schema())

        app = WidgetsOnly(specs)
        async with app.run_test() as pilot:
            for spec in specs:
                widget = app.query_one(f"#{spec.widget_id}")
                if isinstance(widget, TextArea):
                    widget.text = "SELECT 1;"
                elif isinstance(widget, Input) and spec.kind == "list":
                    widget.value = "007, 3"
                elif isinstance(widget, Input) and spec.kind == "int":
                    widget.value = str(int(spec.minimum or 1))
            await pilot.pause()
            data = {}
            for spec in specs:
                present, value = read_value(spec, app.query_one(f"#{spec.widget_id}"))
                if present:
                    data[spec.name] = value
            task_type.parse_params(data)  # raises InvalidParameters if the form sent a wrong type
            for spec in specs:
                if spec.kind == "list" and "string" in spec.item_types:
                    assert data[spec.name] == ["007", "3"], (task_type.name, spec.name)
