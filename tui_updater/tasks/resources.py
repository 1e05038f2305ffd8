"""What task types may use while they run, bundled by the runtime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_updater.config import Settings
    from tui_updater.providers.base import ContentProvider


@dataclass(frozen=True)
class TaskResources:
    """Built once in runtime.py and handed to every task through ``TaskContext.resources``."""

    settings: Settings
    provider: ContentProvider
    characters: Any  # tui_updater.characters.db.CharacterDb
    backups: Any  # tui_updater.characters.backups.BackupStore
