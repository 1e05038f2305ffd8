"""The error codes of the JSON error shape, shared by the server and the remote client.

Errors that carry only a message map one-to-one between a code, an HTTP status and an
exception class; the server answers with this table and ``--connect`` reads it back.
"""

from __future__ import annotations

from tui_updater.errors import (
    BackupError,
    CharacterDbError,
    CharacterNotFound,
    ConfigError,
    ProposalNotFound,
    TaskStateError,
    TavernError,
)

# (exception class, HTTP status, code) — subclasses before their bases.
MESSAGE_ERRORS: tuple[tuple[type[TavernError], int, str], ...] = (
    (CharacterNotFound, 404, "character_not_found"),
    (ProposalNotFound, 404, "proposal_not_found"),
    (TaskStateError, 409, "task_state"),
    (BackupError, 409, "backup_error"),
    (CharacterDbError, 409, "character_db"),
    (ConfigError, 400, "config_error"),
)
CLASS_BY_CODE: dict[str, type[TavernError]] = {code: cls for cls, _, code in MESSAGE_ERRORS}
CLASS_BY_CODE["backup_not_found"] = BackupError
