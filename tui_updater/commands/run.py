"""``tavern-updater-tui run TYPE``: one task to the end, progress on stderr, JSON on stdout."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from tui_updater.config import Settings
from tui_updater.core.events import EventType
from tui_updater.core.models import ItemStatus, TaskRecord, TaskStatus
from tui_updater.core.pricing import spend_json, spend_text, task_model
from tui_updater.errors import (
    CharacterDbError,
    ConfigError,
    InvalidParameters,
    TaskStateError,
    TavernError,
    UnknownTaskType,
)

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


async def _first_failure(runtime: Any, task: TaskRecord) -> str | None:
    if task.counts.failed == 0:
        return None
    for item in await runtime.service.list_items(task.task_id, limit=500):
        if item.status is ItemStatus.FAILED and item.error:
            return f"{item.label}: {item.error}"
    return None


def spend_of(runtime: Any, task: TaskRecord) -> dict[str, Any]:
    """The task's tokens, requests, model and (when a price is configured) cost."""
    provider = runtime.resources.provider
    schema = runtime.engine.registry.get(task.type).params_schema()
    model = task_model(task.data, schema, provider.chat_model, provider.image_model)
    return spend_json(task.usage, model, runtime.settings.provider.prices)


async def _run(
    settings: Settings, type_name: str, data: dict[str, Any], priority: str
) -> tuple[TaskRecord, str | None, dict[str, Any]]:
    from tui_updater.commands.startup import open_runtime

    runtime = await open_runtime(settings)
    bar = ProgressLine()
    try:
        if runtime.engine.paused:
            raise TaskStateError(
                "the queue is paused; resume it first (p in the dashboard, or POST /api/queue/resume)"
            )
        subscription = runtime.engine.bus.subscribe()
        task = await runtime.engine.submit(type_name, data, priority)

        async def follow() -> None:
            async for batch in subscription.batches():
                for event in batch:
                    if event.task_id == task.task_id and event.type is not EventType.LOG:
                        record = event.task_record()
                        if record is not None:
                            bar.show(record)

        follower = asyncio.create_task(follow())
        try:
            finished = await runtime.engine.wait(task.task_id)
        finally:
            subscription.close()
            follower.cancel()
        bar.end()
        return finished, await _first_failure(runtime, finished), spend_of(runtime, finished)
    finally:
        await runtime.close()


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
    except (ConfigError, CharacterDbError) as exc:
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
        if task.usage.requests:
            print(f"spent {spend_text(task.usage, spend['cost'])} ({spend['model']})")
        if task.status is not TaskStatus.COMPLETED:
            print(f"error: {failure_summary(task, first_failure)}", file=sys.stderr)
    return EXIT_OK if task.status is TaskStatus.COMPLETED else EXIT_FAILED
