"""The characters screen: a paged, searchable, filterable table of every character, marks, and
"new task for these"; the summary charts (missing fields, MBTI, avatar status) below it.

Each page comes from the database (service.list_characters): 100,000 characters cost one page.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from tui_updater.core.service import CharacterPage, CharacterQuery, CharacterRow, UpdaterService
from tui_updater.errors import TavernError
from tui_updater.tui.screens.card_export import CardExportDialog
from tui_updater.tui.widgets.character_summary import (
    avatar_status,
    mbti_distribution,
    missing_fields,
)
from tui_updater.tui.widgets.header import KeyFooter

PAGE_ROWS = 100
SEARCH_DELAY_S = 0.25
# filter → (key, label, the task type that fills the gap)
FILTERS: dict[str, tuple[str, str, str]] = {
    "missingAvatar": ("1", "no avatar", "CHARACTER_AVATAR"),
    "noMbti": ("2", "no MBTI", "MBTI_ASSIGNMENT"),
    "thinDescription": ("3", "thin", "CHARACTER_SETTINGS"),
}
SORTS = ("name", "-updatedAt", "language", "mbtiType")
# label, width: 80 columns hold them all (long names and field lists are cut, not wrapped)
COLUMNS = (
    (" ", 1),
    ("Name", 14),
    ("Lang", 6),
    ("MBTI", 4),
    ("Avatar", 10),
    ("Empty fields", 18),
    ("Updated", 10),
)
SHORT_FIELDS = {
    "avatar": "avatar",
    "description": "desc",
    "fullDescription": "full",
    "personality": "pers",
    "backstory": "story",
    "speakingStyle": "style",
    "scenario": "scen",
    "exampleDialogs": "dialog",
    "firstMessage": "first",
    "mbtiType": "mbti",
}


def character_cells(row: CharacterRow, marked: bool) -> tuple[str, ...]:
    avatar = "✓ yes" if row.has_avatar else f"✗ {(row.avatar_status or 'none').lower()}"
    empty = ",".join(SHORT_FIELDS.get(f, f) for f in row.empty_fields) or "—"
    updated = (row.updated_at or "")[:10]  # the day: the view (enter) has the whole value
    return (
        "●" if marked else " ",
        row.name or row.character_id,
        row.language or "—",
        row.mbti_type or "—",
        avatar,
        empty,
        updated,
    )


class CharactersScreen(Screen[None]):
    """Browse characters; mark some (or take the filter) and open a task form for them."""

    BINDINGS = [
        Binding("escape,c", "leave", "Close"),
        Binding("slash", "search", "Search"),
        Binding("space", "mark", "Mark", show=True),
        Binding("asterisk", "mark_all", "Mark all", show=True),
        Binding("t", "task_for_marked", "Task: marked"),
        Binding("T", "task_for_filter", "Task: filter"),
        Binding("x", "export_cards", "Export cards"),
        Binding("1", "toggle_filter('missingAvatar')", "No avatar", show=False),
        Binding("2", "toggle_filter('noMbti')", "No MBTI", show=False),
        Binding("3", "toggle_filter('thinDescription')", "Thin", show=False),
        Binding("l", "cycle_language", "Language", show=False),
        Binding("o", "cycle_sort", "Sort"),
        Binding("right_square_bracket", "page(1)", "Next page", show=False),
        Binding("left_square_bracket", "page(-1)", "Prev page", show=False),
        Binding("f5,ctrl+r", "reload", "Reload", show=False),
    ]

    class TaskRequested(Message):
        """Open the new-task form for these characters (None: the type's own candidates)."""

        def __init__(self, type_name: str, character_ids: list[str] | None) -> None:
            super().__init__()
            self.type_name = type_name
            self.character_ids = character_ids

    class CharacterChosen(Message):
        """Enter on a character: open its view."""

        def __init__(self, character_id: str) -> None:
            super().__init__()
            self.character_id = character_id

    def __init__(self, service: UpdaterService) -> None:
        super().__init__()
        self.service = service
        self.summary: dict[str, Any] | None = None
        self.query_state = CharacterQuery(limit=PAGE_ROWS)
        self.page_data: CharacterPage | None = None
        self.marked: dict[str, None] = {}  # ordered set: the order the operator marked them
        self.languages: list[str] = []
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("[b]Characters[/b]  loading…", id="characters-title")
        with Horizontal(id="characters-bar"):
            yield Input(placeholder="/ search name or description", id="characters-search")
            yield Static("", id="characters-filters")
        yield DataTable(id="characters-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="characters-paging")
        with VerticalScroll(id="characters-body"):
            yield Static("", id="characters-missing")
            yield Static("", id="characters-mbti")
            yield Static("", id="characters-avatars")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#characters-table", DataTable)
        for label, width in COLUMNS:
            table.add_column(label, key=label, width=width)
        table.focus()
        self._show_filters()
        self.action_reload()

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#characters-table", DataTable)

    # --- loading ------------------------------------------------------------------------------

    def action_reload(self) -> None:
        # the page first: both share the database's one connection, and the summary scans all
        self.load_page()
        self.load_summary()

    @work(exclusive=True, group="characters-summary", exit_on_error=False)
    async def load_summary(self) -> None:
        try:
            summary = await self.service.characters_summary()
        except TavernError as exc:
            self.query_one("#characters-title", Static).update(
                f"[b]Characters[/b]  [red]{exc}[/red]"
            )
            return
        self.show(summary)

    @work(exclusive=True, group="characters-page", exit_on_error=False)
    async def load_page(self) -> None:
        try:
            page = await self.service.list_characters(self.query_state)
        except TavernError as exc:
            self.query_one("#characters-paging", Static).update(f"[red]{exc}[/red]")
            return
        self.show_page(page)

    def show_page(self, page: CharacterPage) -> None:
        self.page_data = page
        for row in page.rows:
            if row.language and row.language not in self.languages:
                self.languages.append(row.language)
        table = self.table
        with self.app.batch_update():
            table.clear()
            for row in page.rows:
                table.add_row(
                    *character_cells(row, row.character_id in self.marked), key=row.character_id
                )
        self._show_paging()

    def _show_paging(self) -> None:
        page = self.page_data
        if page is None:
            return
        first = page.offset + 1 if page.rows else 0
        last = page.offset + len(page.rows)
        text = f"rows {first:,}–{last:,} of {page.total:,}"
        if page.total > last or page.offset:
            text += "  [dim]\\[ ] pages[/dim]"
        if self.marked:
            text += f"  ·  [b]{len(self.marked):,} marked[/b]"
        self.query_one("#characters-paging", Static).update(text)

    def _show_filters(self) -> None:
        query = self.query_state
        parts = []
        for name, (key, label, _type) in FILTERS.items():
            state = "[b]☑[/b]" if name in query.filters else "☐"
            parts.append(f"{key}{state}{label}")
        parts.append(f"l:[b]{query.language or 'any'}[/b]")
        parts.append(f"o:[b]{query.sort}[/b]")
        self.query_one("#characters-filters", Static).update(" ".join(parts))

    def show(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        total = int(summary.get("total") or 0)
        table = summary.get("table") or "?"
        self.query_one("#characters-title", Static).update(
            f"[b]Characters[/b]  table [b]{table}[/b]: {total} characters"
        )
        self.query_one("#characters-missing", Static).update(missing_fields(summary))
        self.query_one("#characters-mbti", Static).update(mbti_distribution(summary))
        self.query_one("#characters-avatars", Static).update(avatar_status(summary))

    # --- the query ----------------------------------------------------------------------------

    def _requery(self, **changes: Any) -> None:
        self.query_state = self.query_state.evolve(offset=0, **changes)
        self._show_filters()
        self.load_page()

    def action_search(self) -> None:
        self.query_one("#characters-search", Input).focus()

    @on(Input.Changed, "#characters-search")
    def _search_changed(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY_S, self._search_now)

    def _search_now(self) -> None:
        self._search_timer = None
        text = self.query_one("#characters-search", Input).value.strip()
        if text != self.query_state.search:
            self._requery(search=text)

    @on(Input.Submitted, "#characters-search")
    def _search_submitted(self) -> None:
        self._search_now()
        self.table.focus()

    def action_toggle_filter(self, name: str) -> None:
        chosen = list(self.query_state.filters)
        chosen.remove(name) if name in chosen else chosen.append(name)
        self._requery(filters=tuple(chosen))

    def action_cycle_language(self) -> None:
        choices: list[str | None] = [None, *self.languages]
        position = (
            choices.index(self.query_state.language) if self.query_state.language in choices else 0
        )
        self._requery(language=choices[(position + 1) % len(choices)])

    def action_cycle_sort(self) -> None:
        current = self.query_state.sort
        position = SORTS.index(current) if current in SORTS else -1
        self._requery(sort=SORTS[(position + 1) % len(SORTS)])

    def action_page(self, step: int) -> None:
        page = self.page_data
        if page is None:
            return
        offset = self.query_state.offset + step * PAGE_ROWS
        if 0 <= offset < max(page.total, 1):
            self.query_state = self.query_state.evolve(offset=offset)
            self.load_page()

    # --- marks and tasks ----------------------------------------------------------------------

    def current_id(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return None if key is None else str(key)

    def action_mark(self) -> None:
        key = self.current_id()
        if key is None:
            return
        if key in self.marked:
            del self.marked[key]
        else:
            self.marked[key] = None
        self.table.update_cell(key, " ", "●" if key in self.marked else " ")
        if self.table.cursor_row < self.table.row_count - 1:
            self.table.move_cursor(row=self.table.cursor_row + 1)
        self._show_paging()

    @work(exclusive=True, group="characters-marks", exit_on_error=False)
    async def action_mark_all(self) -> None:
        try:
            ids = await self.service.character_ids(self.query_state)
        except TavernError as exc:
            self.notify(f"cannot mark: {exc}", severity="error")
            return
        every = all(key in self.marked for key in ids)
        for key in ids:
            if every:
                self.marked.pop(key, None)
            else:
                self.marked[key] = None
        if self.page_data is not None:
            self.show_page(self.page_data)
        self.notify(f"{'unmarked' if every else 'marked'} {len(ids):,} characters")

    def _task_type(self) -> str:
        for name in self.query_state.filters:
            return FILTERS[name][2]
        return ""

    def action_task_for_marked(self) -> None:
        if not self.marked:
            self.notify("nothing marked: space marks a character, * every filtered one")
            return
        self.post_message(self.TaskRequested(self._task_type(), list(self.marked)))

    @work(exclusive=True, group="characters-marks", exit_on_error=False)
    async def action_task_for_filter(self) -> None:
        query = self.query_state
        if len(query.filters) == 1 and not query.search and query.language is None:
            # exactly a gap a type fills: let the type select its own candidates
            self.post_message(self.TaskRequested(self._task_type(), None))
            return
        try:
            ids = await self.service.character_ids(query)
        except TavernError as exc:
            self.notify(f"cannot list the filter's characters: {exc}", severity="error")
            return
        if not ids:
            self.notify("the filter matches no character")
            return
        self.post_message(self.TaskRequested(self._task_type(), ids))

    @work(exclusive=True, group="characters-marks", exit_on_error=False)
    async def action_export_cards(self) -> None:
        """Export the marked characters, or every one the filter matches when none is marked."""
        ids, what = list(self.marked), "marked characters"
        if not ids:
            try:
                ids = await self.service.character_ids(self.query_state)
            except TavernError as exc:
                self.notify(f"cannot list the filter's characters: {exc}", severity="error")
                return
            what = "characters of the filter"
        if not ids:
            self.notify("nothing to export: the filter matches no character")
            return

        def exported(report: dict[str, Any] | None) -> None:
            if report is not None:
                self.notify(f"exported {report['exported']:,} cards to {report['directory']}")

        self.app.push_screen(CardExportDialog(self.service, ids, what), exported)

    @on(DataTable.RowSelected, "#characters-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.CharacterChosen(str(event.row_key.value)))

    def action_leave(self) -> None:
        search = self.query_one("#characters-search", Input)
        if search.has_focus:
            self.table.focus()
            return
        self.app.pop_screen()
