"""Migration scripts: load (SQL text or a .sql file), split with sqlite3.complete_statement,
rehearse on a scratch copy, and apply to the live database in one transaction.

Plain synchronous sqlite3 on purpose (run it in a worker thread): migrations are rare and must
be exact, and ``executescript`` would commit behind our back.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_updater.characters.content_hash import content_hash
from tui_updater.characters.leftovers import scratch_prefix
from tui_updater.characters.schema_diff import (
    SchemaDiff,
    diff_schemas,
    schema_fingerprint,
    snapshot_schema,
)
from tui_updater.characters.sqlitecopy import copy_database, open_database
from tui_updater.characters.validation import (
    Baseline,
    ValidationReport,
    new_fk_violations,
    take_baseline,
    validate_database,
)
from tui_updater.errors import InvalidParameters, MigrationError

FIELD = "migrationScript"
MAX_SCRIPT_BYTES = 64 * 1024 * 1024

_SQL_START = re.compile(
    r"^\s*(--|/\*|(ALTER|ANALYZE|ATTACH|BEGIN|COMMIT|CREATE|DELETE|DETACH|DROP|END|INSERT|"
    r"PRAGMA|REINDEX|RELEASE|REPLACE|ROLLBACK|SAVEPOINT|SELECT|UPDATE|UPSERT|VACUUM|WITH)\s)",
    re.IGNORECASE,
)
_LEADING_NOISE = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)+", re.DOTALL)
_REFUSED = {
    "COMMIT": "COMMIT would end the migration's transaction early",
    "END": "END would end the migration's transaction early",
    "BEGIN": "the migration already runs in one transaction",
    "ROLLBACK": "ROLLBACK would abandon the migration's transaction (ROLLBACK TO a savepoint is fine)",
    "VACUUM": "VACUUM cannot run inside a transaction",
    "ATTACH": "ATTACH is not allowed in a migration",
    "DETACH": "DETACH is not allowed in a migration",
}


class MigrationLocked(MigrationError):
    """The live database stayed locked by another writer; nothing was changed."""


# Called with (content before, content after) just before COMMIT; it records them durably so a
# restart can tell whether the COMMIT happened. If it raises, the transaction rolls back.
BeforeCommit = Callable[[str, str], None]
# Bookkeeping written in the migration's transaction after its statements and checks (Prisma's
# history row): part of the content the hashes handed to BeforeCommit cover.
AfterStatements = Callable[[sqlite3.Connection], object]


def strip_leading_comments(text: str) -> str:
    """``text`` without leading whitespace and comments."""
    return _LEADING_NOISE.sub("", text, count=1)


def first_line(statement: str, limit: int = 120) -> str:
    line = strip_leading_comments(statement).split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _is_blank(fragment: str) -> bool:
    return strip_leading_comments(fragment).strip().strip(";").strip() == ""


def split_statements(sql: str) -> list[str]:
    """Split a script into single statements using sqlite3.complete_statement, never a bare ';'.

    Handles ';' in strings, identifiers and comments, and CREATE TRIGGER … BEGIN … END bodies.
    Comment-only and empty fragments are dropped; a last statement without ';' is accepted.
    """
    statements: list[str] = []
    buffer: list[str] = []
    start = 0
    for index, char in enumerate(sql):
        if char != ";":
            continue
        buffer.append(sql[start : index + 1])
        start = index + 1
        candidate = "".join(buffer)
        if sqlite3.complete_statement(candidate):
            buffer.clear()
            if not _is_blank(candidate):
                statements.append(strip_leading_comments(candidate).strip())
    buffer.append(sql[start:])
    rest = "".join(buffer)
    if not _is_blank(rest):
        closed = rest.rstrip() + "\n;"
        if not sqlite3.complete_statement(closed):
            raise MigrationError(
                f"statement {len(statements) + 1} is incomplete (unterminated string, comment "
                f"or trigger body?): {first_line(rest)}",
                statement_number=len(statements) + 1,
            )
        statements.append(strip_leading_comments(rest).rstrip())
    return statements


def leading_keyword(statement: str) -> str:
    match = re.match(r"[A-Za-z]+", strip_leading_comments(statement))
    return match.group(0).upper() if match else ""


def prepare_statements(statements: Sequence[str]) -> list[str]:
    """Drop a wrapping BEGIN … COMMIT (we provide the transaction); refuse other control statements."""
    prepared = list(statements)
    if prepared and leading_keyword(prepared[0]) == "BEGIN":
        prepared.pop(0)
        if prepared and leading_keyword(prepared[-1]) in ("COMMIT", "END"):
            prepared.pop()
    for number, statement in enumerate(prepared, 1):
        keyword = leading_keyword(statement)
        rolls_back_to = keyword == "ROLLBACK" and re.search(r"\bTO\b", statement, re.IGNORECASE)
        if keyword in _REFUSED and not rolls_back_to:
            raise MigrationError(
                f"statement {number} ({first_line(statement)}) is not allowed: {_REFUSED[keyword]}",
                statement_number=number,
            )
    return prepared


def script_statements(sql: str) -> list[str]:
    """Split and prepare a script; InvalidParameters when it is empty or malformed."""
    try:
        statements = prepare_statements(split_statements(sql))
    except MigrationError as exc:
        raise InvalidParameters(FIELD, str(exc)) from None
    if not statements:
        raise InvalidParameters(FIELD, "the script contains no SQL statements")
    return statements


def _looks_like_path(text: str, base_dir: Path | None) -> bool:
    if "\n" in text or ";" in text:
        return False
    if text.lower().endswith(".sql"):
        return True
    if _SQL_START.match(text + " "):
        return False
    candidates = [Path(text).expanduser()]
    if base_dir is not None:
        candidates.insert(0, base_dir / text)
    return any(_is_file(candidate) for candidate in candidates)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # e.g. a line of text too long to be a file name: not a path
        return False


def _resolve_script_path(text: str, base_dir: Path | None, restrict_to: Path | None) -> Path:
    raw = Path(text).expanduser()
    if restrict_to is not None:
        root = restrict_to.resolve()
        path = (raw if raw.is_absolute() else root / raw).resolve()
        if not path.is_relative_to(root):
            raise InvalidParameters(
                FIELD,
                f"{text!r} is outside the migrations directory {root}; only files there are allowed",
            )
        return path
    # The configured migrations directory first, so a name means the same file to the server's
    # check and to the runner, whatever the current directory is.
    if not raw.is_absolute() and base_dir is not None and (base_dir / raw).exists():
        return base_dir / raw
    return raw


def _read_script_file(path: Path, shown: str) -> str:
    try:
        if path.is_dir():
            raise InvalidParameters(FIELD, f"{shown} is a directory, not a .sql file")
        if not path.exists():
            raise InvalidParameters(FIELD, f"file {shown} does not exist")
        if path.stat().st_size > MAX_SCRIPT_BYTES:
            raise InvalidParameters(FIELD, f"file {shown} is larger than {MAX_SCRIPT_BYTES} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidParameters(FIELD, f"cannot read {shown}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidParameters(
            FIELD, f"file {shown} is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None
    if not text.strip():
        raise InvalidParameters(FIELD, f"file {shown} is empty")
    return text


def find_directory(
    value: str, *, base_dir: Path | None = None, restrict_to: Path | None = None
) -> Path | None:
    """The directory ``value`` names (a ``prisma/migrations`` folder or one migration's
    directory), resolved as ``load_script`` resolves a file; None when it names no directory."""
    text = value.strip()
    if not text or "\n" in text or ";" in text or text.lower().endswith(".sql"):
        return None
    if _SQL_START.match(text + " "):
        return None
    path = _resolve_script_path(text, base_dir, restrict_to)
    try:
        return path if path.is_dir() else None
    except OSError:
        return None


def load_script(
    value: str, *, base_dir: Path | None = None, restrict_to: Path | None = None
) -> tuple[str, str | None]:
    """SQL text and the file it came from (None for inline SQL).

    ``value`` is a path when it has no newline or ';' and ends with .sql or names an existing
    file; relative paths are tried under ``base_dir``, then as given. With ``restrict_to`` (requests
    over the network) only files inside that directory, after resolving symlinks and '..', are read.
    """
    text = value.strip()
    if not text:
        raise InvalidParameters(FIELD, "empty; give SQL text or the path of a .sql file")
    if not _looks_like_path(text, restrict_to or base_dir):
        if _SQL_START.match(text + " ") is None and "\n" not in text and ";" not in text:
            raise InvalidParameters(FIELD, f"{text!r} is neither an existing file nor SQL")
        return text, None
    path = _resolve_script_path(text, base_dir, restrict_to)
    return _read_script_file(path, str(path)), str(path)


@dataclass(frozen=True)
class MigrationOutcome:
    """What applying a script did (to a scratch copy or the live database)."""

    fingerprint_before: str
    fingerprint_after: str
    diff: SchemaDiff
    validation: ValidationReport | None
    baseline: Baseline


def run_in_transaction(
    conn: sqlite3.Connection,
    statements: Sequence[str],
    overrides: Any,
    *,
    validate: bool,
    before_commit: BeforeCommit | None = None,
    after_statements: AfterStatements | None = None,
) -> MigrationOutcome:
    """BEGIN IMMEDIATE, each statement, checks, COMMIT; on any error ROLLBACK and raise MigrationError.

    With ``before_commit``, the content hashes of the database before and after the script (both
    inside the transaction, so exact) are handed to it before COMMIT.

    foreign_keys stays OFF on this connection: a DROP TABLE would otherwise run ON DELETE
    CASCADE actions (as Prisma's table redefinitions do); new violations are found with
    foreign_key_check before COMMIT instead.
    """
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise MigrationLocked(f"could not lock the database for the migration: {exc}") from None
    try:
        conn.execute("PRAGMA defer_foreign_keys=ON")
        baseline = take_baseline(conn, overrides)
        snapshot_before = snapshot_schema(conn)
        fingerprint_before = schema_fingerprint(conn)
        content_before = content_hash(conn) if before_commit is not None else ""
        for number, statement in enumerate(statements, 1):
            try:
                conn.execute(statement)
            except sqlite3.Error as exc:
                raise MigrationError(
                    f"statement {number} failed: {exc} — in: {first_line(statement)}",
                    statement_number=number,
                ) from None
        report: ValidationReport | None = None
        if validate:
            report = validate_database(conn, overrides, baseline)
            if not report.ok:
                raise MigrationError("validation failed: " + "; ".join(report.problems))
        else:
            violations = new_fk_violations(conn, baseline)
            if violations:
                raise MigrationError("new foreign-key violations: " + "; ".join(violations))
        if after_statements is not None:
            after_statements(conn)
        outcome = MigrationOutcome(
            fingerprint_before,
            schema_fingerprint(conn),
            diff_schemas(snapshot_before, snapshot_schema(conn)),
            report,
            baseline,
        )
        if before_commit is not None:
            before_commit(content_before, content_hash(conn))
        conn.execute("COMMIT")
        return outcome
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


@contextmanager
def _scratch_copy(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A copy of the live database (made with the backup API) in a temp file, for rehearsals."""
    # Named for this process: a copy left by a kill -9 is removed on the next start (leftovers).
    with tempfile.TemporaryDirectory(prefix=scratch_prefix()) as tmp:
        scratch = open_database(Path(tmp) / "rehearsal.db", create=True)
        try:
            live = open_database(db_path)
            try:
                copy_database(live, scratch)
            finally:
                live.close()
            yield scratch
        finally:
            scratch.close()


def rehearse(
    db_path: Path, statements: Sequence[str], overrides: Any, *, validate: bool = True
) -> MigrationOutcome:
    """Copy the live database into a temp file and run the script there."""
    with _scratch_copy(db_path) as scratch:
        return run_in_transaction(scratch, statements, overrides, validate=validate)


def rehearse_sequence(
    db_path: Path, scripts: Sequence[Sequence[str]], overrides: Any, *, validate: bool = True
) -> tuple[list[MigrationOutcome], MigrationError | None]:
    """Rehearse scripts one after another on one copy, each in its own transaction, as they
    will be applied; stops at the first that fails: the outcomes before it, and its error."""
    outcomes: list[MigrationOutcome] = []
    with _scratch_copy(db_path) as scratch:
        for statements in scripts:
            try:
                outcomes.append(
                    run_in_transaction(scratch, statements, overrides, validate=validate)
                )
            except MigrationError as exc:
                return outcomes, exc
    return outcomes, None


def apply_live(
    db_path: Path,
    statements: Sequence[str],
    overrides: Any,
    *,
    validate: bool = True,
    before_commit: BeforeCommit | None = None,
    after_statements: AfterStatements | None = None,
) -> MigrationOutcome:
    """Apply the script to the live database in one short write transaction."""
    conn = open_database(db_path)
    try:
        return run_in_transaction(
            conn,
            statements,
            overrides,
            validate=validate,
            before_commit=before_commit,
            after_statements=after_statements,
        )
    finally:
        conn.close()


def check_committed(db_path: Path, overrides: Any, baseline: Baseline) -> ValidationReport:
    """Validate the live database as other connections now see it (after COMMIT)."""
    conn = open_database(db_path)
    try:
        return validate_database(conn, overrides, baseline, quick=True)
    finally:
        conn.close()


def live_content_hash(db_path: Path) -> str:
    """The live database's content hash, read in one read transaction."""
    conn = open_database(db_path)
    try:
        conn.execute("BEGIN")
        try:
            return content_hash(conn)
        finally:
            conn.execute("ROLLBACK")
    finally:
        conn.close()


def live_fingerprint(db_path: Path) -> str:
    conn = open_database(db_path)
    try:
        return schema_fingerprint(conn)
    finally:
        conn.close()


def resolve_network_script(value: str, migrations_dir: Path) -> str:
    """For a request over the network: SQL text unchanged, or the absolute path of a readable
    file or directory inside ``migrations_dir``; InvalidParameters for any other path."""
    directory = find_directory(value, restrict_to=migrations_dir)
    if directory is not None:
        return str(directory)
    _text, source = load_script(value, restrict_to=migrations_dir)
    return value if source is None else source
