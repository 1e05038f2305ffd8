"""The backups screen: the database backups, newest first, and restore with confirmation."""

from __future__ import annotations

import datetime as dt

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui_updater.core.models import BackupInfo
from tui_updater.core.service import UpdaterService
from tui_updater.errors import TavernError
from tui_updater.tui.screens.confirm import ConfirmScreen
from tui_updater.tui.widgets.header import KeyFooter


def _size(size_bytes: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size_bytes < 1024 or unit == "GB":
            return f"{size_bytes:.0f} {unit}" if unit == "B" else f"{size_bytes:.1f} {unit}"
        size_bytes = size_bytes / 1024  # type: ignore[assignment]
    return f"{size_bytes} B"


def _when(created_at_ms: int) -> str:
    return dt.datetime.fromtimestamp(created_at_ms / 1000, tz=dt.UTC).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )


class BackupsScreen(Screen[None]):
    """Lists backups; enter restores the selected one after a confirmation."""

    BINDINGS = [
        Binding("escape,b", "app.pop_screen", "Close"),
        Binding("enter", "restore", "Restore", priority=True),
        Binding("f5,ctrl+r", "reload", "Reload"),
    ]

    def __init__(self, service: UpdaterService) -> None:
        super().__init__()
        self.service = service
        self.backups: list[BackupInfo] = []

    def compose(self) -> ComposeResult:
        yield Static("[b]Backups[/b]  loading…", id="backups-title")
        yield DataTable(id="backups-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="backups-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#backups-table", DataTable)
        for key, label in (
            ("name", "Name"),
            ("created", "Created"),
            ("size", "Size"),
            ("source", "Source db"),
        ):
            table.add_column(label, key=key)
        table.focus()
        self.load()

    def action_reload(self) -> None:
        self.load()

    @work(exclusive=True, group="backups", exit_on_error=False)
    async def load(self) -> None:
        try:
            backups = await self.service.list_backups()
        except TavernError as exc:
            self.query_one("#backups-title", Static).update(f"[b]Backups[/b]  [red]{exc}[/red]")
            return
        self.backups = sorted(backups, key=lambda b: b.created_at_ms, reverse=True)
        table = self.query_one("#backups-table", DataTable)
        table.clear()
        for backup in self.backups:
            table.add_row(
                backup.name,
                _when(backup.created_at_ms),
                _size(backup.size_bytes),
                backup.source_db,
                key=backup.name,
            )
        hint = (
            "enter restores the selected backup (the current state is backed up first)"
            if self.backups
            else "no backups yet: a DATABASE_UPGRADE makes one"
        )
        self.query_one("#backups-title", Static).update(
            f"[b]Backups[/b]  {len(self.backups)} — {hint}"
        )

    @property
    def selected_name(self) -> str | None:
        table = self.query_one("#backups-table", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def action_restore(self) -> None:
        name = self.selected_name
        if name is None:
            self.notify("no backup selected", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.restore(name)

        self.app.push_screen(
            ConfirmScreen(
                f"Restore the database from [b]{name}[/b]?\nThe current state is backed up first.",
                confirm_label="Restore",
            ),
            answered,
        )

    @work(exclusive=True, group="restore", exit_on_error=False)
    async def restore(self, name: str) -> None:
        status = self.query_one("#backups-status", Static)
        status.update(f"restoring {name} …")
        try:
            report = await self.service.restore_backup(name)
        except TavernError as exc:
            status.update(f"[red]restore refused: {exc}[/red]")
            self.notify(f"restore failed: {exc}", severity="error")
            return
        safety = report.get("safetyBackup") or report.get("backup") or ""
        if isinstance(safety, dict):
            safety = safety.get("name", "")
        status.update(
            f"[green]restored from {name}[/green]"
            + (f"; previous state saved as {safety}" if safety else "")
        )
        self.notify(f"database restored from {name}")
        self.load()
