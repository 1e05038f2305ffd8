"""``schedules add|list|remove`` as a script sees it, alone and through a running owner; the
REST routes through the owner's socket (RemoteService)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.test_attach import demo_settings
from tests.test_cli import cli
from tui_updater.commands.attach import own_or_attach
from tui_updater.errors import InvalidParameters, ScheduleNotFound
from tui_updater.runtime import Runtime


def test_add_list_remove_without_an_owner(tmp_path: Path):
    added = cli(
        tmp_path,
        "schedules",
        "add",
        "CHARACTER_AVATAR",
        "--every",
        "5",
        "--max-tokens",
        "20000",
        "--name",
        "new faces",
        "--json",
        "--demo",
    )
    assert added.returncode == 0, added.stderr
    schedule = json.loads(added.stdout)
    assert schedule["everyMinutes"] == 5 and schedule["maxTokens"] == 20000
    assert schedule["tasksCreated"] == 0  # a one-shot owner keeps schedules, never fires them

    listed = cli(tmp_path, "schedules", "list", "--demo")
    assert listed.returncode == 0
    assert schedule["scheduleId"] in listed.stdout and "every 5 min" in listed.stdout
    disabled = cli(tmp_path, "schedules", "disable", schedule["scheduleId"], "--demo")
    assert disabled.returncode == 0 and " off " in disabled.stdout

    removed = cli(tmp_path, "schedules", "remove", schedule["scheduleId"], "--demo")
    assert removed.returncode == 0
    assert cli(tmp_path, "schedules", "list", "--demo").stdout.strip() == "no schedules"
    again = cli(tmp_path, "schedules", "remove", schedule["scheduleId"], "--demo")
    assert again.returncode == 2 and "not found" in again.stderr


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("CHARACTER_AVATAR", "--cron", "99 * * * *"), "cron"),
        (("NO_SUCH_TYPE", "--every", "5"), "type"),
        (("CHARACTER_AVATAR", "--every", "5", "--max-tokens", "-1"), "maxTokens"),
        (("CHARACTER_AVATAR", "--every", "5", "--data", '{"overwrite": "yes"}'), "data.overwrite"),
    ],
)
def test_bad_input_exits_2_naming_the_field(tmp_path: Path, args: tuple[str, ...], field: str):
    result = cli(tmp_path, "schedules", "add", *args, "--demo")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {field}: ")
    assert "Traceback" not in result.stderr


async def test_through_the_owner_cli_and_rest(tmp_path: Path):
    settings = demo_settings(tmp_path)
    owner = await Runtime.open(settings, synchronous="NORMAL")
    try:
        # The CLI in another process goes through the owner's control socket.
        args = ("--demo", "--data-dir", str(settings.data_dir))
        added = await asyncio.to_thread(
            cli, tmp_path, "schedules", "add", "MBTI_ASSIGNMENT", "--cron", "0 3 * * *", *args
        )
        assert added.returncode == 0, added.stderr
        (schedule,) = await owner.service.list_schedules()
        assert schedule.cron == "0 3 * * *" and schedule.type == "MBTI_ASSIGNMENT"

        attached = await own_or_attach(settings, mode="dashboard")
        try:
            remote = attached.service
            assert attached.runtime is None
            (seen,) = await remote.list_schedules()
            assert seen == schedule
            changed = await remote.update_schedule(schedule.schedule_id, {"enabled": False})
            assert not changed.enabled
            assert not (await owner.service.list_schedules())[0].enabled
            with pytest.raises(InvalidParameters) as refused:
                await remote.add_schedule({"type": "MBTI_ASSIGNMENT", "cron": "every day"})
            assert refused.value.field == "cron"
            with pytest.raises(InvalidParameters) as refused:
                await remote.update_schedule(schedule.schedule_id, {"maxCost": -1})
            assert refused.value.field == "maxCost"
            # Its tasks are created by the engine later: a path is confined now, as for a create.
            outside = {"migrationScript": "/etc/passwd"}
            with pytest.raises(InvalidParameters) as refused:
                await remote.add_schedule(
                    {"type": "DATABASE_UPGRADE", "everyMinutes": 5, "data": outside}
                )
            assert refused.value.field == "migrationScript"
            with pytest.raises(InvalidParameters):
                await remote.estimate("DATABASE_UPGRADE", outside)
            estimate = await remote.estimate("MBTI_ASSIGNMENT", {})
            assert estimate.candidates == await owner.service.preview("MBTI_ASSIGNMENT", {})
            assert estimate.tokens == estimate.candidates * estimate.tokens_per_item
            await remote.remove_schedule(schedule.schedule_id)
            with pytest.raises(ScheduleNotFound):
                await remote.remove_schedule(schedule.schedule_id)
            assert await owner.service.list_schedules() == []
        finally:
            await attached.aclose()
    finally:
        await owner.close()
