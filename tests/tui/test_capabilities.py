"""What differs between task types reaches the dashboard through the types' schemas: the same
task behaves differently when its type's schema declares other capabilities, never by its name."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.conftest import wait_for
from tests.tui.fake_service import TYPES, FakeService, fixed_clock
from tui_updater.core.capabilities import CAPABILITIES_KEY
from tui_updater.core.service import TaskTypeInfo
from tui_updater.tui.app import TavernApp
from tui_updater.tui.screens.confirm import ConfirmScreen

SETTINGS = "CHARACTER_SETTINGS"  # the fake's running task, the first row


class DeclaringService(FakeService):
    """The fake's types, with the capabilities in their schemas replaced by ``declared``."""

    def __init__(self, declared: dict[str, dict[str, Any]]) -> None:
        super().__init__()
        self.declared = declared

    async def task_types(self) -> list[TaskTypeInfo]:
        return [
            TaskTypeInfo(
                info.name,
                info.title,
                info.description,
                {**info.params_schema, CAPABILITIES_KEY: self.declared.get(info.name, {})},
            )
            for info in TYPES
        ]


async def cancel_first_row(service: FakeService) -> str | None:
    """Press x on the running settings task; the confirmation asked, if any."""
    app = TavernApp(service, clock=fixed_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(
            pilot, lambda: app.table.row_count == 3 and bool(app.task_types), what="rows"
        )
        await pilot.press("x")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, ConfirmScreen)
                or ("cancel", app.table.selected_task_id) in service.calls
            ),
            what="confirmation or cancel",
        )
        screen = app.screen
        return screen.question if isinstance(screen, ConfirmScreen) else None


async def test_cancelling_asks_first_only_when_the_schema_says_destructive() -> None:
    assert await cancel_first_row(FakeService()) is None
    service = DeclaringService({SETTINGS: {"destructive": True}})
    question = await cancel_first_row(service)
    assert question is not None and "half-applied character settings" in question
    assert not [c for c in service.calls if c[0] == "cancel"]


@pytest.mark.parametrize(
    ("declared", "expected"),
    [({}, "Fields edited since"), ({"makesBackups": True}, "Restore the backup")],
)
async def test_revert_wording_follows_makes_backups(
    declared: dict[str, Any], expected: str
) -> None:
    app = TavernApp(DeclaringService({SETTINGS: declared}), clock=fixed_clock)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(
            pilot, lambda: app.table.row_count == 3 and bool(app.task_types), what="rows"
        )
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert expected in app.screen.question  # type: ignore[attr-defined]


def type_cells(app: TavernApp) -> list[str]:
    return [str(app.table.get_cell(row.key, "type")) for row in app.table.ordered_rows]


async def test_compact_columns_show_the_declared_short_names() -> None:
    app = TavernApp(DeclaringService({SETTINGS: {"shortName": "PERSONA"}}), clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(
            pilot, lambda: app.table.row_count == 3 and bool(app.task_types), what="rows"
        )
        assert app.table.compact
        await wait_for(pilot, lambda: type_cells(app)[0] == "PERSONA", what="declared short name")
        # nothing declared for the other two here: their full names
        assert type_cells(app) == ["PERSONA", "CHARACTER_AVATAR", "MBTI_ASSIGNMENT"]
