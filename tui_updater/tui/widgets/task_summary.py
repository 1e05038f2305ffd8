"""One task at a glance: title, progress with rate and ETA, parameters, failed items, result.

Shared by the detail screen and the main screen's detail pane; rendering only, no I/O here
(the avatar PNG is decoded in a thread).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui_updater.core.models import ItemRecord, ItemStatus, TaskRecord, TaskStatus
from tui_updater.core.pricing import cost_of, spend_text, task_model
from tui_updater.tui.progress import eta_text, progress_bar, rate_text, task_status_text
from tui_updater.tui.widgets.avatar import AvatarPreview, avatar_text
from tui_updater.tui.widgets.charts import mbti_chart
from tui_updater.tui.widgets.steady import SteadyStatic

FAILED_SHOWN = 3  # failed items listed in the compact summary
COMPACT_MBTI_ROWS = 8  # MBTI types charted in the compact summary


def params_text(data: dict[str, Any], *, max_chars: int = 200) -> Text:
    text = Text()
    if not data:
        text.append("(defaults)", style="dim")
    for index, (key, value) in enumerate(data.items()):
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if len(shown) > max_chars:
            shown = shown[:max_chars] + "…"
        text.append(("\n" if index else "") + f"{key}: ", style="bold")
        text.append(shown)
    return text


def title_text(task: TaskRecord) -> Text:
    title = Text()
    title.append(f"{task.task_id}  ", style="bold")
    title.append(f"{task.type}  {task.priority.name}  ")
    title.append_text(task_status_text(task))
    if task.reverted_at_ms is not None:
        title.append(f" (ran {task.status.value})", style="dim")
    title.append(f"  attempt {task.attempt}", style="dim")
    if task.database:
        title.append("\ndatabase ", style="dim")
        title.append(task.database)
    return title


def held_back_text(task: TaskRecord, gateway: Mapping[str, Any] | None) -> str | None:
    """Why a running task gets less than its own concurrency, when the gateway lane is why."""
    if task.status is not TaskStatus.RUNNING or not gateway:
        return None
    waiting = int(gateway.get("waiting") or 0)
    paused_s = float(gateway.get("pausedS") or 0)
    if not waiting and not paused_s:
        return None
    limit = int(gateway.get("limit") or 0)
    text = f"held back by the gateway: {int(gateway.get('inFlight') or 0)}/{limit} in flight"
    if waiting:
        text += f", {waiting} waiting"
    asked = task.data.get("concurrency")
    if isinstance(asked, int) and asked > limit:
        text += f" (the task asks {asked})"
    if gateway.get("backingOff"):
        text += " · backing off" + (f" {paused_s:.0f}s" if paused_s >= 1 else "")
    return text


def task_cost(task: TaskRecord, pricing: Pricing | None) -> float | None:
    """The task's usage priced at its model, when a price is configured."""
    if pricing is None or not pricing.prices:
        return None
    model = task_model(
        task.data, pricing.schemas.get(task.type, {}), pricing.chat_model, pricing.image_model
    )
    return cost_of(task.usage, pricing.prices.get(model))


def progress_text(
    task: TaskRecord,
    now_ms: int,
    *,
    width: int = 30,
    pricing: Pricing | None = None,
    gateway: Mapping[str, Any] | None = None,
) -> Text:
    """Bar, item counts, rate and ETA, spend, gateway hold-back, the task's message and error."""
    counts = task.counts
    text = progress_bar(task.progress, task.status, width=width)
    text.append(
        f"\nitems {counts.finished}/{counts.total}  done {counts.done}  failed {counts.failed}  skipped {counts.skipped}"
    )
    text.append(f"\nrate {rate_text(task, now_ms)}  ETA {eta_text(task, now_ms)}")
    if task.usage.requests:
        text.append(f"\nspent {spend_text(task.usage, task_cost(task, pricing))}", style="dim")
    held_back = held_back_text(task, gateway)
    if held_back:
        text.append(f"\n{held_back}", style="yellow")
    if task.message and task.message != task.error:
        text.append(f"\n{task.message}", style="italic")
    if task.error:
        text.append(f"\n{task.error}", style="bold red")
    return text


def result_renderable(
    task: TaskRecord,
    *,
    chart_width: int = 24,
    mbti_rows: int | None = None,
    pricing: Pricing | None = None,
) -> RenderableType:
    """The result: an MBTI chart, an upgrade report, or the summary fields; and its spend."""
    result = task.result or {}
    if not result:
        return Text("no result yet" if not task.status.finished else "no result", style="dim")
    parts: list[RenderableType] = []
    if task.status.finished and task.usage.requests:
        parts.append(Text(f"spent {spend_text(task.usage, task_cost(task, pricing))}"))
    stats = result.get("statistics")
    if isinstance(stats, dict) and isinstance(stats.get("byType"), dict):
        parts.append(
            Text.from_markup(f"[b]MBTI distribution[/b] ({stats.get('total', 0)} assigned)")
        )
        distribution = {str(k): int(v) for k, v in stats["byType"].items()}
        parts.append(mbti_chart(distribution, width=chart_width, limit=mbti_rows))
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


def avatar_file(items: Sequence[ItemRecord]) -> str | None:
    """The PNG of the first item that stored one (the avatar task keeps the path in ``file``)."""
    for item in items:
        if item.result and isinstance(item.result.get("file"), str):
            return str(item.result["file"])
    return None


def failed_items_text(task: TaskRecord, items: Sequence[ItemRecord], *, shown: int) -> Text:
    """The first ``shown`` failed items with their errors, and how many more there are."""
    failed = [item for item in items if item.status is ItemStatus.FAILED]
    text = Text()
    if not task.counts.failed and not failed:
        text.append("no failed items", style="dim")
        return text
    if not failed:  # not fetched yet, or past the fetched items
        text.append(f"{task.counts.failed} failed item(s)", style="red")
        return text
    for index, item in enumerate(failed[:shown]):
        text.append("\n" if index else "")
        text.append(f"{item.label or item.key}: ", style="bold")
        text.append(item.error or "failed", style="red")
    more = max(task.counts.failed, len(failed)) - min(shown, len(failed))
    if more > 0:
        text.append(f"\n… {more} more (enter: every item)", style="dim")
    return text


@dataclass(frozen=True)
class Pricing:
    """What pricing a task needs: prices per model, the gateway's models, each type's schema."""

    prices: Mapping[str, Mapping[str, float]]
    chat_model: str
    image_model: str
    schemas: Mapping[str, Mapping[str, Any]]


def app_pricing(app: object) -> Pricing | None:
    """The pricing the dashboard app loaded (service info and task types), if any."""
    info = getattr(app, "service_info", None)
    if info is None:
        return None
    prices = info.extra.get("prices")
    if not isinstance(prices, dict) or not prices:
        return None
    schemas = {t.name: t.params_schema for t in getattr(app, "task_types", None) or []}
    return Pricing(prices, info.chat_model, info.image_model, schemas)


def app_gateway(app: object) -> Mapping[str, Any] | None:
    """The gateway lane state from the dashboard's last queue status."""
    queue = getattr(app, "queue", None)
    return getattr(queue, "gateway", None)


class TaskSummary(VerticalScroll):
    """Title, progress, parameters, (compact: failed items), result and avatar preview of a task.

    ``show_task`` re-renders only the parts whose inputs changed; ``refresh_progress`` redraws
    the time-dependent line (rate, ETA); ``show_items`` takes items fetched by the owner.
    """

    def __init__(
        self, *, clock: Callable[[], int], compact: bool = False, id: str | None = None
    ) -> None:
        super().__init__(id=id, classes="compact" if compact else "")
        self.clock = clock
        self.compact = compact
        self.task_record: TaskRecord | None = None
        self._drawn: dict[str, object] = {}  # section -> what it shows now
        self.avatar_path: str | None = None
        self._items: Sequence[ItemRecord] = []

    def compose(self) -> ComposeResult:
        yield SteadyStatic("", id="summary-title")
        yield SteadyStatic("", id="summary-progress")
        yield Static("[b]Parameters[/b]", classes="section")
        yield SteadyStatic("", id="summary-params")
        if self.compact:
            yield SteadyStatic("", id="summary-failed", classes="section")
        yield Static("[b]Result[/b]", classes="section")
        yield SteadyStatic("", id="summary-result")
        yield AvatarPreview("", id="summary-avatar")

    def on_mount(self) -> None:
        self.query_one("#summary-avatar", AvatarPreview).display = False
        if self.task_record is not None:
            task, self.task_record = self.task_record, None
            self.show_task(task)

    def _draw(self, section: str, key: object, render: Callable[[], RenderableType]) -> None:
        """Update ``#summary-<section>`` unless it already shows ``key``."""
        if self._drawn.get(section) == key:
            return
        self._drawn[section] = key
        self.query_one(f"#summary-{section}", SteadyStatic).show_text(render())

    def show_task(self, task: TaskRecord) -> None:
        """Show ``task`` (a newer record of the same task, or another task)."""
        previous = self.task_record
        if previous is task or (previous is not None and previous == task):
            return
        self.task_record = task
        if not self.is_mounted:
            return
        if previous is not None and previous.task_id != task.task_id:
            self._items = []
            self._show_avatar(None)
            self.scroll_home(animate=False)
        title_key = (
            task.task_id,
            task.type,
            task.priority,
            task.status,
            task.attempt,
            task.reverted_at_ms,
        )
        self._draw("title", title_key, lambda: title_text(task))
        max_chars = 80 if self.compact else 200
        params_key = (task.task_id, _key(task.data))
        self._draw("params", params_key, lambda: params_text(task.data, max_chars=max_chars))
        result_key = (task.task_id, task.status.finished, _key(task.result))
        self._draw("result", result_key, lambda: self._result(task))
        self._draw_failed()
        self.refresh_progress()

    def _result(self, task: TaskRecord) -> RenderableType:
        pricing = app_pricing(self.app)
        if self.compact:
            return result_renderable(
                task, chart_width=16, mbti_rows=COMPACT_MBTI_ROWS, pricing=pricing
            )
        return result_renderable(task, pricing=pricing)

    def refresh_progress(self) -> None:
        """Redraw the progress lines (only when their text changed)."""
        task = self.task_record
        if task is None or not self.is_mounted:
            return
        text = progress_text(
            task,
            self.clock(),
            width=20 if self.compact else 30,
            pricing=app_pricing(self.app),
            gateway=app_gateway(self.app),
        )
        self._draw("progress", text.plain, lambda: text)

    def show_items(self, items: Sequence[ItemRecord]) -> None:
        """The task's items (fetched by the owner): failed ones in compact mode, the avatar."""
        if self.task_record is None or not self.is_mounted:
            return
        self._items = items
        self._draw_failed()
        self._show_avatar(avatar_file(items))

    def _draw_failed(self) -> None:
        task = self.task_record
        if not self.compact or task is None:
            return
        self.query_one("#summary-failed", Static).display = task.counts.failed > 0
        text = Text.from_markup("[b]Failed items[/b]\n")
        text.append_text(failed_items_text(task, self._items, shown=FAILED_SHOWN))
        self._draw("failed", (task.task_id, text.plain), lambda: text)

    def show_avatar(self, path: str | None) -> None:
        """Show this PNG (the owner's cursor chose it) instead of the task's first one."""
        self._show_avatar(path)

    def _show_avatar(self, path: str | None) -> None:
        if path == self.avatar_path:
            return
        self.avatar_path = path
        preview = self.query_one("#summary-avatar", AvatarPreview)
        preview.display = path is not None
        if path is not None:
            name = path.rsplit("/", 1)[-1]
            preview.border_title = "avatar" if self.compact else f"avatar preview: {name}"
            self._load_avatar(path)

    @work(exclusive=True, group="summary-avatar", exit_on_error=False)
    async def _load_avatar(self, path: str) -> None:
        width_cells = 16 if self.compact else 24
        text = await asyncio.to_thread(avatar_text, path, width_cells=width_cells)
        if path == self.avatar_path:
            self.query_one("#summary-avatar", AvatarPreview).update(text)


def _key(value: object) -> str:
    """A comparable form of a JSON value (what a section last drew)."""
    return json.dumps(value, sort_keys=True, default=str)
