"""The result of a DATABASE_UPGRADE task as the views and the REST API show it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui_updater.core.models import ItemRecord, ItemStatus

DIFF_KEYS = ("tablesAdded", "tablesRemoved", "columnsAdded", "columnsRemoved", "columnsChanged")


def statements_text(count: int) -> str:
    return f"{count} statement" if count == 1 else f"{count} statements"


def summarize_upgrade(dry_run: bool, items: Sequence[ItemRecord]) -> dict[str, Any]:
    """The DATABASE_UPGRADE task's result from its one item."""
    item = items[0] if items else None
    result = (item.result if item else None) or {}
    success = item is not None and item.status is ItemStatus.DONE
    count = int(result.get("statementCount") or 0)
    if not success:
        message = (item.error if item else None) or "the migration did not run"
    elif result.get("dryRun"):
        message = f"dry run: {statements_text(count)} rehearsed on a copy; live database unchanged"
    elif result.get("alreadyApplied"):
        message = "the migration had already been applied (found after a restart)"
    else:
        message = f"migration applied: {statements_text(count)} in one transaction"
    diff = result.get("schemaDiff") or {}
    backup = result.get("backup")
    validation = result.get("validation") or (result.get("rehearsal") or {}).get("validation")
    return {
        "success": success,
        "message": message,
        "statementsExecuted": count if success else 0,
        "statementCount": count,
        "statementNumber": result.get("statementNumber"),
        "schemaDiff": {key: diff.get(key, []) for key in DIFF_KEYS}
        | {key: value for key, value in diff.items() if key not in DIFF_KEYS},
        "backup": (
            {
                "name": backup.get("name"),
                "path": backup.get("path"),
                "timestamp": backup.get("timestamp"),
                "size": backup.get("size"),
            }
            if backup
            else None
        ),
        "validation": (
            {
                "integrity": validation.get("integrity"),
                "foreignKeys": validation.get("foreignKeys"),
                "characterTable": validation.get("characterTable"),
            }
            if validation
            else None
        ),
        "dryRun": bool(result.get("dryRun", dry_run)),
        "restored": bool(result.get("restored", False)),
        "alreadyApplied": bool(result.get("alreadyApplied", False)),
        "source": result.get("source"),
    }
