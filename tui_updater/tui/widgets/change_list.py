"""What a task changed: its journal as a paged table (character, field, before → after, state),
filtered by state, field and text in the database; one page is fetched at a time."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from tui_updater.core.changes import ChangeQuery, TaskChange, TaskChangePage
from tui_updater.core.service import UpdaterService
from tui_updater.errors import TavernError

CHANGE_PAGE = 200  # changes per page
CHANGE_STATE_FILTERS: tuple[str | None, ...] = (None, "applied", "reverted", "conflict")
STATE_STYLES = {
    "applied": "green",
    "reverted": "magenta",
    "conflict": "yellow",
    "revert_conflict": "yellow",
    "planned": "dim",
}
VALUE_CHARS = 60  # a value longer than this is cut in the table (the character view has it all)


def value_text(value: Any) -> str:
    """A before/after cell: ∅ for nothing, one line, cut at VALUE_CHARS."""
    if value is None or value == "":
        return "∅"
    shown = " ".join(str(value).split())
    return shown if len(shown) <= VALUE_CHARS else shown[: VALUE_CHARS - 1] + "…"


def revert_note(page: TaskChangePage | None, *, reverted_task: bool) -> str:
    """How much of the task was reverted, when some but not all of it was ("" otherwise)."""
    if page is None or reverted_task or not page.reverted:
        return ""
    return f"partly reverted: {page.reverted:,} of {page.written:,} change(s) undone"


class ChangeList(Vertical):
    """The changes of one task; the owner calls ``reload`` (while the task runs, on a timer)."""

    DEFAULT_CSS = """
    ChangeList { height: 1fr; }
    ChangeList > #changes-title { height: auto; }
    ChangeList > #changes-search { height: 1; border: none; padding: 0 1; }
    ChangeList > DataTable { height: 1fr; }
    """

    # esc in the search box closes the box (the screen's esc still leaves from the table)
    BINDINGS = [Binding("escape", "close_search", "Close search", show=False)]

    class Highlighted(Message):
        """The cursor rests on a change (the owner shows its avatar file, if any)."""

        def __init__(self, change: TaskChange) -> None:
            super().__init__()
            self.change = change

    class Loaded(Message):
        """A page arrived (its counts say how much of the task was reverted)."""

        def __init__(self, page: TaskChangePage) -> None:
            super().__init__()
            self.page = page

    class Chosen(Message):
        """Enter on a change: show its character."""

        def __init__(self, change: TaskChange) -> None:
            super().__init__()
            self.change = change

    def __init__(self, service: UpdaterService, task_id: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service = service
        self.task_id = task_id
        self.query_state = ChangeQuery(limit=CHANGE_PAGE)
        self.page: TaskChangePage | None = None

    def compose(self) -> ComposeResult:
        yield Static("[b]Changes[/b]", id="changes-title")
        yield Input(placeholder="search: name, id or value; enter applies", id="changes-search")
        yield DataTable(id="changes-table", cursor_type="row", zebra_stripes=True)

    @property
    def table(self) -> DataTable[object]:
        return self.query_one("#changes-table", DataTable)

    def on_mount(self) -> None:
        self.query_one("#changes-search", Input).display = False
        for key, label in (
            ("name", "Character"),
            ("field", "Field"),
            ("state", "State"),
            ("change", "Change"),
        ):
            self.table.add_column(label, key=key)

    def _requery(self, **changes: Any) -> None:
        self.query_state = self.query_state.evolve(offset=0, **changes)
        self.reload()

    def cycle_state(self) -> None:
        position = CHANGE_STATE_FILTERS.index(self.query_state.state)
        self._requery(state=CHANGE_STATE_FILTERS[(position + 1) % len(CHANGE_STATE_FILTERS)])

    def cycle_field(self) -> None:
        choices: list[str | None] = [None, *(self.page.fields if self.page else ())]
        current = self.query_state.field
        position = choices.index(current) if current in choices else 0
        self._requery(field=choices[(position + 1) % len(choices)])

    def open_search(self) -> None:
        search = self.query_one("#changes-search", Input)
        search.display = True
        search.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_search":
            return self.query_one("#changes-search", Input).has_focus
        return True

    def action_close_search(self) -> None:
        search = self.query_one("#changes-search", Input)
        search.display = bool(self.query_state.search)
        search.value = self.query_state.search
        self.table.focus()

    @on(Input.Submitted, "#changes-search")
    def _searched(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        event.input.display = bool(text)
        self.table.focus()
        self._requery(search=text)

    def turn_page(self, step: int) -> None:
        offset = self.query_state.offset + step * CHANGE_PAGE
        total = self.page.total if self.page else 0
        if offset < 0 or offset >= total:
            return
        self.query_state = self.query_state.evolve(offset=offset)
        self.reload()

    @work(exclusive=True, group="changes-reload", exit_on_error=False)
    async def reload(self) -> None:
        """Fetch the current page; the cursor stays on its change when the rows refresh."""
        query = self.query_state
        try:
            page = await self.service.task_changes(self.task_id, query)
        except TavernError as exc:
            self.query_one("#changes-title", Static).update(f"[red]changes: {exc}[/red]")
            return
        if not page.rows and query.offset and page.total:  # the filter shrank under the page
            self.query_state = query.evolve(offset=0)
            self.reload()
            return
        previous, self.page = self.page, page
        if previous is None or previous.rows != page.rows:
            self._fill(page)
        self._show_title(page)
        self.post_message(self.Loaded(page))

    def _show_title(self, page: TaskChangePage) -> None:
        query = self.query_state
        shown = len(page.rows)
        window = (
            f"{query.offset + 1:,}–{query.offset + shown:,} of {page.total:,}" if shown else "none"
        )
        filters = [query.state or "any state", query.field or "any field"]
        if query.search:
            filters.append(f"“{escape(query.search)}”")
        more = " [dim]\\[ ] pages[/dim]" if page.total > CHANGE_PAGE else ""
        self.query_one("#changes-title", Static).update(
            f"[b]Changes[/b] {window} · {' · '.join(filters)}{more}"
            " [dim](f state, e field, / search)[/dim]"
        )

    def _fill(self, page: TaskChangePage) -> None:
        table = self.table
        selected: str | None = None
        if table.row_count:
            selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        row = table.cursor_row
        table.clear()
        for change in page.rows:
            change_text = Text(value_text(change.old_value), style="dim")
            change_text.append(" → ")
            change_text.append(value_text(change.new_value))
            table.add_row(
                change.name or change.character_id,
                change.field,
                Text(change.state, style=STATE_STYLES.get(change.state, "")),
                change_text,
                key=str(change.entry_id),
            )
        keys = [str(change.entry_id) for change in page.rows]
        if selected in keys:
            row = keys.index(selected)
        if page.rows:
            table.move_cursor(row=min(row, len(page.rows) - 1), animate=False)

    def _change(self, key: str | None) -> TaskChange | None:
        rows = self.page.rows if self.page else ()
        return next((change for change in rows if str(change.entry_id) == key), None)

    @on(DataTable.RowHighlighted, "#changes-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        change = self._change(event.row_key.value)
        if change is not None:
            self.post_message(self.Highlighted(change))

    @on(DataTable.RowSelected, "#changes-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        change = self._change(event.row_key.value)
        if change is not None:
            self.post_message(self.Chosen(change))
