"""DATABASE_UPGRADE of a ``prisma/migrations`` folder: its pending migrations, in the order of
their directory names, each rehearsed and applied in its own transaction and recorded in
``_prisma_migrations`` (when the database has it) in that same transaction.

Pending means not recorded finished in ``_prisma_migrations`` and not committed by this task
(its journal records carry each migration's name, so a restart without Prisma's table still
knows). One backup before the first; the first failure stops the run with everything before it
applied and recorded. The item's result lists every migration's outcome.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_updater.characters.migration import (
    MigrationLocked,
    apply_live,
    live_content_hash,
    live_fingerprint,
    rehearse_sequence,
)
from tui_updater.characters.prisma import MigrationFile, recorder
from tui_updater.core.journal import JournalState
from tui_updater.core.models import ItemRecord, ItemStatus
from tui_updater.errors import MigrationError, TransientError
from tui_updater.tasks.base import ItemOutcome, TaskContext
from tui_updater.tasks.upgrade_prisma import failed_message, read_live_history
from tui_updater.tasks.upgrade_record import (
    Verdict,
    applied_names,
    baseline_from_json,
    baseline_json,
    record_apply,
    settle,
    unsettled_apply,
)

if TYPE_CHECKING:
    from tui_updater.tasks.upgrade import DatabaseUpgradeParams, DatabaseUpgradeTask

FAILURES = ("failed", "rehearsalFailed")


def _busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


async def _settle_unsettled(ctx: TaskContext) -> str | None:
    """Settle the apply a run before a restart left unsettled; the message when nothing proves
    whether it committed."""
    journal = ctx.resources.characters.journal
    record = await unsettled_apply(journal, ctx.task_id)
    if record is None:
        return None
    try:
        live = await asyncio.to_thread(live_content_hash, Path(ctx.resources.settings.db_path))
    except sqlite3.Error as exc:
        if _busy(exc):
            raise TransientError(f"database busy while checking the earlier apply: {exc}") from None
        raise MigrationError(
            f"cannot read the database to check the earlier apply: {exc}"
        ) from None
    verdict = record.verdict(live)
    await settle(journal, record, verdict)
    return record.unproven_message() if verdict is Verdict.UNPROVEN else None


async def _done(ctx: TaskContext) -> set[str]:
    """Names of the migrations already applied: Prisma's record, and this task's own."""
    history = await read_live_history(ctx)
    return set(history.finished) | await applied_names(
        ctx.resources.characters.journal, ctx.task_id
    )


async def obtain_folder(
    ctx: TaskContext,
    params: DatabaseUpgradeParams,
    source: str | None,
    migrations: Sequence[tuple[MigrationFile, list[str]]],
) -> dict[str, Any]:
    """Which migrations are pending, and each one's rehearsal on one scratch copy, in order."""
    result: dict[str, Any] = {"source": source, "folder": True, "dryRun": params.dryRun}
    result |= {"backup": None, "phase": "rehearsed"}
    if not params.dryRun:
        unproven = await _settle_unsettled(ctx)
        if unproven is not None:
            return {**result, "phase": "unproven", "error": unproven, "migrations": []}
    history = await read_live_history(ctx)
    done = await _done(ctx)
    entries: list[dict[str, Any]] = []
    pending: list[tuple[dict[str, Any], list[str]]] = []
    for migration, statements in migrations:
        entry = {
            "name": migration.name,
            "checksum": migration.checksum,
            "statements": statements,
            "statementCount": len(statements),
            "outcome": "alreadyApplied" if migration.name in done else "pending",
        }
        entries.append(entry)
        if migration.name not in done:
            pending.append((entry, statements))
    result["migrations"] = entries
    stuck = [e["name"] for e, _ in pending if e["name"] in history.failed]
    if stuck:
        return {**result, "phase": "prismaFailed", "error": failed_message(stuck[0])}
    if not pending:
        ctx.info("every migration of the folder is already applied")
        return result
    ctx.info(f"rehearsing {len(pending)} pending migrations on a scratch copy …")
    settings = ctx.resources.settings
    try:
        outcomes, error = await asyncio.to_thread(
            rehearse_sequence,
            Path(settings.db_path),
            [statements for _, statements in pending],
            settings.characters,
            validate=params.validateAfterUpgrade,
        )
    except sqlite3.Error as exc:
        if _busy(exc):
            raise TransientError(f"database busy during the rehearsal: {exc}") from None
        raise MigrationError(f"rehearsal could not run on {settings.db_path}: {exc}") from None
    for index, (entry, _statements) in enumerate(pending):
        if index < len(outcomes):
            outcome = outcomes[index]
            entry |= {
                "outcome": "rehearsed",
                "schemaDiff": outcome.diff.to_json(),
                "schemaBefore": outcome.fingerprint_before,
                "schemaAfter": outcome.fingerprint_after,
                "baseline": baseline_json(outcome.baseline),
            }
        elif index == len(outcomes) and error is not None:
            entry |= {
                "outcome": "rehearsalFailed",
                "error": str(error),
                "statementNumber": error.statement_number,
            }
            ctx.warning(f"rehearsal of {entry['name']} failed: {error}")
        else:
            entry["outcome"] = "notRun"
    return result


def _failure_message(entries: Sequence[dict[str, Any]], dry_run: bool) -> str | None:
    failed = next((e for e in entries if e["outcome"] in FAILURES), None)
    if failed is None:
        return None
    applied = [e["name"] for e in entries if e["outcome"] == "applied"]
    not_run = [e["name"] for e in entries if e["outcome"] == "notRun"]
    what = "its rehearsal failed" if failed["outcome"] == "rehearsalFailed" else "rolled back"
    parts = [f"migration {failed['name']} failed ({what}): {failed.get('error')}"]
    if applied:
        parts.append(f"applied and recorded before it: {', '.join(applied)}")
    elif not dry_run:
        parts.append("nothing was applied")
    if not_run:
        parts.append(f"not run: {', '.join(not_run)}")
    return "; ".join(parts)


async def apply_folder(
    task: DatabaseUpgradeTask,
    ctx: TaskContext,
    params: DatabaseUpgradeParams,
    item: ItemRecord,
    result: dict[str, Any],
) -> ItemOutcome:
    if result.get("phase") in ("unproven", "prismaFailed"):
        error = str(result.get("error"))
        return ItemOutcome(item.key, ItemStatus.FAILED, error, {**result, "restored": False})
    entries = result["migrations"]
    if result.get("dryRun"):
        failure = _failure_message(entries, dry_run=True)
        status = ItemStatus.FAILED if failure else ItemStatus.DONE
        return ItemOutcome(item.key, status, failure, {**result, "applied": False})
    if not any(e["outcome"] == "rehearsed" for e in entries):
        failure = _failure_message(entries, dry_run=False)
        status = ItemStatus.FAILED if failure else ItemStatus.DONE
        return ItemOutcome(item.key, status, failure, {**result, "restored": False})
    access = ctx.resources.characters.access
    async with access.exclusive():
        return await _apply_alone(task, ctx, params, item, result)


async def _apply_alone(
    task: DatabaseUpgradeTask,
    ctx: TaskContext,
    params: DatabaseUpgradeParams,
    item: ItemRecord,
    result: dict[str, Any],
) -> ItemOutcome:
    unproven = await _settle_unsettled(ctx)
    if unproven is not None:
        return ItemOutcome(item.key, ItemStatus.FAILED, unproven, {**result, "restored": False})
    done = await _done(ctx)
    entries = [dict(e) for e in result["migrations"]]
    for entry in entries:
        if entry["name"] in done and entry["outcome"] == "rehearsed":
            entry["outcome"] = "alreadyApplied"  # committed before a restart, or by Prisma
    todo = [e for e in entries if e["outcome"] == "rehearsed"]
    db_path = Path(ctx.resources.settings.db_path)
    if todo:
        current = await asyncio.to_thread(live_fingerprint, db_path)
        if current != todo[0]["schemaBefore"]:
            error = (
                "database schema changed since the rehearsal; nothing applied — "
                "retry the task to rehearse against the current schema"
            )
            return ItemOutcome(item.key, ItemStatus.FAILED, error, {**result, "restored": False})
        if params.backupBeforeUpgrade and not result.get("backup"):
            result = {**result, "backup": await task.backup(ctx)}
    for entry in todo:
        if not await _apply_one(task, ctx, params, result, entry):
            break
    for entry in entries:
        if entry["outcome"] == "rehearsed":
            entry["outcome"] = "notRun"
    result = {**result, "migrations": entries}
    applied = [e for e in entries if e["outcome"] == "applied"]
    result["statementCount"] = sum(e["statementCount"] for e in applied)
    failure = _failure_message(entries, dry_run=False)
    if failure is not None:
        return ItemOutcome(item.key, ItemStatus.FAILED, failure, {**result, "restored": False})
    if not applied:
        return ItemOutcome(item.key, ItemStatus.DONE, None, result)
    baseline = baseline_from_json(applied[0]["baseline"])
    return await task.validated(ctx, params, item, {**result, "applied": True}, baseline)


async def _apply_one(
    task: DatabaseUpgradeTask,
    ctx: TaskContext,
    params: DatabaseUpgradeParams,
    result: dict[str, Any],
    entry: dict[str, Any],
) -> bool:
    """Apply one rehearsed migration of the folder; False when it failed (rolled back)."""
    settings = ctx.resources.settings
    journal = ctx.resources.characters.journal
    loop = asyncio.get_running_loop()
    planned: list[int] = []
    rows: list[str | None] = []
    clock = task.clock(ctx)
    record_history = recorder(entry["name"], entry["checksum"], clock(), clock)

    def before_commit(content_before: str, content_after: str) -> None:
        plan = record_apply(
            journal,
            ctx.task_id,
            content_before,
            content_after,
            backup=result.get("backup"),
            baseline=entry.get("baseline") or {},
            name=entry["name"],
        )
        planned.append(asyncio.run_coroutine_threadsafe(plan, loop).result())

    def after_statements(conn: sqlite3.Connection) -> None:
        rows.append(record_history(conn))

    ctx.info(f"applying {entry['name']} ({entry['statementCount']} statements) …")
    try:
        outcome = await asyncio.to_thread(
            apply_live,
            Path(settings.db_path),
            entry["statements"],
            settings.characters,
            validate=params.validateAfterUpgrade,
            before_commit=before_commit,
            after_statements=after_statements,
        )
    except MigrationLocked as exc:
        raise TransientError(str(exc)) from None  # a retry finds the ones before it applied
    except (MigrationError, sqlite3.Error) as exc:
        if isinstance(exc, sqlite3.Error) and _busy(exc):
            raise TransientError(f"database busy, {entry['name']} rolled back: {exc}") from None
        ctx.warning(f"{entry['name']} rolled back: {exc}")
        entry |= {"outcome": "failed", "error": str(exc)}
        entry["statementNumber"] = getattr(exc, "statement_number", None)
        return False
    if planned:
        await journal.mark(planned, JournalState.APPLIED)
    recorded = bool(rows and rows[-1])
    entry |= {
        "outcome": "applied",
        "schemaDiff": outcome.diff.to_json(),
        "recorded": recorded,
        "prismaId": rows[-1] if rows else None,
    }
    ctx.info(
        f"committed {entry['name']}: {task.diff_line(outcome)}"
        + (" (recorded in _prisma_migrations)" if recorded else "")
    )
    return True
