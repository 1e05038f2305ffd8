"""The exception tree of tavern-updater-tui, drawn once.

    TavernError                       anything this package raises on purpose
    ├── ConfigError                   bad settings file, flag or environment value
    ├── InvalidParameters             task parameters refused; ``field`` names the culprit
    ├── UnknownTaskType               no registered type of that name; ``known`` lists them
    ├── TaskNotFound                  no task with that id
    ├── ScheduleNotFound              no schedule (rule) with that id
    ├── CharacterNotFound             no character with that id
    ├── ProposalNotFound              no review proposal with that id in the task
    ├── TaskStateError                action not allowed in the task's current status
    ├── CharacterDbError              the character database cannot be used
    │   ├── MissingColumn             a column the tool needs is absent; names it
    │   └── WriteConflict             compare-and-set lost: the site changed the row meanwhile
    ├── MigrationError                a DATABASE_UPGRADE step failed (statement number, message)
    ├── BackupError                   backup missing, unreadable or failed its check
    ├── OutputUnwritable              the task's output dir is full or read-only: the task stops
    ├── BudgetReached                 the next request would pass the task's maxTokens/maxCost
    └── ItemError                     one item of a task failed
        ├── TransientError            worth retrying; ``retry_after_s`` may carry the delay
        │   ├── ProviderRateLimited   HTTP 429 (Retry-After honoured when present)
        │   ├── ProviderTimeout       connect/read timeout
        │   ├── ProviderUnavailable   5xx or transport error
        │   └── CharacterDbLocked     another program held the character database's write lock
        └── PermanentError            retrying cannot help
            ├── ProviderResponseError other 4xx; ``status_code``
            ├── ProviderQuotaExceeded quota / billing errors
            └── InvalidOutput         output still invalid after one repair attempt

The engine decides retries by type (TransientError vs PermanentError), never by message text.
"""

from __future__ import annotations

from collections.abc import Sequence


class TavernError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(TavernError):
    """A settings file, flag or environment value is unusable."""


class InvalidParameters(TavernError):
    """Task parameters were refused; ``field`` names the offending field (dotted path)."""

    def __init__(self, field: str, message: str, *, details: list[dict[str, str]] | None = None):
        self.field = field
        self.message = message
        self.details = details or [{"field": field, "message": message}]
        super().__init__(f"{field}: {message}" if field else message)


class UnknownTaskType(TavernError):
    """No task type is registered under ``name``."""

    def __init__(self, name: str, known: Sequence[str]):
        self.name = name
        self.known = list(known)
        super().__init__(f"unknown task type {name!r}; known types: {', '.join(self.known)}")


class TaskNotFound(TavernError):
    """No task with this id exists."""

    def __init__(self, task_id: str):
        self.task_id = task_id
        super().__init__(f"task {task_id!r} not found")


class ProposalNotFound(TavernError):
    """No review proposal with that id in the task."""


class ScheduleNotFound(TavernError):
    """No schedule (rule) with this id exists."""

    def __init__(self, schedule_id: str):
        self.schedule_id = schedule_id
        super().__init__(f"schedule {schedule_id!r} not found")


class TaskStateError(TavernError):
    """The action is not allowed in the task's current status."""


class CharacterNotFound(TavernError):
    """No character with this id exists in the character database."""


class CharacterDbError(TavernError):
    """The character database cannot be opened, read or written as required."""


class MissingColumn(CharacterDbError):
    """A column the tool needs does not exist in the character table."""

    def __init__(self, table: str, column: str, hint: str = ""):
        self.table = table
        self.column = column
        self.hint = hint
        text = f"the {table} table has no column {column!r}"
        super().__init__(f"{text}; {hint}" if hint else text)


class WriteConflict(CharacterDbError):
    """A compare-and-set write found a value changed by someone else since it was read."""

    def __init__(self, character_id: str, column: str):
        self.character_id = character_id
        self.column = column
        super().__init__(f"conflict: {column} of character {character_id} changed meanwhile")


class MigrationError(TavernError):
    """A DATABASE_UPGRADE step failed."""

    def __init__(self, message: str, *, statement_number: int | None = None):
        self.statement_number = statement_number
        super().__init__(message)


class BackupError(TavernError):
    """A backup could not be written, found, checked or restored."""


class BudgetReached(TavernError):
    """The task's next request would pass its budget: it stops, finished items kept."""


class OutputUnwritable(TavernError):
    """Where a task stores its files (the avatar dir) cannot be written at all, so every further
    paid result would be thrown away: the task stops FAILED with this message."""


class ItemError(TavernError):
    """One item of a task failed."""


class TransientError(ItemError):
    """A failure worth retrying; ``retry_after_s`` is the server-requested delay if known."""

    def __init__(self, message: str, *, retry_after_s: float | None = None):
        self.retry_after_s = retry_after_s
        super().__init__(message)


class CharacterDbLocked(TransientError):
    """Another program (the site, a backup tool) held the character database's write lock past
    the busy timeout; ``busy_s`` is how long this write has waited so far."""

    def __init__(self, busy_s: float, *, gave_up: bool = False):
        self.busy_s = busy_s
        then = "gave up on this write; the item is retried with the task" if gave_up else "retrying"
        super().__init__(
            f"the character database is locked by another program (busy for {busy_s:.0f} s); {then}"
        )


class PermanentError(ItemError):
    """A failure that retrying cannot fix."""


class ProviderRateLimited(TransientError):
    """HTTP 429 from the gateway."""


class ProviderTimeout(TransientError):
    """The gateway did not answer in time."""


class ProviderUnavailable(TransientError):
    """HTTP 5xx or a transport error."""

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after_s: float | None = None
    ):
        self.status_code = status_code
        super().__init__(message, retry_after_s=retry_after_s)


class ProviderResponseError(PermanentError):
    """A 4xx other than 429: the request itself is wrong (bad model, bad key, bad input)."""

    def __init__(self, message: str, *, status_code: int):
        self.status_code = status_code
        super().__init__(message)


class ProviderQuotaExceeded(PermanentError):
    """The account is out of quota or credit."""


class InvalidOutput(PermanentError):
    """The model's output stayed invalid after one repair attempt."""
