"""The result of a DATABASE_UPGRADE task as the views and the REST API show it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tui_updater.core.models import ItemRecord, ItemStatus

DIFF_KEYS = ("tablesAdded", "tablesRemoved", "columnsAdded", "columnsRemoved", "columnsChanged")


def statements_text(count: int) -> str:
    return f"{count} statement" if count == 1 else f"{count} statements"


def _folder_entries(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each migration of a folder with its outcome: alreadyApplied, rehearsed (dry run: pending,
    rehearsal passed), applied, failed, rehearsalFailed or notRun."""
    return [
        {
            "name": entry.get("name"),
            "outcome": entry.get("outcome"),
            "statementCount": entry.get("statementCount"),
            "checksum": entry.get("checksum"),
            "recorded": bool(entry.get("recorded", False)),
            "schemaDiff": entry.get("schemaDiff"),
            "error": entry.get("error"),
            "statementNumber": entry.get("statementNumber"),
        }
        for entry in result.get("migrations") or []
    ]


def _folder_message(result: dict[str, Any], entries: Sequence[dict[str, Any]]) -> str:
    def named(outcome: str) -> list[str]:
        return [str(e["name"]) for e in entries if e["outcome"] == outcome]

    applied, pending = named("applied"), named("rehearsed")
    earlier = len(named("alreadyApplied"))
    if result.get("dryRun"):
        head = f"dry run: {len(pending)} pending ({', '.join(pending)})" if pending else "dry run"
        return f"{head}; {earlier} already applied; live database unchanged"
    if not applied:
        return f"nothing to apply: all {earlier} migrations already applied"
    return f"{len(applied)} migrations applied and recorded ({', '.join(applied)}); {earlier} were already applied"


def summarize_upgrade(dry_run: bool, items: Sequence[ItemRecord]) -> dict[str, Any]:
    """The DATABASE_UPGRADE task's result from its one item."""
    item = items[0] if items else None
    result = (item.result if item else None) or {}
    success = item is not None and item.status is ItemStatus.DONE
    count = int(result.get("statementCount") or 0)
    folder = _folder_entries(result) if result.get("folder") else None
    prisma = result.get("prisma") or {}
    if not success:
        message = (item.error if item else None) or "the migration did not run"
    elif folder is not None:
        message = _folder_message(result, folder)
    elif result.get("phase") == "alreadyRecorded":
        message = (
            f"migration {prisma.get('name')} is already applied (recorded in "
            "_prisma_migrations); nothing was run"
        )
    elif result.get("dryRun"):
        message = f"dry run: {statements_text(count)} rehearsed on a copy; live database unchanged"
    elif result.get("alreadyApplied"):
        message = "the migration had already been applied (found after a restart)"
    else:
        message = f"migration applied: {statements_text(count)} in one transaction"
        if prisma.get("recorded"):
            message += f"; recorded as {prisma.get('name')} in _prisma_migrations"
    diff = result.get("schemaDiff") or {}
    backup = result.get("backup")
    validation = result.get("validation") or (result.get("rehearsal") or {}).get("validation")
    return {
        "success": success,
        "message": message,
        "statementsExecuted": (
            sum(int(e["statementCount"] or 0) for e in folder if e["outcome"] == "applied")
            if folder is not None
            else (count if success and result.get("phase") != "alreadyRecorded" else 0)
        ),
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
        "migrationName": prisma.get("name"),
        "prismaRecorded": bool(prisma.get("recorded", False)),
        "migrations": folder,
    }
