"""server/ talks to the engine only through core.service.UpdaterService."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = (
    "tui_updater.store",
    "tui_updater.engine",
    "tui_updater.providers",
    "tui_updater.characters",
    "tui_updater.tasks",
    "tui_updater.tui",
    "textual",
)


def test_server_modules_import_no_engine_internals() -> None:
    code = (
        "import sys\n"
        "import tui_updater.server.app, tui_updater.server.client, tui_updater.server.embedded\n"
        f"bad = [m for m in sys.modules if m.startswith({FORBIDDEN!r})]\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.strip() == ""
