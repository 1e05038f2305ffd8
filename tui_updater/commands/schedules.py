"""``tavern-updater-tui schedules add|list|remove|enable|disable`` for scripts.

Goes through the state dir's owner when a dashboard or --serve holds it (as ``run`` does);
otherwise this process owns it for the moment, without firing any schedule.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Any

from tui_updater.errors import InvalidParameters, TavernError

if TYPE_CHECKING:  # `--help` builds this parser: it must not import pydantic and the config
    from tui_updater.config import Settings
    from tui_updater.core.schedules import ScheduleRecord

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def add_parser(commands: Any, common: Any) -> None:
    """The ``schedules`` sub-command and its actions (``common`` adds the shared flags)."""
    schedules = commands.add_parser("schedules", help="add, list or remove schedules (rules)")
    actions = schedules.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a schedule: a task type, parameters and a trigger")
    add.add_argument("type", metavar="TYPE", help="task type, e.g. CHARACTER_AVATAR")
    trigger = add.add_mutually_exclusive_group(required=True)
    trigger.add_argument("--cron", metavar="EXPR", help='cron expression in UTC, e.g. "0 3 * * *"')
    trigger.add_argument(
        "--every",
        type=int,
        metavar="MINUTES",
        help="watch rule: look for candidates every MINUTES and run when there are any",
    )
    add.add_argument("--data", default="{}", metavar="JSON", help="task parameters (JSON object)")
    add.add_argument("--priority", default="NORMAL", help="LOW, NORMAL, HIGH, URGENT or 1-4")
    add.add_argument("--name", default="", help="a label to show")
    add.add_argument("--max-tokens", type=int, metavar="N", help="token budget per day")
    add.add_argument("--max-cost", type=float, metavar="X", help="cost budget per day")
    add.add_argument("--disabled", action="store_true", help="add it switched off")
    add.add_argument("--json", action="store_true", help="print the schedule as JSON")
    common(add)
    listing = actions.add_parser("list", help="list schedules with their last and next run")
    listing.add_argument("--json", action="store_true")
    common(listing)
    for action, text in (
        ("remove", "remove a schedule"),
        ("enable", "switch a schedule on"),
        ("disable", "switch a schedule off"),
    ):
        one = actions.add_parser(action, help=text)
        one.add_argument("id", metavar="ID", help="schedule id as shown by `schedules list`")
        common(one)


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def schedule_line(schedule: ScheduleRecord) -> str:
    state = "on " if schedule.enabled else "off"
    label = f" {schedule.name!r}" if schedule.name else ""
    return (
        f"{schedule.schedule_id}  {state}  {schedule.type}{label}  {schedule.trigger_text}  "
        f"last {_when(schedule.last_run_ms)}  next {_when(schedule.next_run_ms)}  "
        f"{schedule.tasks_created} task(s)  {schedule.message}"
    )


def _body(args: argparse.Namespace) -> dict[str, Any]:
    try:
        data = json.loads(args.data)
    except json.JSONDecodeError as exc:
        raise InvalidParameters("data", f"not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise InvalidParameters("data", "expected a JSON object of parameters")
    body: dict[str, Any] = {"type": args.type, "data": data, "priority": args.priority}
    optional = {
        "cron": args.cron,
        "everyMinutes": args.every,
        "name": args.name or None,
        "maxTokens": args.max_tokens,
        "maxCost": args.max_cost,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    if args.disabled:
        body["enabled"] = False
    return body


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from tui_updater.commands.attach import own_or_attach

    body = _body(args) if args.schedule_command == "add" else None
    attached = await own_or_attach(settings, mode="schedules")
    try:
        service = attached.service
        action = args.schedule_command
        if action == "list":
            schedules = await service.list_schedules()
            if args.json:
                print(json.dumps([s.to_json() for s in schedules], indent=2))
            elif not schedules:
                print("no schedules")
            for schedule in schedules if not args.json else ():
                print(schedule_line(schedule))
        elif action == "add":
            schedule = await service.add_schedule(body)
            print(
                json.dumps(schedule.to_json(), indent=2) if args.json else schedule_line(schedule)
            )
        elif action == "remove":
            await service.remove_schedule(args.id)
            print(f"removed {args.id}")
        else:
            changed = await service.update_schedule(args.id, {"enabled": action == "enable"})
            print(schedule_line(changed))
        return EXIT_OK
    finally:
        await attached.aclose()


def schedules_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        import asyncio

        return asyncio.run(_run(settings, args))
    except TavernError as exc:  # a bad field, an unknown id, the state dir unusable
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
