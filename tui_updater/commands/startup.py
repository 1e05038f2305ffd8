"""Opening the runtime for a command: every start-up failure becomes one line, nothing left open."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_updater.errors import ConfigError

if TYPE_CHECKING:
    from tui_updater.config import Settings
    from tui_updater.runtime import Runtime


async def open_runtime(settings: Settings, *, mode: str = "engine") -> Runtime:
    """``Runtime.open``, with a file or directory the OS refuses named as a ConfigError.

    ``Runtime.open`` closes what it opened before it raises, so the process can exit.
    """
    from tui_updater import process
    from tui_updater.runtime import Runtime

    try:
        runtime = await Runtime.open(settings, mode=mode)
    except OSError as exc:
        where = exc.filename or settings.state_dir
        raise ConfigError(
            f"cannot use {where}: {exc.strerror or exc} (check that the path is a writable "
            "directory: --state-dir, --data-dir, --backup-dir, --avatar-dir, --log-dir)"
        ) from exc
    process.started()
    return runtime
