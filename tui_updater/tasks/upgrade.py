"""DATABASE_UPGRADE: back up, rehearse a migration script on a scratch copy, apply it to the live
database in one transaction, validate, and restore the backup if the result is unusable.

One item ("migration"). ``obtain`` backs up and rehearses (nothing live changes); ``apply``
records the content hashes before and after the script in the journal just before COMMIT
(upgrade_record.py), so a restart tells from the live database whether the COMMIT happened:
``alreadyApplied``, run it, or FAILED when neither can be proven. The script never runs twice.

A named migration is also recorded in Prisma's ``_prisma_migrations`` in that same transaction
(upgrade_prisma.py; the row is part of the hashed content); a ``prisma/migrations`` folder is
applied migration by migration (upgrade_folder.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from tui_updater.characters.migration import (
    MigrationLocked,
    MigrationOutcome,
    apply_live,
    check_committed,
    first_line,
    live_content_hash,
    live_fingerprint,
    rehearse,
)
from tui_updater.characters.prisma import recorder
from tui_updater.characters.validation import Baseline
from tui_updater.core.capabilities import LOCAL_PATH_KEY, TaskCapabilities
from tui_updater.core.journal import JournalState
from tui_updater.core.models import ItemRecord, ItemStatus, now_ms
from tui_updater.errors import BackupError, MigrationError, TaskStateError, TransientError
from tui_updater.tasks.base import ItemOutcome, ItemSpec, TaskContext, TaskParams, TaskType
from tui_updater.tasks.upgrade_folder import apply_folder, obtain_folder
from tui_updater.tasks.upgrade_prisma import prisma_outcome, prisma_phase
from tui_updater.tasks.upgrade_record import (
    ITEM_KEY,
    ApplyRecord,
    Verdict,
    baseline_from_json,
    baseline_json,
    latest_apply,
    record_apply,
    settle,
)
from tui_updater.tasks.upgrade_source import UpgradeSource, load_source
from tui_updater.tasks.upgrade_summary import DIFF_KEYS, statements_text, summarize_upgrade


class DatabaseUpgradeParams(TaskParams):
    capabilities = TaskCapabilities(short_name="UPGRADE", destructive=True, makes_backups=True)

    migrationScript: str = Field(
        min_length=1,
        description=(
            "SQL text, the path of a .sql file, of one Prisma migration's directory, or of a "
            "prisma/migrations folder (its pending migrations, in order; migrations directory "
            "first)"
        ),
        json_schema_extra={"format": "sql", LOCAL_PATH_KEY: True},
    )
    backupBeforeUpgrade: bool = Field(True, description="back up the database before applying")
    validateAfterUpgrade: bool = Field(
        True, description="integrity, foreign keys and the character table checked after applying"
    )
    dryRun: bool = Field(False, description="rehearse on a copy and report; change nothing")
    migrationName: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description=(
            "the name Prisma knows the migration by (its directory name); recorded in "
            "_prisma_migrations when the database has it. A migration directory or a "
            "<name>/migration.sql file gives it by itself"
        ),
    )

    @field_validator("migrationScript")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank; give SQL text or the path of a .sql file")
        return value


def _busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class DatabaseUpgradeTask(TaskType[DatabaseUpgradeParams]):
    name = "DATABASE_UPGRADE"
    title = "Database upgrade"
    description = "Apply an SQL migration safely: backup, rehearsal on a copy, one transaction."
    params_model = DatabaseUpgradeParams
    default_priority = "HIGH"

    def batch_size(self, params: DatabaseUpgradeParams) -> int:
        return 1

    def concurrency(self, params: DatabaseUpgradeParams) -> int:
        return 1

    async def _source(self, ctx: TaskContext, params: DatabaseUpgradeParams) -> UpgradeSource:
        base_dir: Path | None = getattr(ctx.resources.settings, "migrations_dir", None)
        return await asyncio.to_thread(load_source, params, base_dir)

    async def check(self, ctx: TaskContext, params: DatabaseUpgradeParams) -> None:
        await self._source(ctx, params)

    async def select(self, ctx: TaskContext, params: DatabaseUpgradeParams) -> Sequence[ItemSpec]:
        loaded = await self._source(ctx, params)
        mode = "dry run of " if params.dryRun else ""
        if loaded.folder is not None:
            count = len(loaded.migrations)
            label = f"{mode}{loaded.folder.name} ({count} migration{'' if count == 1 else 's'})"
            return [ItemSpec(ITEM_KEY, label)]
        if loaded.migration is not None:
            what = loaded.migration.name
        else:
            source = loaded.source
            what = Path(source).name if source else first_line(loaded.statements[0], 60)
        return [ItemSpec(ITEM_KEY, f"{mode}{what} ({statements_text(len(loaded.statements))})")]

    # --- obtain: rehearsal -------------------------------------------------------------------

    async def obtain(
        self, ctx: TaskContext, params: DatabaseUpgradeParams, item: ItemRecord
    ) -> dict[str, Any]:
        settings = ctx.resources.settings
        loaded = await self._source(ctx, params)
        if loaded.folder is not None:
            return await obtain_folder(ctx, params, loaded.source, loaded.migrations)
        statements = loaded.statements
        result: dict[str, Any] = {
            "source": loaded.source,
            "statements": statements,
            "statementCount": len(statements),
            "dryRun": params.dryRun,
            "backup": None,
        }
        if loaded.migration is not None:
            result["prisma"] = {
                "name": loaded.migration.name,
                "checksum": loaded.migration.checksum,
                "recorded": False,
            }
        earlier = None if params.dryRun else await self._earlier_apply(ctx)
        if earlier is not None:
            record, verdict = earlier
            if verdict is not Verdict.NOT_APPLIED:
                # A run before a restart may have committed: apply settles it from the evidence;
                # a backup or rehearsal now would be of the migrated database.
                return {**result, "phase": "resumed", "backup": record.backup}
            await settle(ctx.resources.characters.journal, record, verdict)
        if loaded.migration is not None:
            phase = await prisma_phase(ctx, loaded.migration.name)
            if phase is not None:
                return {**result, **phase}
        ctx.info(f"rehearsing {len(statements)} statements on a scratch copy …")
        try:
            outcome = await asyncio.to_thread(
                rehearse,
                Path(settings.db_path),
                statements,
                settings.characters,
                validate=params.validateAfterUpgrade,
            )
        except MigrationLocked as exc:
            raise TransientError(str(exc)) from None
        except MigrationError as exc:
            ctx.warning(f"rehearsal failed, the live database was not touched: {exc}")
            return {
                **result,
                "phase": "rehearsalFailed",
                "error": str(exc),
                "statementNumber": exc.statement_number,
            }
        except sqlite3.Error as exc:
            if _busy(exc):
                raise TransientError(f"database busy during the rehearsal: {exc}") from None
            raise MigrationError(f"rehearsal could not run on {settings.db_path}: {exc}") from None
        ctx.info(f"rehearsal passed: {self.diff_line(outcome)}")
        return {
            **result,
            "phase": "rehearsed",
            "schemaDiff": outcome.diff.to_json(),
            "schemaBefore": outcome.fingerprint_before,
            "schemaAfter": outcome.fingerprint_after,
            "baseline": baseline_json(outcome.baseline),
            "rehearsal": {
                "validation": outcome.validation.to_json() if outcome.validation else None
            },
        }

    @staticmethod
    def diff_line(outcome: MigrationOutcome) -> str:
        diff = outcome.diff.to_json()
        parts = [f"{len(diff[key])} {key}" for key in DIFF_KEYS if diff[key]]
        return ", ".join(parts) if parts else "no schema change"

    # --- apply: the live database ---------------------------------------------------------------

    async def apply(
        self,
        ctx: TaskContext,
        params: DatabaseUpgradeParams,
        batch: Sequence[tuple[ItemRecord, dict[str, Any]]],
    ) -> Sequence[ItemOutcome]:
        return [await self._apply_one(ctx, params, item, result) for item, result in batch]

    async def _apply_one(
        self,
        ctx: TaskContext,
        params: DatabaseUpgradeParams,
        item: ItemRecord,
        result: dict[str, Any],
    ) -> ItemOutcome:
        if result.get("folder"):
            return await apply_folder(self, ctx, params, item, result)
        if result.get("phase") == "rehearsalFailed":
            error = f"rehearsal failed, live database untouched: {result.get('error')}"
            return ItemOutcome(item.key, ItemStatus.FAILED, error, {**result, "restored": False})
        recorded_outcome = prisma_outcome(ctx, item, result)
        if recorded_outcome is not None:
            return recorded_outcome
        if result.get("dryRun"):
            ctx.info("dry run: the live database was not changed")
            return ItemOutcome(item.key, ItemStatus.DONE, None, {**result, "applied": False})
        access = ctx.resources.characters.access
        if access.shared_holders or access.leases:
            ctx.info("waiting for the writes under way on this database to finish …")
        async with access.exclusive():  # the tool's own writes wait until the upgrade is done
            return await self._apply_alone(ctx, params, item, result)

    @staticmethod
    def clock(ctx: TaskContext) -> Callable[[], int]:
        """The clock the character database writes with (epoch ms)."""
        clock: Callable[[], int] = getattr(ctx.resources.characters, "clock", now_ms)
        return clock

    async def backup(self, ctx: TaskContext) -> dict[str, Any]:
        settings = ctx.resources.settings
        ctx.info(f"backing up {settings.db_path} …")
        info = await ctx.resources.backups.create(
            Path(settings.db_path), reason=f"before DATABASE_UPGRADE {ctx.task_id}"
        )
        ctx.info(f"backup {info.name} written and checked ({info.size_bytes} bytes)")
        return {
            "name": info.name,
            "path": info.path,
            "size": info.size_bytes,
            "timestamp": info.created_at_ms,
        }

    async def _apply_alone(
        self,
        ctx: TaskContext,
        params: DatabaseUpgradeParams,
        item: ItemRecord,
        result: dict[str, Any],
    ) -> ItemOutcome:
        """Back up, apply, check and (if need be) restore, with no other write of the tool's."""
        settings = ctx.resources.settings
        db_path = Path(settings.db_path)
        earlier = await self._earlier_apply(ctx)
        if earlier is not None:
            settled = await self._settle_earlier(ctx, params, item, result, *earlier)
            if settled is not None:
                return settled
        if result.get("phase") == "resumed":  # proven not applied, but never rehearsed here
            raise TransientError("the earlier apply did not commit; rehearsing again") from None
        prisma = result.get("prisma")
        if prisma:  # Prisma may have deployed it while this task waited for the lock
            phase = await prisma_phase(ctx, prisma["name"])
            settled = prisma_outcome(ctx, item, {**result, **(phase or {})})
            if settled is not None:
                return settled
        before, after = result.get("schemaBefore"), result.get("schemaAfter")
        try:
            current = await asyncio.to_thread(live_fingerprint, db_path)
        except sqlite3.Error as exc:
            if _busy(exc):
                raise TransientError(f"database busy: {exc}") from None
            raise MigrationError(f"cannot read the schema of {db_path}: {exc}") from None
        if current == after and after != before:
            # This task never recorded an apply (it would have, before COMMIT): someone else
            # migrated the database. Running the script again is not safe, claiming it is wrong.
            error = (
                "the live schema already matches the migrated one, but this task never applied "
                "it (another run or program did?); nothing was run — check the database"
            )
            return ItemOutcome(item.key, ItemStatus.FAILED, error, {**result, "restored": False})
        if current != before:
            error = (
                "database schema changed since the rehearsal; nothing applied — "
                "retry the task to rehearse against the current schema"
            )
            return ItemOutcome(item.key, ItemStatus.FAILED, error, {**result, "restored": False})
        if params.backupBeforeUpgrade:  # now, so it holds exactly what the script replaces
            result = {**result, "backup": await self.backup(ctx)}
        ctx.info(f"applying {len(result['statements'])} statements in one transaction …")
        journal = ctx.resources.characters.journal
        loop = asyncio.get_running_loop()
        recorded: list[int] = []

        def before_commit(content_before: str, content_after: str) -> None:
            plan = record_apply(
                journal,
                ctx.task_id,
                content_before,
                content_after,
                backup=result.get("backup"),
                baseline=result.get("baseline") or {},
                name=(prisma or {}).get("name"),
            )
            recorded.append(asyncio.run_coroutine_threadsafe(plan, loop).result())

        history_rows: list[str | None] = []
        record_history = (
            None
            if not prisma
            else recorder(prisma["name"], prisma["checksum"], self.clock(ctx)(), self.clock(ctx))
        )

        def after_statements(conn: sqlite3.Connection) -> None:
            if record_history is not None:
                history_rows.append(record_history(conn))

        try:
            outcome = await asyncio.to_thread(
                apply_live,
                db_path,
                result["statements"],
                settings.characters,
                validate=params.validateAfterUpgrade,
                before_commit=before_commit,
                after_statements=after_statements,
            )
        except MigrationLocked as exc:
            raise TransientError(str(exc)) from None
        except MigrationError as exc:
            ctx.warning(f"migration rolled back: {exc}")
            failed = {**result, "error": str(exc), "statementNumber": exc.statement_number}
            return ItemOutcome(
                item.key,
                ItemStatus.FAILED,
                f"rolled back, nothing changed: {exc}",
                {**failed, "restored": False, "rolledBack": True},
            )
        except sqlite3.Error as exc:  # a check or COMMIT itself failed; rolled back
            if _busy(exc):
                raise TransientError(f"database busy, migration rolled back: {exc}") from None
            ctx.warning(f"migration rolled back: {exc}")
            return ItemOutcome(
                item.key,
                ItemStatus.FAILED,
                f"rolled back, nothing changed: {exc}",
                {**result, "error": str(exc), "restored": False, "rolledBack": True},
            )
        if recorded:
            await journal.mark(recorded, JournalState.APPLIED)
        if prisma:
            row_id = history_rows[-1] if history_rows else None
            result = {**result, "prisma": {**prisma, "recorded": row_id is not None, "id": row_id}}
            if row_id is not None:
                ctx.info(f"recorded {prisma['name']} in _prisma_migrations")
        applied = {
            **result,
            "applied": True,
            "schemaDiff": outcome.diff.to_json(),
            "validation": outcome.validation.to_json() if outcome.validation else None,
        }
        ctx.info(f"committed: {self.diff_line(outcome)}")
        return await self.validated(ctx, params, item, applied, outcome.baseline)

    async def _earlier_apply(self, ctx: TaskContext) -> tuple[ApplyRecord, Verdict] | None:
        """The record of an apply this task began before a restart, with what the live database
        proves about it; None when there is none."""
        record = await latest_apply(ctx.resources.characters.journal, ctx.task_id)
        if record is None:
            return None
        db_path = Path(ctx.resources.settings.db_path)
        try:
            live = await asyncio.to_thread(live_content_hash, db_path)
        except sqlite3.Error as exc:
            if _busy(exc):
                raise TransientError(
                    f"database busy while checking the earlier apply: {exc}"
                ) from None
            raise MigrationError(
                f"cannot read {db_path} to check the earlier apply: {exc}"
            ) from None
        return record, record.verdict(live)

    async def _settle_earlier(
        self,
        ctx: TaskContext,
        params: DatabaseUpgradeParams,
        item: ItemRecord,
        result: dict[str, Any],
        record: ApplyRecord,
        verdict: Verdict,
    ) -> ItemOutcome | None:
        """The outcome the evidence proves, or None when the migration did not commit."""
        journal = ctx.resources.characters.journal
        await settle(journal, record, verdict)
        result = {**result, "backup": result.get("backup") or record.backup}
        if verdict is Verdict.NOT_APPLIED:
            ctx.info("the migration had not committed before the restart; it runs now")
            return None
        if verdict is Verdict.UNPROVEN:
            message = record.unproven_message()
            ctx.warning(message)
            return ItemOutcome(item.key, ItemStatus.FAILED, message, {**result, "restored": False})
        ctx.info("the live database holds the migrated content: applied before a restart")
        return await self.validated(
            ctx,
            params,
            item,
            {**result, "alreadyApplied": True, "applied": True},
            baseline_from_json(result.get("baseline") or record.baseline),
        )

    async def validated(
        self,
        ctx: TaskContext,
        params: DatabaseUpgradeParams,
        item: ItemRecord,
        result: dict[str, Any],
        baseline: Baseline,
    ) -> ItemOutcome:
        """Validate the committed database; restore the backup when it fails."""
        if not params.validateAfterUpgrade:
            return ItemOutcome(item.key, ItemStatus.DONE, None, result)
        ctx.info("validating the live database …")
        settings = ctx.resources.settings
        try:
            report = await asyncio.to_thread(
                check_committed, Path(settings.db_path), settings.characters, baseline
            )
        except sqlite3.Error as exc:
            if _busy(exc):  # the check could not read yet: it runs again (the record proves it)
                raise TransientError(
                    f"database busy, the post-commit check runs again: {exc}"
                ) from None
            # Committed, yet the database no longer opens or reads cleanly (a writable_schema
            # edit, say): that is damage, whatever the checks inside the transaction said.
            return await self.restore(ctx, item, result, f"post-commit check failed: {exc}")
        result = {**result, "validation": report.to_json()}
        if report.ok:
            ctx.info("validation passed")
            return ItemOutcome(item.key, ItemStatus.DONE, None, result)
        reason = "validation failed after commit: " + "; ".join(report.problems)
        return await self.restore(ctx, item, result, reason)

    async def restore(
        self, ctx: TaskContext, item: ItemRecord, result: dict[str, Any], reason: str
    ) -> ItemOutcome:
        backup = result.get("backup")
        if not backup:
            error = f"{reason}; no backup was taken (backupBeforeUpgrade=false), nothing restored"
            return ItemOutcome(item.key, ItemStatus.FAILED, error, {**result, "restored": False})
        ctx.warning(f"{reason}; restoring backup {backup['name']} …")
        try:
            await ctx.resources.backups.restore(
                backup["name"], Path(ctx.resources.settings.db_path), safety_backup=False
            )
        except BackupError as exc:
            error = f"{reason}; restoring {backup['name']} FAILED: {exc}"
            return ItemOutcome(item.key, ItemStatus.FAILED, error, {**result, "restored": False})
        ctx.warning(f"restored {backup['name']}; the database is as before the upgrade")
        error = f"{reason}; the database was restored from {backup['name']}"
        return ItemOutcome(item.key, ItemStatus.FAILED, error, {**result, "restored": True})

    # --- summary --------------------------------------------------------------------------------

    async def revert(self, ctx: TaskContext, params: DatabaseUpgradeParams) -> dict[str, Any]:
        """Undo a completed migration by restoring the backup taken before it (the state it
        replaces is backed up first). Writes the site made since the upgrade are undone too."""
        result = ctx.result or {}
        backup = result.get("backup") or {}
        if not result.get("success") or result.get("dryRun"):
            raise TaskStateError("only a completed, non-dry-run upgrade can be reverted")
        if not backup.get("name"):
            raise TaskStateError("this upgrade ran without a backup (backupBeforeUpgrade was off)")
        settings = ctx.resources.settings
        ctx.warning(f"reverting the upgrade: restoring backup {backup['name']} …")
        report: dict[str, Any] = await ctx.resources.backups.restore(
            backup["name"], Path(settings.db_path)
        )
        ctx.info(f"restored {backup['name']}; the database is as before the upgrade")
        return {"reverted": 1, "skipped": [], "restoredBackup": backup["name"], **report}

    def summarize(
        self, params: DatabaseUpgradeParams, items: Sequence[ItemRecord]
    ) -> dict[str, Any]:
        return summarize_upgrade(params.dryRun, items)
