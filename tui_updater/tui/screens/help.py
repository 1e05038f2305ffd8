"""The help screen: every key of the dashboard."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui_updater.tui.keys import EXTRA_HELP, KEYS, display_key
from tui_updater.tui.widgets.header import KeyFooter


def help_table() -> Table:
    table = Table(title="Keys", expand=False, show_edge=False, header_style="bold")
    table.add_column("Key", style="bold cyan", no_wrap=True)
    table.add_column("What it does")
    for spec in KEYS:
        table.add_row(display_key(spec.key), spec.help)
    for key, text in EXTRA_HELP:
        table.add_row(key, text)
    return table


class HelpScreen(Screen[None]):
    """Lists every key; esc, q or ? closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(
                "[b]tavern-updater-tui[/b] — bulk updates for AI character databases\n",
                id="help-title",
            )
            yield Static(help_table(), id="help-keys")
        yield KeyFooter()
