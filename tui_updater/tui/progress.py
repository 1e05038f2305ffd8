"""Text for progress: bar cells, item rates, ETAs and ages, computed against an injected clock."""

from __future__ import annotations

from rich.text import Text

from tui_updater.core.models import TaskRecord, TaskStatus

STATUS_STYLES = {
    TaskStatus.PENDING: "yellow",
    TaskStatus.RUNNING: "bold cyan",
    TaskStatus.COMPLETED: "green",
    TaskStatus.FAILED: "bold red",
    TaskStatus.CANCELLED: "dim",
}


REVERTED_STYLE = "bold magenta"


def status_text(status: TaskStatus) -> Text:
    return Text(status.value, style=STATUS_STYLES.get(status, ""))


def task_status_text(task: TaskRecord) -> Text:
    """The status a view shows: REVERTED once everything the task wrote was undone."""
    if task.reverted_at_ms is not None:
        return Text("REVERTED", style=REVERTED_STYLE)
    return status_text(task.status)


def progress_bar(progress: float, status: TaskStatus, *, width: int = 10) -> Text:
    """A bar like ``█████░░░░░  50%`` coloured by the task's status."""
    percent = max(0.0, min(100.0, progress))
    filled = round(width * percent / 100.0)
    bar = Text("█" * filled, style=STATUS_STYLES.get(status, "cyan"))
    bar.append("░" * (width - filled), style="grey37")
    bar.append(f" {int(percent):>3d}%")
    return bar


def format_duration(seconds: float) -> str:
    """Compact duration: 45s, 3m, 2h05m, 4d."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s" if seconds < 600 else f"{seconds // 60}m"
    if seconds < 86_400:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86_400}d"


def age_text(task: TaskRecord, now_ms: int) -> str:
    return format_duration((now_ms - task.created_at_ms) / 1000.0)


def item_rate_per_s(task: TaskRecord, now_ms: int) -> float | None:
    """Finished items per second since the task started, or None before there is a rate."""
    if task.started_at_ms is None or task.counts.finished <= 0:
        return None
    end_ms = task.finished_at_ms if task.status.finished and task.finished_at_ms else now_ms
    elapsed_s = (end_ms - task.started_at_ms) / 1000.0
    if elapsed_s <= 0:
        return None
    return task.counts.finished / elapsed_s


def eta_text(task: TaskRecord, now_ms: int) -> str:
    """Time left at the current rate; "-" when finished or unknown."""
    if task.status is not TaskStatus.RUNNING:
        return "-"
    rate = item_rate_per_s(task, now_ms)
    remaining = task.counts.total - task.counts.finished
    if rate is None or rate <= 0 or remaining <= 0:
        return "…"
    return format_duration(remaining / rate)


def rate_text(task: TaskRecord, now_ms: int) -> str:
    rate = item_rate_per_s(task, now_ms)
    if rate is None:
        return "-"
    return f"{rate:.1f} items/s" if rate < 100 else f"{rate:,.0f} items/s"
