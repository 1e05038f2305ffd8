"""Task detail: parameters, progress with rate and ETA, items, result (chart, avatar), logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Log, Static

from tui_updater.core.models import ItemRecord, TaskRecord
from tui_updater.core.service import UpdaterService
from tui_updater.errors import TavernError
from tui_updater.tui.progress import eta_text, progress_bar, rate_text, status_text
from tui_updater.tui.widgets.avatar import AvatarPreview
from tui_updater.tui.widgets.charts import mbti_chart
from tui_updater.tui.widgets.header import KeyFooter

ITEM_LIMIT = 500
RELOAD_INTERVAL_S = 1.0


def params_text(data: dict[str, Any]) -> Text:
    text = Text()
    if not data:
        text.append("(defaults)", style="dim")
    for index, (key, value) in enumerate(data.items()):
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if isinstance(shown, str) and len(shown) > 200:
            shown = shown[:200] + "…"
        text.append(("\n" if index else "") + f"{key}: ", style="bold")
        text.append(str(shown))
    return text


def result_renderable(task: TaskRecord) -> RenderableType:
    """The result: an MBTI chart, an upgrade report, or the summary fields."""
    result = task.result or {}
    if not result:
        return Text("no result yet" if not task.status.finished else "no result", style="dim")
    parts: list[RenderableType] = []
    stats = result.get("statistics")
    if isinstance(stats, dict) and isinstance(stats.get("byType"), dict):
        parts.append(
            Text.from_markup(f"[b]MBTI distribution[/b] ({stats.get('total', 0)} assigned)")
        )
        parts.append(mbti_chart({str(k): int(v) for k, v in stats["byType"].items()}, width=24))
        groups = stats.get("byCategory") or {}
        if groups:
            parts.append(
                Text("  ".join(f"{g}: {v.get('count', 0)}" for g, v in groups.items()), style="dim")
            )
    diff = result.get("schemaDiff")
    if isinstance(diff, dict):
        lines = [
            f"statements run: {result.get('statementsExecuted', 0)}/{result.get('statementCount', 0)}"
        ]
        for key, value in diff.items():
            if value:
                lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
        backup = result.get("backup")
        if isinstance(backup, dict):
            lines.append(f"backup: {backup.get('name')}")
        if result.get("message"):
            lines.append(str(result["message"]))
        parts.append(Text("\n".join(lines)))
    scalars = {
        k: v
        for k, v in result.items()
        if isinstance(v, str | int | float | bool) and k != "message"
    }
    if scalars and not isinstance(diff, dict):
        parts.append(Text("  ".join(f"{k}={v}" for k, v in scalars.items()), style="dim"))
    return Group(*parts) if parts else Text(json.dumps(result, ensure_ascii=False)[:500])


def avatar_file(items: list[ItemRecord]) -> str | None:
    """The PNG of the first item that stored one (the avatar task keeps the path in ``file``)."""
    for item in items:
        if item.result and isinstance(item.result.get("file"), str):
            return str(item.result["file"])
    return None


class DetailScreen(Screen[None]):
    """One task, refreshed while it runs. Task actions (x r v d) apply to this task."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(
        self, service: UpdaterService, task: TaskRecord, *, clock: Callable[[], int]
    ) -> None:
        super().__init__()
        self.service = service
        self.task_record = task
        self.clock = clock
        self.items: list[ItemRecord] = []

    @property
    def task_id(self) -> str:
        return self.task_record.task_id

    def compose(self) -> ComposeResult:
        with Horizontal(id="detail-body"):
            with VerticalScroll(id="detail-left"):
                yield Static("", id="detail-title")
                yield Static("", id="detail-progress")
                yield Static("[b]Parameters[/b]", classes="section")
                yield Static("", id="detail-params")
                yield Static("[b]Result[/b]", classes="section")
                yield Static("", id="detail-result")
                yield AvatarPreview("", id="detail-avatar")
            with Vertical(id="detail-right"):
                yield Static("[b]Items[/b]", id="detail-items-title")
                yield DataTable(id="detail-items", cursor_type="row", zebra_stripes=True)
                yield Static("[b]Log[/b]", classes="section")
                yield Log(max_lines=2000, id="detail-log")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#detail-items", DataTable)
        for key, label in (
            ("label", "Character"),
            ("status", "State"),
            ("attempts", "Tries"),
            ("error", "Error"),
        ):
            table.add_column(label, key=key)
        self.query_one("#detail-avatar", AvatarPreview).display = False
        self.show_task(self.task_record)
        self.reload()
        self.set_interval(RELOAD_INTERVAL_S, self._tick)

    def _tick(self) -> None:
        if not self.task_record.status.finished:
            self.reload()
        self._render_progress()

    def show_task(self, task: TaskRecord) -> None:
        """Called by the app when a newer record of this task arrives."""
        was_finished = self.task_record.status.finished
        self.task_record = task
        title = Text()
        title.append(f"{task.task_id}  ", style="bold")
        title.append(f"{task.type}  {task.priority.name}  ")
        title.append_text(status_text(task.status))
        title.append(f"  attempt {task.attempt}", style="dim")
        self.query_one("#detail-title", Static).update(title)
        self.query_one("#detail-params", Static).update(params_text(task.data))
        self.query_one("#detail-result", Static).update(result_renderable(task))
        self._render_progress()
        if task.status.finished and not was_finished:
            self.reload()

    def _render_progress(self) -> None:
        task = self.task_record
        now_ms = self.clock()
        counts = task.counts
        text = progress_bar(task.progress, task.status, width=30)
        text.append(
            f"\nitems {counts.finished}/{counts.total}  done {counts.done}  failed {counts.failed}  skipped {counts.skipped}"
        )
        text.append(f"\nrate {rate_text(task, now_ms)}  ETA {eta_text(task, now_ms)}")
        if task.usage.requests:
            text.append(
                f"\ntokens {task.usage.total_tokens:,} in {task.usage.requests} request(s)",
                style="dim",
            )
        if task.message:
            text.append(f"\n{task.message}", style="italic")
        if task.error:
            text.append(f"\n{task.error}", style="bold red")
        self.query_one("#detail-progress", Static).update(text)

    @work(exclusive=True, group="detail-reload", exit_on_error=False)
    async def reload(self) -> None:
        """Fetch items and logs of this task."""
        try:
            items = await self.service.list_items(self.task_id, limit=ITEM_LIMIT)
            logs = await self.service.task_logs(self.task_id, limit=500)
        except TavernError:
            return
        self.items = items
        table = self.query_one("#detail-items", DataTable)
        table.clear()
        for item in items:
            style = {"FAILED": "red", "DONE": "green", "CONFLICT": "yellow", "SKIPPED": "dim"}.get(
                item.status.value, ""
            )
            table.add_row(
                item.label or item.key,
                Text(item.status.value, style=style),
                str(item.attempts),
                Text(item.error or "", style="red"),
                key=f"{item.seq}",
            )
        self.query_one("#detail-items-title", Static).update(
            f"[b]Items[/b] ({len(items)}{'+' if len(items) >= ITEM_LIMIT else ''})"
        )
        log = self.query_one("#detail-log", Log)
        log.clear()
        ordered = sorted(logs, key=lambda record: record.timestamp_ms)
        log.write_lines(
            [f"{_clock_time(r.timestamp_ms)} {r.level:<7} {r.message}" for r in ordered]
        )
        preview = self.query_one("#detail-avatar", AvatarPreview)
        path = avatar_file(items)
        preview.display = path is not None
        if path is not None:
            preview.show_file(path)
            preview.border_title = f"avatar preview: {path.rsplit('/', 1)[-1]}"


def _clock_time(timestamp_ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp_ms / 1000).strftime("%H:%M:%S")
