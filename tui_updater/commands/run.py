"""``tavern-updater-tui run TYPE``: one task to the end, progress on stderr, JSON on stdout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from typing import Any

from tui_updater.commands.attach import Attached, own_or_attach
from tui_updater.config import Settings
from tui_updater.core.events import EventType
from tui_updater.core.models import ItemStatus, TaskRecord, TaskStatus
from tui_updater.core.pricing import spend_json, spend_text, task_model
from tui_updater.core.service import SubscriberOverflow
from tui_updater.errors import (
    CharacterDbError,
    ConfigError,
    InvalidParameters,
    TaskStateError,
    TavernError,
    UnknownTaskType,
)
from tui_updater.ownership import StateDirOwned

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def parse_data(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidParameters(
            "--data", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise InvalidParameters("--data", "expected a JSON object like '{\"forceUpdate\": true}'")
    return data


class ProgressLine:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last_decile = -1

    def show(self, task: TaskRecord) -> None:
        if task.counts.total == 0 and task.status is not TaskStatus.COMPLETED:
            return  # queued or still selecting: no item count to show yet
        progress = task.progress
        text = f"{task.counts.finished}/{task.counts.total} items"
        if self.tty:
            filled = int(progress / 100 * 30)
            sys.stderr.write(f"\r[{'█' * filled}{'░' * (30 - filled)}] {progress:5.1f}% {text}   ")
            sys.stderr.flush()
        elif int(progress // 10) > self.last_decile:
            self.last_decile = int(progress // 10)
            print(f"progress {progress:.0f}% ({text})", file=sys.stderr)

    def end(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def failure_summary(task: TaskRecord, first_failure: str | None) -> str:
    """The task's error with the first failed item's reason, so the cause fits one line."""
    text = task.error or f"task {task.status.value.lower()}"
    if first_failure and first_failure not in text:
        text += f"; first failure: {first_failure}"
    return text


async def _first_failure(service: Any, task: TaskRecord) -> str | None:
    if task.counts.failed == 0:
        return None
    for item in await service.list_items(task.task_id, limit=500):
        if item.status is ItemStatus.FAILED and item.error:
            return f"{item.label}: {item.error}"
    return None


async def spend_of(service: Any, task: TaskRecord) -> dict[str, Any]:
    """The task's tokens, requests, model and (when a price is configured) cost."""
    info = await service.info()
    try:
        schema = (await service.task_type(task.type)).params_schema
    except UnknownTaskType:  # a plug-in type gone since the task was made
        schema = {}
    model = task_model(task.data, schema, info.chat_model, info.image_model)
    return spend_json(task.usage, model, info.extra.get("prices") or {})


def same_parameters(stored: dict[str, Any], given: dict[str, Any], schema: dict[str, Any]) -> bool:
    """Whether a stored task's validated data is what ``given`` parses to: every given value is
    stored as given, and every other stored value is the schema's default."""
    properties = schema.get("properties") or {}
    for key, value in given.items():
        if stored.get(key) != value:
            return False
    for key, value in stored.items():
        if key not in given and (properties.get(key) or {}).get("default", value) != value:
            return False
    return True


async def interrupted_twin(
    service: Any, type_name: str, data: dict[str, Any], database: str
) -> TaskRecord | None:
    """An unfinished task of the same type, database and parameters: adopted, not duplicated."""
    unfinished = await service.list_tasks(status=["PENDING", "RUNNING"])
    if not unfinished:
        return None  # the usual case: no type's parameter schema to build
    try:
        task_type = await service.task_type(type_name)
    except UnknownTaskType:
        return None  # submit names the unknown type
    for task in sorted(unfinished, key=lambda t: t.created_at_ms):
        if task.type != task_type.name:
            continue
        if task.database in (None, database) and same_parameters(
            task.data, data, task_type.params_schema
        ):
            return task
    return None


def _check_database(settings: Settings, attached: Attached, database: str) -> None:
    """A run for one database never goes to an owner working on another."""
    wanted = str(settings.db_path.resolve())
    if attached.owner is not None and database != wanted:
        raise StateDirOwned(
            settings.state_dir, attached.owner, detail=f"it works on {database}, not {wanted}"
        )


_TERMINAL = {
    EventType.TASK_COMPLETED,
    EventType.TASK_FAILED,
    EventType.TASK_CANCELLED,
    EventType.TASK_DELETED,
}


async def follow(service: Any, task_id: str, bar: ProgressLine) -> TaskRecord | None:
    """Show the task's progress until it is finished for good; None when the owner went away."""
    subscription = service.subscribe()

    async def until_finished() -> TaskRecord:
        while True:
            task = await service.get_task(task_id)
            bar.show(task)
            if task.status.finished:
                return task
            with contextlib.suppress(SubscriberOverflow):
                async for batch in subscription.batches():
                    ended = False
                    for event in batch:
                        if event.task_id != task_id or event.type is EventType.LOG:
                            continue
                        record = event.task_record()
                        if record is not None:
                            bar.show(record)
                        ended = ended or event.type in _TERMINAL
                    if ended:
                        break  # read the stored record: an automatic retry may follow

    async def owner_lost() -> None:
        # The owner's event stream is gone once its channel starts reconnecting; the channel
        # shows that only as its state, so it is looked at rather than awaited.
        while not service.connection_state.startswith(("reconnecting", "disconnected")):  # noqa: ASYNC110
            await asyncio.sleep(0.2)

    watched = asyncio.create_task(until_finished())
    lost = asyncio.create_task(owner_lost()) if hasattr(service, "connection_state") else None
    waiters: set[asyncio.Task[Any]] = {watched} if lost is None else {watched, lost}
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        subscription.close()
        for waiter in (watched, lost):
            if waiter is not None and not waiter.done():
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
    if watched.cancelled():
        return None
    return watched.result()


def _owner_went_away(attached: Attached, exc: TavernError) -> bool:
    """Whether ``exc`` says the owner followed through stopped answering (it exits as soon as
    it is idle, which may be before this process has read the finished task's summary)."""
    if attached.runtime is not None:
        return False  # this process's own engine
    from tui_updater.server.client import ServerUnreachable  # only a remote service raises it

    return isinstance(exc, ServerUnreachable)


async def _run(
    settings: Settings, type_name: str, data: dict[str, Any], priority: str
) -> tuple[TaskRecord, str | None, dict[str, Any]]:
    task_id: str | None = None
    while True:  # once more when the owner followed through exits before the task ends
        attached = await own_or_attach(settings, mode="run")
        try:
            service = attached.service
            database = (await service.info()).database
            _check_database(settings, attached, database)
            bar = ProgressLine()
            if task_id is None:
                if (await service.queue_status()).paused:
                    raise TaskStateError(
                        "the queue is paused; resume it first (p in the dashboard, or POST /api/queue/resume)"
                    )
                twin = await interrupted_twin(service, type_name, data, database)
                if twin is not None:
                    print(f"resuming {twin.task_id} at {twin.progress:.0f} %", file=sys.stderr)
                    task_id = twin.task_id
                else:
                    task_id = (await service.submit(type_name, data, priority)).task_id
            try:
                finished = await follow(service, task_id, bar)
                if finished is not None:
                    summary = (
                        finished,
                        await _first_failure(service, finished),
                        await spend_of(service, finished),
                    )
            except TavernError as exc:
                if not _owner_went_away(attached, exc):
                    raise
                finished = None
            if finished is None:
                print(
                    "the owner of the state dir went away; following the task again",
                    file=sys.stderr,
                )
                continue
            bar.end()
            if attached.runtime is not None:
                # Tasks other processes submitted here finish before this owner exits.
                await attached.runtime.engine.wait_idle()
            return summary
        finally:
            await attached.aclose()


def run_command(
    settings: Settings, type_name: str, *, data: str, priority: str, as_json: bool
) -> int:
    from tui_updater.logs import setup_logging

    setup_logging(
        level=settings.log_level, log_dir=settings.log_dir, stderr=True, silent=settings.silent
    )
    try:
        params = parse_data(data)
        task, first_failure, spend = asyncio.run(_run(settings, type_name, params, priority))
    except UnknownTaskType as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except InvalidParameters as exc:
        print(f"error: invalid parameter {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (ConfigError, CharacterDbError, StateDirOwned) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TavernError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; the task resumes on the next start", file=sys.stderr)
        return EXIT_FAILED
    if as_json:
        print(json.dumps({**task.to_json(), "spend": spend}, ensure_ascii=False, indent=2))
    else:
        counts = task.counts
        print(
            f"{task.task_id} {task.status.value}: {counts.done} done, {counts.failed} failed, {counts.skipped} skipped of {counts.total}"
        )
        if task.review_pending:
            print(
                f"{task.review_pending} proposal(s) wait for review: accept or reject them in the "
                f"dashboard (R in the task's detail) or at /api/tasks/{task.task_id}/proposals"
            )
        if task.usage.requests:
            print(f"spent {spend_text(task.usage, spend['cost'])} ({spend['model']})")
        if task.status is not TaskStatus.COMPLETED:
            print(f"error: {failure_summary(task, first_failure)}", file=sys.stderr)
    return EXIT_OK if task.status is TaskStatus.COMPLETED else EXIT_FAILED
