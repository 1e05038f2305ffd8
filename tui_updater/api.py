"""The programming interface: the engine inside your own asyncio program, or a remote one.

``open()`` runs an engine in-process on a database, with exactly the settings given (no
config.toml or environment unless ``from_config=True``); ``connect()`` drives a ``--serve``
engine. Both give a TaskManager: create tasks (optionally held until started), follow one
task's events by callback or async iterator, await its result, cancel / retry / revert it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_updater.core.events import Event, EventType
from tui_updater.core.models import Priority, TaskRecord, TaskStatus
from tui_updater.core.proposals import ProposalView
from tui_updater.core.service import SubscriberOverflow, UpdaterService
from tui_updater.errors import ConfigError, InvalidParameters, TaskStateError, TavernError

if TYPE_CHECKING:
    from tui_updater.config import EngineSettings, ProviderSettings, Settings

logger = logging.getLogger("tui_updater")
Callback = Callable[[Event], Any]
_EARLY_TASKS = 256  # events of ids not yet known (a remote answer can trail its events)
# Events can be lost (a remote channel not yet connected, a reconnect): waiters ask the engine
# again this often, so an end is never missed; events wake them at once otherwise.
_RECHECK_S = 5.0


class TaskFailed(TavernError):
    """``Task.result()`` of a task that ended FAILED or CANCELLED; ``record`` says why."""

    def __init__(self, record: TaskRecord):
        self.record = record
        super().__init__(
            f"task {record.task_id} {record.status.value}: {record.error or record.message}"
        )


def _kind(name: str) -> EventType:
    try:
        return EventType(
            name if name.startswith(("task_", "queue_")) or name == "log" else f"task_{name}"
        )
    except ValueError:
        known = ", ".join(
            e.value.removeprefix("task_") for e in EventType if e.value.startswith("task_")
        )
        raise ValueError(f"unknown event {name!r}; use one of {known}, log") from None


class Task:
    """One task seen from your program: its events, its result, and what you can do to it.

    A task created with ``hold=True`` is validated but not yet queued: its ``task_id`` is
    ``None`` until ``start()``.
    """

    def __init__(
        self,
        manager: TaskManager,
        record: TaskRecord | None,
        request: tuple[str, dict[str, Any], Priority],
    ):
        self._manager = manager
        self.record = record
        self._request = request
        self._callbacks: dict[EventType, list[Callback]] = {}
        self._streams: list[asyncio.Queue[Event | None]] = []
        self._changed = asyncio.Event()

    @property
    def task_id(self) -> str | None:
        return None if self.record is None else self.record.task_id

    @property
    def held(self) -> bool:
        return self.record is None

    @property
    def type(self) -> str:
        return self.record.type if self.record else self._request[0]

    def on(self, event: str, callback: Callback) -> Task:
        """Call ``callback(event)`` on each ``"progress"``, ``"completed"``, ``"failed"``… event.

        The callback may be a coroutine function; callbacks run in event order.
        """
        self._callbacks.setdefault(_kind(event), []).append(callback)
        return self

    async def start(self) -> Task:
        """Queue a held task (the seed's ``startTask``); a started task is refused."""
        if self.record is not None:
            raise TaskStateError(f"task {self.record.task_id} has already been started")
        type_name, data, priority = self._request
        self.record = await self._manager.service.submit(type_name, data, priority)
        await self._manager._track(self)
        return self

    async def refresh(self) -> TaskRecord:
        """The task as the engine has it now."""
        self.record = await self._manager.service.get_task(self._started())
        return self.record

    async def wait(self) -> TaskRecord:
        """Wait until the task has ended (after any automatic retries) and return it."""
        self._started()
        while True:
            self._changed.clear()
            record = await self.refresh()
            if record.status.finished:
                return record
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), _RECHECK_S)

    async def result(self) -> dict[str, Any]:
        """The result of the COMPLETED task; ``TaskFailed`` when it failed or was cancelled."""
        record = await self.wait()
        if record.status is not TaskStatus.COMPLETED:
            raise TaskFailed(record)
        return record.result or {}

    async def events(self) -> AsyncIterator[Event]:
        """This task's events from now on, ending with its terminal event."""
        self._started()
        stream: asyncio.Queue[Event | None] = asyncio.Queue()
        self._streams.append(stream)
        try:
            if (await self.refresh()).status.finished:
                return
            while True:
                try:
                    event = await asyncio.wait_for(stream.get(), _RECHECK_S)
                except TimeoutError:
                    if (await self.refresh()).status.finished:
                        return
                    continue
                if event is None:
                    return
                yield event
                if event.type.terminal:
                    return
        finally:
            self._streams.remove(stream)

    async def cancel(self) -> TaskRecord:
        if self.record is None:  # never queued: nothing runs, nothing to record
            raise TaskStateError("a held task is not queued; just do not start it")
        self.record = await self._manager.service.cancel(self._started())
        return self.record

    async def retry(self, data: Mapping[str, Any] | None = None) -> TaskRecord:
        """Rerun its failed and unfinished items; ``data`` changes parameters (a new budget)."""
        self.record = await self._manager.service.retry(self._started(), data)
        return self.record

    async def revert(self) -> dict[str, Any]:
        return await self._manager.service.revert(self._started())

    async def set_priority(self, priority: object) -> TaskRecord:
        self.record = await self._manager.service.set_priority(self._started(), priority)
        return self.record

    async def proposals(self, status: str | None = None) -> list[ProposalView]:
        """A review-mode task's proposals (``status``: e.g. "PENDING") beside current values."""
        return await self._manager.service.list_proposals(self._started(), status=status)

    async def accept(self, proposal_ids: Sequence[int] | None = None) -> list[ProposalView]:
        """Write these proposals (every pending one without ids), compare-and-set."""
        return await self._manager.service.accept_proposals(self._started(), proposal_ids)

    async def reject(self, proposal_ids: Sequence[int] | None = None) -> list[ProposalView]:
        """Discard these proposals (every pending one without ids)."""
        return await self._manager.service.reject_proposals(self._started(), proposal_ids)

    async def edit(self, proposal_id: int, changes: Mapping[str, Any]) -> ProposalView:
        """Replace a pending proposal's values, validated like the task type's output."""
        return await self._manager.service.edit_proposal(self._started(), proposal_id, changes)

    def _started(self) -> str:
        if self.record is None:
            raise TaskStateError("the task is held: start() it first")
        return self.record.task_id

    async def _deliver(self, event: Event) -> None:
        record = event.task_record()
        if record is not None:
            self.record = record
        for stream in self._streams:
            stream.put_nowait(event)
        for callback in self._callbacks.get(event.type, []):
            try:
                outcome = callback(event)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:  # a broken callback must not stop the other tasks' events
                logger.exception("callback for %s of %s failed", event.type.value, self.task_id)
        if event.type.terminal or event.type in (EventType.TASK_RETRYING, EventType.TASK_STARTED):
            self._changed.set()

    def _resynced(self) -> None:
        """Events were lost: waiters look again, iterators of a finished task end."""
        self._changed.set()
        if self.record is not None and self.record.status.finished:
            for stream in self._streams:
                stream.put_nowait(None)


class TaskManager:
    """Creates and follows tasks on one engine (``open``) or server (``connect``).

    ``service`` is the whole UpdaterService for anything else (lists, queue, backups…).
    """

    def __init__(self, service: UpdaterService, close: Callable[[], Awaitable[None]]):
        self.service = service
        self._close = close
        self._tasks: dict[str, Task] = {}
        self._early: OrderedDict[str, list[Event]] = OrderedDict()
        self._subscription = service.subscribe()
        self._dispatcher = asyncio.create_task(self._dispatch())

    async def create_task(
        self,
        type_name: str,
        data: Mapping[str, Any] | None = None,
        priority: object = "NORMAL",
        *,
        hold: bool = False,
    ) -> Task:
        """Validate and queue a task (the seed's ``createTask``); ``hold=True`` waits for start().

        Bad parameters raise InvalidParameters naming the field, held or not.
        """
        try:
            level = Priority.parse(priority)
        except ValueError as exc:
            raise InvalidParameters("priority", str(exc)) from None
        params = dict(data or {})
        task = Task(self, None, (type_name, params, level))
        if hold:
            await self.service.preview(type_name, params)  # the checks a submit would make
            return task
        return await task.start()

    async def start_task(self, task: Task | str) -> Task:
        """Start a held task (pass the Task); a task id names an already queued task."""
        if isinstance(task, Task):
            return await task.start()
        existing = await (await self.task(task)).refresh()
        raise TaskStateError(f"task {task} has already been started ({existing.status.value})")

    async def task(self, task_id: str) -> Task:
        """A handle on a task that exists (created earlier, or elsewhere); TaskNotFound if not."""
        if task_id in self._tasks:
            return self._tasks[task_id]
        record = await self.service.get_task(task_id)
        task = Task(self, record, (record.type, dict(record.data), record.priority))
        await self._track(task)
        return task

    async def _track(self, task: Task) -> None:
        task_id = task._started()
        self._tasks[task_id] = task
        for event in self._early.pop(task_id, []):
            await task._deliver(event)

    async def _dispatch(self) -> None:
        while True:
            try:
                async for batch in self._subscription.batches():
                    for event in batch:
                        await self._route(event)
                return
            except SubscriberOverflow:
                self._subscription = self.service.subscribe()
                for task in list(self._tasks.values()):
                    with contextlib.suppress(TavernError):
                        await task.refresh()
                    task._resynced()

    async def _route(self, event: Event) -> None:
        if event.task_id is None:
            return
        task = self._tasks.get(event.task_id)
        if task is not None:
            await task._deliver(event)
        elif event.type is not EventType.LOG:
            self._early.setdefault(event.task_id, []).append(event)
            while len(self._early) > _EARLY_TASKS:
                self._early.popitem(last=False)

    async def close(self) -> None:
        """Stop following events and close the engine (running tasks resume on the next open)."""
        self._subscription.close()
        self._dispatcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._dispatcher
        await self._close()

    async def __aenter__(self) -> TaskManager:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class _Opening:
    """What ``open``/``connect`` return: ``await`` it, or use it as ``async with``."""

    def __init__(self, make: Callable[[], Awaitable[TaskManager]]):
        self._make = make
        self._manager: TaskManager | None = None

    def __await__(self) -> Generator[Any, None, TaskManager]:
        return self._make().__await__()

    async def __aenter__(self) -> TaskManager:
        self._manager = await self._make()
        return self._manager

    async def __aexit__(self, *exc_info: object) -> None:
        if self._manager is not None:
            await self._manager.close()


def open(
    db: str | Path | None = None,
    *,
    demo: bool = False,
    offline: bool = False,
    state_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    backup_dir: str | Path | None = None,
    avatar_dir: str | Path | None = None,
    log_dir: str | Path | None = None,
    migrations_dir: str | Path | None = None,
    provider: ProviderSettings | None = None,
    engine: EngineSettings | None = None,
    settings: Settings | None = None,
    from_config: bool = False,
) -> _Opening:
    """An engine in this process on ``db`` (or the demo database with ``demo=True``).

    Only what is passed counts: directories default to the app's own (platformdirs), the
    provider to offline unless ``provider`` (a ``config.ProviderSettings``) names a gateway.
    ``from_config=True`` layers config.toml and the environment under the arguments, as the
    command line does; ``settings`` (a ``config.Settings``) is used as it is.
    """

    async def make() -> TaskManager:
        from tui_updater.runtime import Runtime

        chosen = settings or _settings(
            db,
            demo=demo,
            offline=offline,
            dirs={
                "state_dir": state_dir,
                "data_dir": data_dir,
                "backup_dir": backup_dir,
                "avatar_dir": avatar_dir,
                "log_dir": log_dir,
                "migrations_dir": migrations_dir,
            },
            provider=provider,
            engine=engine,
            from_config=from_config,
        )
        runtime = await Runtime.open(chosen)
        try:
            return TaskManager(runtime.service, runtime.close)
        except BaseException:
            await runtime.close()
            raise

    return _Opening(make)


def _settings(
    db: str | Path | None,
    *,
    demo: bool,
    offline: bool,
    dirs: dict[str, str | Path | None],
    provider: ProviderSettings | None,
    engine: EngineSettings | None,
    from_config: bool,
) -> Settings:
    from tui_updater.config import (
        EngineSettings,
        ProviderSettings,
        Settings,
        default_paths,
        load_settings,
    )

    given = {
        name: Path(path).expanduser().resolve() for name, path in dirs.items() if path is not None
    }
    if from_config:
        cli: dict[str, Any] = {
            "db": db and str(db),
            "demo": demo or None,
            "offline": offline or None,
        }
        loaded = load_settings({**cli, **{name: str(path) for name, path in given.items()}})
        changes = {k: v for k, v in (("provider", provider), ("engine", engine)) if v is not None}
        return loaded.evolve(**changes) if changes else loaded
    if db is None and not demo:
        raise ConfigError("open(): name the character database (db=...) or pass demo=True")
    defaults = default_paths()
    data_dir = given.get("data_dir", defaults["data_dir"])
    return Settings(
        db_path=data_dir / "demo" / "dev.db" if demo else Path(str(db)).expanduser().resolve(),
        demo=demo,
        offline=offline,
        state_dir=given.get("state_dir", defaults["state_dir"]),
        data_dir=data_dir,
        log_dir=given.get("log_dir", defaults["log_dir"]),
        backup_dir=given.get("backup_dir", data_dir / "backups"),
        avatar_dir=given.get("avatar_dir", data_dir / "avatars"),
        migrations_dir=given.get("migrations_dir", data_dir / "migrations"),
        provider=provider or ProviderSettings(),
        engine=engine or EngineSettings(),
    )


def connect(url: str, token: str | None = None) -> _Opening:
    """The same interface over a ``--serve`` engine (REST + WebSocket)."""

    async def make() -> TaskManager:
        from tui_updater.server.client import RemoteService

        remote = RemoteService(url, token)
        return TaskManager(remote, remote.aclose)

    return _Opening(make)
