"""The queue table: one row per task (keyed by taskId), cells updated in place, newest first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from tui_updater.core.models import TaskRecord, TaskStatus
from tui_updater.tui.progress import age_text, eta_text, progress_bar, task_status_text
from tui_updater.tui.widgets.row_table import RowTable

Column = tuple[str, str, int]  # key, label, width
COLUMNS: tuple[Column, ...] = (
    ("id", "Task", 29),
    ("type", "Type", 18),
    ("priority", "Prio", 6),
    ("status", "Status", 9),
    ("progress", "Progress", 15),
    ("items", "Items", 11),
    ("failed", "Fail", 4),
    ("eta", "ETA", 5),
    ("age", "Age", 5),
)
# Below FULL_WIDTH_CELLS the id column goes (the detail and the filter still have it) and type
# names are shortened, so status, progress and failures stay visible in an 80-column terminal.
COMPACT_COLUMNS: tuple[Column, ...] = (
    ("type", "Type", 8),
    ("priority", "Prio", 6),
    ("status", "Status", 9),
    ("progress", "Progress", 11),  # a 6-cell bar: the room goes to whole 5-digit counts
    ("items", "Items", 11),
    ("failed", "Fail", 4),
    ("eta", "ETA", 5),
    ("age", "Age", 5),
)
FULL_WIDTH_CELLS = sum(width + 2 for _, _, width in COLUMNS) + 2  # cell padding, scrollbar
MAX_ROWS = 1000  # the table shows at most this many of the newest tasks
SORT_MODES = ("age", "status", "priority")
# Status order for the "status" sort: what needs the operator's eye first.
STATUS_ORDER = (
    TaskStatus.RUNNING,
    TaskStatus.FAILED,
    TaskStatus.PENDING,
    TaskStatus.CANCELLED,
    TaskStatus.COMPLETED,
)


class KeyedText(Text):
    """The first cell of a row: renders as usual, sorts by its task id."""

    def __init__(self, text: str, task_id: str) -> None:
        super().__init__(text)
        self.task_id = task_id


def task_matches(task: TaskRecord, query: str) -> bool:
    """Case-insensitive substring match on id, type, status, priority, message and database."""
    if not query:
        return True
    needle = query.lower()
    haystack = (
        f"{task.task_id} {task.type} {task.status.value} {task.priority.name} {task.message} "
        f"{task.database or ''}{' REVERTED' if task.reverted_at_ms is not None else ''}"
    )
    return needle in haystack.lower()


def _task_id_of(cell: Any) -> str:
    return cell.task_id if isinstance(cell, KeyedText) else str(cell)


class QueueTable(RowTable):
    """Tasks, newest first. Rows are keyed by taskId; a changed cell repaints its row only."""

    class TaskSelected(Message):
        """Enter on a row: open the task's detail."""

        def __init__(self, task_id: str) -> None:
            self.task_id = task_id
            super().__init__()

    class TaskHighlighted(Message):
        """The cursor moved to another task (or to none)."""

        def __init__(self, task_id: str | None) -> None:
            self.task_id = task_id
            super().__init__()

    def __init__(self, *, clock: Callable[[], int], id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._clock = clock
        self._shown: dict[str, TaskRecord] = {}
        self._drawn: dict[str, dict[str, str]] = {}  # task id → column → the text it shows now
        self._floor: str | None = None  # oldest id on a full page: older tasks are not added
        self.compact = False
        self._columns = COLUMNS
        self._short_names: dict[str, str] = {}  # type name → the short name its schema declares
        self.sort_mode = SORT_MODES[0]
        self.paused = False
        self.marked: dict[str, None] = {}  # tasks marked for a bulk action, in marking order
        self._age_turn = 0  # where the next refresh_ages slice starts

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        self._columns = COMPACT_COLUMNS if self.compact else COLUMNS
        for key, label, width in self._columns:
            self.add_column(label, key=key, width=width)

    def on_resize(self) -> None:
        self.set_compact(self.size.width < FULL_WIDTH_CELLS)

    def set_compact(self, compact: bool) -> None:
        """Switch between the full and the narrow column set, keeping rows and selection."""
        if compact == self.compact:
            return
        self.compact = compact
        selected = self.selected_task_id
        tasks = list(self._shown.values())
        self.clear(columns=True)
        self._add_columns()
        self.show(tasks)
        if selected is not None and selected in self._shown:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def set_short_names(self, short_names: dict[str, str]) -> None:
        """The names the compact columns show for each task type (from the types' schemas)."""
        if short_names == self._short_names:
            return
        self._short_names = dict(short_names)
        if self.compact and self._shown:
            self.show(list(self._shown.values()))

    # --- rows -----------------------------------------------------------------------------------

    def _cells(self, task: TaskRecord, now_ms: int) -> dict[str, Any]:
        counts = task.counts
        first = self._columns[0][0]
        # paused queue: a running task finishes its in-flight items and then waits, so it must
        # not read as running with an ETA that climbs while nothing moves
        held = self.paused and task.status is TaskStatus.RUNNING
        cells: dict[str, Any] = {
            "id": task.task_id,
            "type": self._short_names.get(task.type, task.type) if self.compact else task.type,
            "priority": task.priority.name,
            "status": (
                Text("‖ PAUSED", style="bold yellow")
                if held
                else Text(f"{task.review_pending} wait", style="bold yellow")
                if task.review_pending  # a review-mode task's proposals wait for the operator
                else task_status_text(task)
            ),
            "progress": progress_bar(task.progress, task.status, width=6 if self.compact else 10),
            "items": f"{counts.finished}/{counts.total}",
            "failed": Text(str(counts.failed), style="red" if counts.failed else ""),
            "eta": "‖" if held else eta_text(task, now_ms),
            "age": age_text(task, now_ms),
        }
        mark = "● " if task.task_id in self.marked else ""
        cells[first] = KeyedText(mark + str(cells[first]), task.task_id)
        return {key: cells[key] for key, _, _ in self._columns}

    def upsert(self, task: TaskRecord) -> bool:
        """Add or update a task's row; True when a row was added."""
        previous = self._shown.get(task.task_id)
        if previous is None and self._floor is not None and task.task_id < self._floor:
            return False  # older than every row of the full page: it would be trimmed at once
        self._shown[task.task_id] = task
        cells = self._cells(task, self._clock())
        if previous is None:
            self.add_row(*cells.values(), key=task.task_id)
            self._drawn[task.task_id] = {key: str(value) for key, value in cells.items()}
            return True
        self._write(task.task_id, cells)
        return False

    def _write(self, task_id: str, cells: dict[str, Any]) -> None:
        """Write the cells whose text differs from what the row shows (repaints that row)."""
        drawn = self._drawn.setdefault(task_id, {})
        changed: dict[str, Any] = {}
        for key, value in cells.items():
            text = str(value)
            if drawn.get(key) != text:
                drawn[key] = text
                changed[key] = value
        self.set_row_cells(task_id, changed)

    def remove_task(self, task_id: str) -> None:
        self.marked.pop(task_id, None)
        self._drawn.pop(task_id, None)
        if self._shown.pop(task_id, None) is not None:
            try:
                self.remove_row(task_id)
            except RowDoesNotExist:
                pass

    def show(self, tasks: Iterable[TaskRecord]) -> None:
        """Replace every row (used after a resync or when the filter changes)."""
        selected = self.selected_task_id
        self.clear()
        self._shown.clear()
        self._drawn.clear()
        self._floor = None
        for task in tasks:
            if len(self._shown) >= MAX_ROWS:
                break
            self.upsert(task)
        self.order_rows()
        if selected is not None and selected in self._shown:
            self.move_cursor(row=self.get_row_index(selected))

    def toggle_mark(self, task_id: str) -> None:
        if task_id in self.marked:
            del self.marked[task_id]
        else:
            self.marked[task_id] = None
        task = self._shown.get(task_id)
        if task is not None:
            self._write(task_id, self._cells(task, self._clock()))

    def clear_marks(self) -> None:
        marked, self.marked = list(self.marked), {}
        for task_id in marked:
            task = self._shown.get(task_id)
            if task is not None:
                self._write(task_id, self._cells(task, self._clock()))

    def set_paused(self, paused: bool) -> None:
        if paused != self.paused:
            self.paused = paused
            now_ms = self._clock()
            for task in list(self._shown.values()):
                if task.status is TaskStatus.RUNNING:
                    self._write(task.task_id, self._cells(task, now_ms))

    def set_sort(self, mode: str) -> None:
        """Order rows by ``mode`` (SORT_MODES); running tasks come first in every mode."""
        self.sort_mode = mode if mode in SORT_MODES else SORT_MODES[0]
        self.order_rows()

    def _sort_key(self, cell: Any) -> tuple[Any, ...]:
        task_id = _task_id_of(cell)
        task = self._shown.get(task_id)
        if task is None:
            return (False, 0, task_id)
        running = task.status is TaskStatus.RUNNING
        if self.sort_mode == "status":
            return (running, -STATUS_ORDER.index(task.status), task_id)
        if self.sort_mode == "priority":
            return (running, int(task.priority), task_id)
        return (running, 0, task_id)

    def order_rows(self) -> None:
        """Running tasks first, then by the sort mode, newest first within it (task ids are
        time-ordered); drop rows past MAX_ROWS."""
        selected = self.selected_task_id
        self.sort(self._columns[0][0], key=self._sort_key, reverse=True)
        if len(self._shown) > MAX_ROWS:
            for task_id in sorted(self._shown)[: len(self._shown) - MAX_ROWS]:
                self.remove_task(task_id)
        self._floor = min(self._shown) if len(self._shown) >= MAX_ROWS else None
        if selected is not None and selected in self._shown:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def refresh_ages(self, slices: int = 1) -> None:
        """Re-render the ages and ETAs of the next ``1/slices`` of the rows (in turn; all of them
        by default), touching only the cells whose text changed.

        Called ``slices`` times per period, every row is refreshed once per period while each
        call repaints a few rows: every visible age changes within the same minute, and all at
        once was a frame-long stall every period.
        """
        now_ms = self._clock()
        count = -(-len(self._shown) // max(1, slices))
        start = self._age_turn if self._age_turn < len(self._shown) else 0
        self._age_turn = start + count
        for task_id, task in islice(self._shown.items(), start, start + count):
            cells: dict[str, Any] = {"age": age_text(task, now_ms)}
            if task.status is TaskStatus.RUNNING and not self.paused:
                cells["eta"] = eta_text(task, now_ms)
            self._write(task_id, cells)

    @property
    def shown_count(self) -> int:
        return len(self._shown)

    def is_shown(self, task_id: str) -> bool:
        return task_id in self._shown

    @property
    def selected_task_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:
            return None
        return None if row_key.value is None else str(row_key.value)

    # --- events ---------------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.TaskSelected(str(event.row_key.value)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        value = event.row_key.value if event.row_key is not None else None
        self.post_message(self.TaskHighlighted(None if value is None else str(value)))
