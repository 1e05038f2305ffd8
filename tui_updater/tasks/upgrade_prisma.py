"""What Prisma's migration history says about a named migration before DATABASE_UPGRADE runs it:
already applied (recorded finished: reported, never run again) or failed (Prisma's P3009 state,
which only ``prisma migrate resolve`` clears)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from tui_updater.characters.prisma import History, live_history
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.errors import MigrationError, TransientError
from tui_updater.tasks.base import ItemOutcome, TaskContext


async def read_live_history(ctx: TaskContext) -> History:
    db_path = Path(ctx.resources.settings.db_path)
    try:
        return await asyncio.to_thread(live_history, db_path)
    except sqlite3.Error as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            raise TransientError(f"database busy reading _prisma_migrations: {exc}") from None
        raise MigrationError(f"cannot read _prisma_migrations of {db_path}: {exc}") from None


def failed_message(name: str) -> str:
    return (
        f"Prisma recorded migration {name} as failed (started, never finished); nothing was "
        f"run. Settle it first: `prisma migrate resolve --rolled-back {name}` (then run this "
        f"again) or `--applied {name}` if it is in fact applied"
    )


def history_phase(history: History, name: str) -> dict[str, Any] | None:
    """The phase a migration named ``name`` is in per ``history``; None when it is to run."""
    if name in history.finished:
        return {"phase": "alreadyRecorded", "alreadyApplied": True}
    if name in history.failed:
        return {"phase": "prismaFailed", "error": failed_message(name)}
    return None


async def prisma_phase(ctx: TaskContext, name: str) -> dict[str, Any] | None:
    return history_phase(await read_live_history(ctx), name)


def prisma_outcome(
    ctx: TaskContext, item: ItemRecord, result: dict[str, Any]
) -> ItemOutcome | None:
    """The outcome of a named migration the history settles; None when it is to run."""
    phase = result.get("phase")
    name = (result.get("prisma") or {}).get("name")
    if phase == "alreadyRecorded":
        ctx.info(f"{name} is already applied (recorded in _prisma_migrations); nothing was run")
        return ItemOutcome(
            item.key, ItemStatus.DONE, None, {**result, "applied": False, "alreadyApplied": True}
        )
    if phase == "prismaFailed":
        error = str(result.get("error"))
        ctx.warning(error)
        return ItemOutcome(item.key, ItemStatus.FAILED, error, {**result, "restored": False})
    return None
