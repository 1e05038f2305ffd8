"""What DATABASE_UPGRADE's ``migrationScript`` names: SQL text or a .sql file (maybe a named
Prisma migration), one Prisma migration's directory, or a ``prisma/migrations`` folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tui_updater.characters.migration import (
    find_directory,
    load_script,
    prepare_statements,
    script_statements,
    split_statements,
)
from tui_updater.characters.prisma import (
    SCRIPT_NAME,
    MigrationFile,
    is_migration_dir,
    read_folder,
    read_migration_dir,
)
from tui_updater.errors import InvalidParameters, MigrationError


class SourceParams(Protocol):
    migrationScript: str
    migrationName: str | None


@dataclass(frozen=True)
class UpgradeSource:
    """What ``migrationScript`` names: one script (maybe a named Prisma migration), or a folder."""

    statements: list[str]
    source: str | None
    migration: MigrationFile | None = None  # a named migration: recorded for Prisma
    folder: Path | None = None
    migrations: list[tuple[MigrationFile, list[str]]] = field(default_factory=list)


def folder_statements(migration: MigrationFile) -> list[str]:
    """A folder migration's statements; it may have none (``prisma migrate dev --create-only``
    makes empty ones, and Prisma records them applied)."""
    try:
        return prepare_statements(split_statements(migration.text()))
    except MigrationError as exc:
        raise InvalidParameters("migrationScript", f"{migration.name}: {exc}") from None


def load_source(params: SourceParams, base_dir: Path | None) -> UpgradeSource:
    """Read and split what ``migrationScript`` names (a worker thread's job: it reads files)."""
    directory = find_directory(params.migrationScript, base_dir=base_dir)
    if directory is not None and not is_migration_dir(directory):
        if params.migrationName:
            raise InvalidParameters(
                "migrationName", "a migrations folder names its migrations by their directories"
            )
        migrations = [(m, folder_statements(m)) for m in read_folder(directory)]
        every = [statement for _, statements in migrations for statement in statements]
        return UpgradeSource(every, str(directory), folder=directory, migrations=migrations)
    if directory is not None:
        found = read_migration_dir(directory)
        named = MigrationFile(params.migrationName or found.name, found.path, found.script)
        return UpgradeSource(script_statements(found.text()), str(found.path), named)
    text, source = load_script(params.migrationScript, base_dir=base_dir)
    name = params.migrationName
    if source is not None and name is None and Path(source).name == SCRIPT_NAME:
        name = Path(source).parent.name  # prisma/migrations/<name>/migration.sql
    if name is None:
        return UpgradeSource(script_statements(text), source)
    # Prisma's checksum is of the file's bytes; of inline SQL, of the text as given.
    script = Path(source).read_bytes() if source else params.migrationScript.encode()
    named = MigrationFile(name, Path(source) if source else None, script)
    return UpgradeSource(script_statements(text), source, named)
