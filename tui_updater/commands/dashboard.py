"""The dashboard mode (default) and --connect."""

from __future__ import annotations

import sys

from tui_updater.config import Settings


def dashboard_command(settings: Settings, *, connect_url: str | None, token: str | None) -> int:
    print("the dashboard arrives in a later release", file=sys.stderr)
    return 2
