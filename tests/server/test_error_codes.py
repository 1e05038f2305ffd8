"""Every engine error survives the trip server → JSON → remote client as the same class."""

from __future__ import annotations

import json

import pytest

from tui_updater.errors import (
    BackupError,
    CharacterDbError,
    ConfigError,
    InvalidParameters,
    MigrationError,
    MissingColumn,
    TaskNotFound,
    TaskStateError,
    TavernError,
    UnknownTaskType,
)
from tui_updater.server.client import error_from_response
from tui_updater.server.errors import api_error_for


@pytest.mark.parametrize(
    "exc",
    [
        InvalidParameters("batchSize", "must be at most 500"),
        UnknownTaskType("NOPE", ["MBTI_ASSIGNMENT"]),
        TaskNotFound("task_1"),
        TaskStateError("already COMPLETED"),
        BackupError("no backup named x.db"),
        MigrationError("statement 3 failed", statement_number=3),
        CharacterDbError("locked"),
        MissingColumn("Character", "mbtiType"),
        ConfigError("bad setting"),
    ],
)
def test_round_trip_keeps_the_class_and_message(exc: TavernError):
    answer = api_error_for(exc)
    assert 400 <= answer.status_code < 500
    body = json.loads(
        json.dumps(
            {"error": {"code": answer.code, "message": answer.message, "details": answer.details}}
        )
    )
    back = error_from_response(answer.status_code, body)
    expected = CharacterDbError if isinstance(exc, CharacterDbError) else type(exc)
    assert isinstance(back, expected)
    assert str(exc) in str(back) or str(back) in str(exc)
    if isinstance(exc, InvalidParameters):
        assert isinstance(back, InvalidParameters) and back.field == "batchSize"
    if isinstance(exc, MigrationError):
        assert isinstance(back, MigrationError) and back.statement_number == 3
