"""The log pane: the newest engine log lines, following, optionally only one task's."""

from __future__ import annotations

from collections import deque

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Log, Static

LOG_LINES = 5000  # Log keeps plain strings: ~4 MB per 20k lines, unlike RichLog


class GrowingLog(Log):
    """A ``Log`` whose new lines repaint it without laying the whole screen out again.

    Textual declares ``virtual_size`` with ``layout=True``, so every batch of lines (five a
    second under load, until the line cap is reached) reflowed every widget on the screen and
    lengthened the frame a key press waits behind. Only the log's scrollbars depend on its
    length: they are updated as Textual updates them after a scroll, and a scrollbar that appears
    or goes away still asks for its layout.
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        if self.is_mounted:
            self._scroll_update(size)


class LogPane(Vertical):
    """A title and a ``Log`` with a line cap; ``filter_to`` narrows it to one task."""

    DEFAULT_CSS = """
    LogPane { height: 13; }
    LogPane > #log-title { height: 1; background: $panel; padding: 0 1; }
    LogPane > Log { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: deque[tuple[str | None, str]] = deque(maxlen=LOG_LINES)
        self.task_filter: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="log-title")
        yield GrowingLog(max_lines=LOG_LINES, id="log")

    def _title(self) -> str:
        if self.task_filter:
            return f"[b]Log[/b] — task {self.task_filter}  [dim](l: all tasks)[/dim]"
        return "[b]Log[/b] — all tasks  [dim](l: only the selected task)[/dim]"

    def add(self, lines: list[tuple[str | None, str]]) -> None:
        """Append (task id, line) pairs; only those passing the filter are shown."""
        if not lines:
            return
        self.lines.extend(lines)
        shown = [line for task_id, line in lines if self.task_filter in (None, task_id)]
        if shown:
            self.query_one(Log).write_lines(shown)

    def filter_to(self, task_id: str | None) -> None:
        """Show only ``task_id``'s lines (None: every line)."""
        self.task_filter = task_id
        self.query_one("#log-title", Static).update(self._title())
        log = self.query_one(Log)
        log.clear()
        log.write_lines([line for owner, line in self.lines if task_id in (None, owner)])
