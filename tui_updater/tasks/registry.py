"""The registry of task types: the four built in, plus any registered through entry points.

Third-party types register under the entry-point group ``tavern_updater.task_types``; each entry
point names a TaskType subclass.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

from tui_updater.errors import UnknownTaskType
from tui_updater.tasks.base import TaskType

ENTRY_POINT_GROUP = "tavern_updater.task_types"
logger = logging.getLogger("tui_updater")


class TaskTypeRegistry:
    """Task types by name (case-insensitive; the original's kebab-case aliases accepted)."""

    def __init__(self) -> None:
        self._types: dict[str, TaskType[Any]] = {}
        self._aliases: dict[str, str] = {}

    def register(self, task_type: TaskType[Any], *aliases: str) -> None:
        self._types[task_type.name] = task_type
        for alias in (task_type.name, *aliases):
            self._aliases[alias.lower()] = task_type.name

    def get(self, name: str) -> TaskType[Any]:
        key = self._aliases.get(str(name).strip().lower())
        if key is None:
            raise UnknownTaskType(str(name), self.names())
        return self._types[key]

    def names(self) -> list[str]:
        return list(self._types)

    def aliases(self, name: str) -> list[str]:
        """The other names a type answers to (the original's kebab-case ones), in order."""
        return [a for a, n in self._aliases.items() if n == name and a != name.lower()]

    def all(self) -> list[TaskType[Any]]:
        return list(self._types.values())


def default_registry(*, load_entry_points: bool = True) -> TaskTypeRegistry:
    """The built-in types, then third-party ones found through entry points."""
    from tui_updater.tasks.avatar import CharacterAvatarTask
    from tui_updater.tasks.card_import import CharacterImportTask
    from tui_updater.tasks.mbti import MbtiAssignmentTask
    from tui_updater.tasks.settings import CharacterSettingsTask
    from tui_updater.tasks.upgrade import DatabaseUpgradeTask

    registry = TaskTypeRegistry()
    registry.register(CharacterAvatarTask(), "generate-character-avatars", "character-avatars")
    registry.register(CharacterSettingsTask(), "generate-character-settings", "character-settings")
    registry.register(MbtiAssignmentTask(), "assign-mbti", "mbti-assignment")
    registry.register(DatabaseUpgradeTask(), "database-upgrade", "upgrade-database")
    registry.register(CharacterImportTask(), "import-character-cards", "character-import")
    if load_entry_points:
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                cls = entry.load()
                registry.register(cls())
            except Exception as exc:  # a broken plug-in must not stop the app
                logger.warning("task type plug-in %s could not be loaded: %s", entry.name, exc)
    return registry
