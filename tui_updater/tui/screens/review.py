"""The review screen: a review-mode task's proposals, each beside the current value (a word
diff), accepted, rejected or edited one at a time, the marked ones, or all that wait."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label, Static, TextArea

from tui_updater.core.models import TaskRecord
from tui_updater.core.proposals import ProposalStatus, ProposalView
from tui_updater.core.service import UpdaterService
from tui_updater.errors import InvalidParameters, TavernError
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.widgets.avatar import AvatarPreview
from tui_updater.tui.widgets.header import KeyFooter

STATE_MARKS = {
    ProposalStatus.PENDING: Text("waiting", style="yellow"),
    ProposalStatus.ACCEPTED: Text("✓ accepted", style="green"),
    ProposalStatus.REJECTED: Text("✗ rejected", style="dim"),
    ProposalStatus.CONFLICT: Text("✗ conflict", style="bold red"),
}
COLUMNS = (("", 1), ("Character", 28), ("Fields", 24), ("State", 12))


def _state_mark(proposal: ProposalView) -> Text:
    if proposal.edited and proposal.status is ProposalStatus.PENDING:
        return Text("✎ edited", style="yellow")
    return STATE_MARKS[proposal.status]


def shown(value: Any) -> str:
    return "" if value is None else str(value)


def word_diff(old: Any, new: Any) -> Text:
    """``new`` against ``old`` word by word: removed words struck out in red, added in green."""
    before, after = shown(old).split(" "), shown(new).split(" ")
    text = Text()
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            text.append(" ".join(before[a0:a1]) + " ")
            continue
        if a1 > a0:
            text.append(" ".join(before[a0:a1]) + " ", style="red strike")
        if b1 > b0:
            text.append(" ".join(after[b0:b1]) + " ", style="bold green")
    return text


def proposal_text(proposal: ProposalView) -> Text:
    """Each field: its current value beside the proposal, as a diff, and why it may conflict."""
    text = Text()
    for name, (expected, proposed) in proposal.changes.items():
        current = expected if proposal.current is None else proposal.current.get(name, expected)
        text.append(f"{name}\n", style="bold underline")
        if proposal.status is not ProposalStatus.PENDING:
            text.append(f"{proposal.status.value.lower()}: ", style="dim")
            text.append_text(word_diff(expected, proposed))
            text.append("\n\n")
            continue
        if current != expected:
            text.append(
                "the site changed this since the task read it: accepting reports CONFLICT\n",
                style="bold red",
            )
        if current in (None, ""):
            text.append("(empty now) ", style="dim italic")
        text.append_text(word_diff(current, proposed))
        text.append("\n\n")
    if proposal.error:
        text.append(proposal.error, style="red")
    return text


class ProposalEditor(ModalScreen[dict[str, str] | None]):
    """Edit a proposal's values: one text area per field; ctrl+s keeps them, esc does not."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, proposal: ProposalView) -> None:
        super().__init__()
        self.proposal = proposal

    def compose(self) -> ComposeResult:
        with Vertical(id="review-editor"):
            yield Label(
                f"[b]Edit[/b] {escape(self.proposal.label or self.proposal.character_id)}"
                "  [dim]ctrl+s save · esc cancel[/dim]"
            )
            for name, (_old, new) in self.proposal.changes.items():
                yield Label(name)
                yield TextArea(shown(new), id=f"edit-{name}", soft_wrap=True)
            yield Static("", id="review-editor-error")

    def action_save(self) -> None:
        values = {
            name: self.query_one(f"#edit-{name}", TextArea).text for name in self.proposal.changes
        }
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReviewScreen(Screen[None]):
    """One task's proposals; a x e act on the highlighted one, A X on the marked (or all)."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("a", "accept", "Accept"),
        Binding("x", "reject", "Reject"),
        Binding("e", "edit", "Edit"),
        Binding("space", "mark", "Mark"),
        Binding("A", "accept_many", "Accept marked/all"),
        Binding("X", "reject_many", "Reject marked/all"),
        Binding("f5,ctrl+r", "reload", "Reload", show=False),
    ]

    def __init__(self, service: UpdaterService, task: TaskRecord) -> None:
        super().__init__()
        self.service = service
        self.task_record = task
        self.proposals: list[ProposalView] = []
        self.marked: dict[int, None] = {}  # ordered set of proposal ids, as the queue's marks

    def compose(self) -> ComposeResult:
        yield Static("", id="review-title")
        yield DataTable(id="review-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="review-diff"):
            with Horizontal(id="review-avatars"):
                yield AvatarPreview("", id="review-avatar-old")
                yield AvatarPreview("", id="review-avatar-new")
            yield Static("", id="review-diff-text")
        yield Static("", id="review-status")
        yield KeyFooter()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#review-table", DataTable)

    def on_mount(self) -> None:
        for label, width in COLUMNS:
            self.table.add_column(label, key=label or "mark", width=width)
        self.table.focus()
        self.load()

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="review", exit_on_error=False)
    async def load(self) -> None:
        try:
            proposals = await self.service.list_proposals(self.task_record.task_id)
            self.task_record = await self.service.get_task(self.task_record.task_id)
        except TavernError as exc:
            self._say(f"[red]{escape(str(exc))}[/red]")
            return
        self.show(proposals)

    def show(self, proposals: Sequence[ProposalView]) -> None:
        table = self.table
        selected = self.selected
        self.proposals = list(proposals)
        table.clear()
        for p in self.proposals:
            table.add_row(
                "●" if p.proposal_id in self.marked else " ",
                p.label or p.character_id,
                ", ".join(p.changes),
                _state_mark(p),
                key=str(p.proposal_id),
            )
        keys = [p.proposal_id for p in self.proposals]
        if selected is not None and selected.proposal_id in keys:
            table.move_cursor(row=keys.index(selected.proposal_id), animate=False)
        self._show_title()
        self._show_diff()

    def _show_title(self) -> None:
        waiting = sum(p.status is ProposalStatus.PENDING for p in self.proposals)
        task = self.task_record
        marked = f"  ·  [b]{len(self.marked)} marked[/b]" if self.marked else ""
        self.query_one("#review-title", Static).update(
            f"[b]Review[/b] {escape(task.task_id)}  ·  [b]{waiting}[/b] of "
            f"{len(self.proposals)} proposal{'s' if len(self.proposals) != 1 else ''} wait{marked}"
        )

    @property
    def selected(self) -> ProposalView | None:
        if not self.proposals or not self.table.row_count:
            return None
        row = min(self.table.cursor_row, len(self.proposals) - 1)
        return self.proposals[row]

    @on(DataTable.RowHighlighted, "#review-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_diff()

    def _show_diff(self) -> None:
        proposal = self.selected
        body = Text("No proposals.") if proposal is None else proposal_text(proposal)
        self.query_one("#review-diff-text", Static).update(body)
        avatars = self.query_one("#review-avatars", Horizontal)
        avatars.display = proposal is not None and "avatar" in proposal.changes
        if proposal is not None and avatars.display:
            old = (proposal.current_files or {}).get("avatar")
            new = (proposal.files or {}).get("avatar")
            waiting = proposal.status is ProposalStatus.PENDING
            if not waiting:
                old, new = None, old  # written or dropped: only what the row names now
            for side, path, empty in (
                ("old", old, "no avatar now" if waiting else ""),
                ("new", new, ""),
            ):
                preview = self.query_one(f"#review-avatar-{side}", AvatarPreview)
                if path:
                    preview.show_file(path, width_cells=16)
                else:
                    preview.update(Text(empty, style="dim"))

    def _say(self, message: str) -> None:
        self.query_one("#review-status", Static).update(message)

    def action_mark(self) -> None:
        proposal = self.selected
        if proposal is None or proposal.proposal_id is None:
            return
        if proposal.proposal_id in self.marked:
            del self.marked[proposal.proposal_id]
        else:
            self.marked[proposal.proposal_id] = None
        row = self.table.cursor_row
        self.table.update_cell(
            str(proposal.proposal_id), "mark", "●" if proposal.proposal_id in self.marked else " "
        )
        if row < self.table.row_count - 1:
            self.table.move_cursor(row=row + 1)
        self._show_title()

    def _pending_selected(self) -> ProposalView | None:
        proposal = self.selected
        if proposal is None or proposal.status is not ProposalStatus.PENDING:
            self._say("[yellow]the highlighted proposal does not wait[/yellow]")
            return None
        return proposal

    def action_accept(self) -> None:
        proposal = self._pending_selected()
        if proposal is not None:
            self.settle("accept", [proposal.proposal_id or 0])
            self._next_row()

    def action_reject(self) -> None:
        proposal = self._pending_selected()
        if proposal is not None:
            self.settle("reject", [proposal.proposal_id or 0])
            self._next_row()

    def _next_row(self) -> None:
        """After settling one, the next proposal is the one the operator looks at."""
        row = self.table.cursor_row
        if row < self.table.row_count - 1:
            self.table.move_cursor(row=row + 1)

    def _many(self, verb: str) -> None:
        ids = list(self.marked) or None
        waiting = sum(p.status is ProposalStatus.PENDING for p in self.proposals)
        which = f"the {len(ids)} marked" if ids else f"all {waiting} waiting"
        if not ids and not waiting:
            self._say("no proposals wait")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.settle(verb, ids)

        self.app.push_screen(
            ConfirmScreen(
                f"{verb.capitalize()} {which} proposal(s)?", confirm_label=verb.capitalize()
            ),
            answered,
        )

    def action_accept_many(self) -> None:
        self._many("accept")

    def action_reject_many(self) -> None:
        self._many("reject")

    @work(exclusive=True, group="review-settle", exit_on_error=False)
    async def settle(self, verb: str, ids: list[int] | None) -> None:
        task_id = self.task_record.task_id
        try:
            if verb == "accept":
                settled = await self.service.accept_proposals(task_id, ids)
            else:
                settled = await self.service.reject_proposals(task_id, ids)
        except TavernError as exc:
            self._say(f"[red]{escape(str(exc))}[/red]")
            return
        for proposal in settled:
            self.marked.pop(proposal.proposal_id or 0, None)
        conflicts = [p for p in settled if p.status is ProposalStatus.CONFLICT]
        message = f"{verb}ed {len(settled) - len(conflicts)} proposal(s)"
        if conflicts:
            names = ", ".join(p.label or p.character_id for p in conflicts[:3])
            message += f"; [b red]CONFLICT[/b red] (the site changed it meanwhile): {escape(names)}"
        self._say(message)
        self.load()

    def action_edit(self) -> None:
        proposal = self._pending_selected()
        if proposal is None:
            return

        def edited(values: dict[str, str] | None) -> None:
            if values is not None:
                self.save_edit(proposal, values)

        self.app.push_screen(ProposalEditor(proposal), edited)

    @work(exclusive=True, group="review-settle", exit_on_error=False)
    async def save_edit(self, proposal: ProposalView, values: dict[str, str]) -> None:
        try:
            await self.service.edit_proposal(
                self.task_record.task_id, proposal.proposal_id or 0, values
            )
        except InvalidParameters as exc:
            self._say(f"[red]not saved: {escape(exc.field)}: {escape(exc.message)}[/red]")
            return
        except TavernError as exc:
            self._say(f"[red]{escape(str(exc))}[/red]")
            return
        self._say(f"edited the proposal for {escape(proposal.label or proposal.character_id)}")
        self.load()
