"""The card export dialog: format and folder for the marked (or filtered) characters; the
export itself is one service call, made here so the dialog shows its outcome or its error."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from tui_updater.core.service import UpdaterService
from tui_updater.errors import TavernError

FORMATS = (
    ("v3", "Character Card V3 PNG (with a V2 chunk)"),
    ("v2", "Character Card V2 PNG"),
    ("json", "V3 JSON"),
)


class CardExportDialog(ModalScreen[dict[str, Any] | None]):
    """Dismisses with the export's report, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, service: UpdaterService, ids: list[str], what: str) -> None:
        super().__init__()
        self.service = service
        self.ids = ids
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Static(
                f"Export [b]{len(self.ids):,}[/b] {self.what} as Character Cards", id="export-title"
            )
            with RadioSet(id="export-format"):
                for index, (_name, label) in enumerate(FORMATS):
                    yield RadioButton(label, value=index == 0)
            yield Input(
                placeholder="folder (empty: the data dir's cards/; relative: under it)",
                id="export-directory",
            )
            yield Static("", id="export-status")
            with Horizontal(id="export-buttons"):
                yield Button("Export", variant="primary", id="export-go")
                yield Button("Cancel (esc)", id="export-cancel")

    def on_mount(self) -> None:
        self.query_one("#export-directory", Input).focus()

    @property
    def chosen_format(self) -> str:
        index = self.query_one("#export-format", RadioSet).pressed_index
        return FORMATS[max(index, 0)][0]

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#export-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#export-directory")
    @on(Button.Pressed, "#export-go")
    def _go(self) -> None:
        self.query_one("#export-go", Button).disabled = True
        self.query_one("#export-status", Static).update("exporting…")
        self.export()

    @work(exclusive=True, group="card-export", exit_on_error=False)
    async def export(self) -> None:
        directory = self.query_one("#export-directory", Input).value.strip() or None
        try:
            report = await self.service.export_cards(self.ids, self.chosen_format, directory)
        except TavernError as exc:
            self.query_one("#export-status", Static).update(f"[red]{exc}[/red]")
            self.query_one("#export-go", Button).disabled = False
            return
        self.dismiss(report)
