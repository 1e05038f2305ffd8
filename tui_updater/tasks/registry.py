"""The registry of task types: the four built in, plus any registered through entry points.

Third-party types register under the entry-point group ``tavern_updater.task_types``; each entry
point names a TaskType subclass.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, cast

from tui_updater.errors import UnknownTaskType
from tui_updater.tasks.base import TaskType

ENTRY_POINT_GROUP = "tavern_updater.task_types"
logger = logging.getLogger("tui_updater")


class TaskTypeRegistry:
    """Task types by name (case-insensitive; the original's kebab-case aliases accepted).

    A type can be registered as a loader (``register_lazy``): its module is imported the first
    time the type is asked for, so a process running one type never imports the others. The
    entry points are scanned only when a name is not known yet or every type is wanted."""

    def __init__(self, *, scan: Callable[[TaskTypeRegistry], None] | None = None) -> None:
        self._types: dict[str, TaskType[Any] | None] = {}  # None: not loaded yet
        self._loaders: dict[str, Callable[[], TaskType[Any]]] = {}
        self._aliases: dict[str, str] = {}
        self._scan = scan

    def register(self, task_type: TaskType[Any], *aliases: str) -> None:
        self._types[task_type.name] = task_type
        self._add_aliases(task_type.name, aliases)

    def register_lazy(self, name: str, load: Callable[[], TaskType[Any]], *aliases: str) -> None:
        """``load()`` builds the type named ``name`` when it is first asked for."""
        self._types[name] = None
        self._loaders[name] = load
        self._add_aliases(name, aliases)

    def _add_aliases(self, name: str, aliases: tuple[str, ...]) -> None:
        for alias in (name, *aliases):
            self._aliases[alias.lower()] = name

    def _scanned(self) -> None:
        scan, self._scan = self._scan, None
        if scan is not None:
            scan(self)

    def get(self, name: str) -> TaskType[Any]:
        wanted = str(name).strip().lower()
        if wanted not in self._aliases:
            self._scanned()
        key = self._aliases.get(wanted)
        if key is None:
            raise UnknownTaskType(str(name), self.names())
        task_type = self._types[key]
        if task_type is None:
            task_type = self._loaders.pop(key)()
            if task_type.name != key:
                raise TypeError(f"the loader of {key} built {task_type.name}")
            self._types[key] = task_type
        return task_type

    def names_known(self) -> list[str]:
        """The names registered so far, without scanning the entry points."""
        return list(self._types)

    def names(self) -> list[str]:
        self._scanned()
        return list(self._types)

    def aliases(self, name: str) -> list[str]:
        """The other names a type answers to (the original's kebab-case ones), in order."""
        return [a for a, n in self._aliases.items() if n == name and a != name.lower()]

    def all(self) -> list[TaskType[Any]]:
        return [self.get(name) for name in self.names()]


def _built_in(module: str, cls: str) -> Callable[[], TaskType[Any]]:
    def load() -> TaskType[Any]:
        return cast("TaskType[Any]", getattr(importlib.import_module(module), cls)())

    return load


# The built-in types: name, where the class lives, the original's names for it.
BUILT_IN = (
    ("CHARACTER_AVATAR", "tui_updater.tasks.avatar", "CharacterAvatarTask",
     ("generate-character-avatars", "character-avatars")),
    ("CHARACTER_SETTINGS", "tui_updater.tasks.settings", "CharacterSettingsTask",
     ("generate-character-settings", "character-settings")),
    ("MBTI_ASSIGNMENT", "tui_updater.tasks.mbti", "MbtiAssignmentTask",
     ("assign-mbti", "mbti-assignment")),
    ("DATABASE_UPGRADE", "tui_updater.tasks.upgrade", "DatabaseUpgradeTask",
     ("database-upgrade", "upgrade-database")),
    ("CHARACTER_IMPORT", "tui_updater.tasks.card_import", "CharacterImportTask",
     ("import-character-cards", "character-import")),
)  # fmt: skip


def _load_entry_points(registry: TaskTypeRegistry) -> None:
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            task_type = entry.load()()
            if task_type.name in registry.names_known():
                logger.warning("task type plug-in %s: %s is taken", entry.name, task_type.name)
                continue
            registry.register(task_type)
        except Exception as exc:  # a broken plug-in must not stop the app
            logger.warning("task type plug-in %s could not be loaded: %s", entry.name, exc)


def default_registry(*, load_entry_points: bool = True) -> TaskTypeRegistry:
    """The built-in types, then third-party ones found through entry points (each loaded when
    first asked for)."""
    registry = TaskTypeRegistry(scan=_load_entry_points if load_entry_points else None)
    for name, module, cls, aliases in BUILT_IN:
        registry.register_lazy(name, _built_in(module, cls), *aliases)
    return registry
