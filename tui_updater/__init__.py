"""tavern-updater-tui: a terminal dashboard and durable task engine for AI character databases.

The programming interface (``open``, ``connect``, ``TaskManager``, ``Task``, ``TaskFailed``)
lives in ``tui_updater.api`` and is imported on first use, so the command line starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Task", "TaskFailed", "TaskManager", "__version__", "connect", "open"]

if TYPE_CHECKING:
    from tui_updater.api import Task, TaskFailed, TaskManager, connect, open


def __getattr__(name: str) -> Any:
    if name in ("Task", "TaskFailed", "TaskManager", "connect", "open"):
        from tui_updater import api

        return getattr(api, name)
    raise AttributeError(f"module 'tui_updater' has no attribute {name!r}")
