"""``--serve``: the headless REST + WebSocket server (built in the server module)."""

from __future__ import annotations

import sys

from tui_updater.config import Settings


def serve_command(settings: Settings) -> int:
    print("--serve arrives in a later release", file=sys.stderr)
    return 2
