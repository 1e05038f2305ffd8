"""Which character database a task belongs to, as the engine sees it (the I/O is elsewhere).

A task records its database's absolute path and identity at creation; the engine asks its
``DatabaseBinding`` whether a stored task is its own, another database's, or lost.
"""

from __future__ import annotations

import enum
from typing import Protocol

from tui_updater.core.models import TaskRecord


class Belonging(enum.Enum):
    HERE = "here"  # this engine's database: it runs the task
    ELSEWHERE = "elsewhere"  # another database that still exists: held, never run here
    LOST = "lost"  # its database is gone or was replaced: the task fails with the reason


class DatabaseBinding(Protocol):
    """The character database an engine was opened on."""

    @property
    def path(self) -> str: ...

    @property
    def identity(self) -> str: ...

    def belonging(self, task: TaskRecord) -> tuple[Belonging, str]:
        """Whose task this is, with the reason when it is not this engine's to run."""

    def check(self) -> None:
        """Raise CharacterDbError naming the file when it was deleted or replaced since opening."""

    def held(self) -> bool:
        """A task that runs alone (DATABASE_UPGRADE) waits for or holds the database: other
        tasks write the results they have and start no new items until it is done."""

    async def released(self) -> None:
        """Returns once no task waits for or holds the database alone."""
