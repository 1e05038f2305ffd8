"""A hash of a database's whole logical content (schema and every row): what proves, after a
crash, whether a migration's transaction committed when its schema fingerprint cannot tell.
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct

from tui_updater.characters.schema import quote


def _encode(value: object) -> bytes:
    """A type-tagged, unambiguous encoding of one SQLite value."""
    if value is None:
        return b"N"
    if isinstance(value, int):
        return b"I" + str(value).encode() + b";"
    if isinstance(value, float):
        return b"R" + struct.pack(">d", value)
    if isinstance(value, bytes):
        return b"B" + str(len(value)).encode() + b":" + value
    text = str(value).encode("utf-8", "surrogatepass")
    return b"T" + str(len(text)).encode() + b":" + text


def content_hash(conn: sqlite3.Connection) -> str:
    """sha256 over sqlite_master and each table's rows (in a stable order), as ``conn`` sees them.

    Inside a transaction it includes that transaction's uncommitted changes, so it is the content
    COMMIT will make visible.
    """
    digest = hashlib.sha256()
    objects = conn.execute(
        "SELECT type, name, tbl_name, IFNULL(sql, '') FROM sqlite_master ORDER BY type, name"
    ).fetchall()
    for row in objects:
        digest.update("\x1f".join(str(v) for v in row).encode("utf-8") + b"\x1e")
    for kind, name, _tbl, sql in objects:
        if kind != "table" or str(sql).upper().startswith("CREATE VIRTUAL"):
            continue  # a virtual table's rows live in its shadow tables, hashed on their own
        width = len(conn.execute(f"PRAGMA table_info({quote(name)})").fetchall())
        order = ", ".join(str(n) for n in range(1, width + 1)) or "1"
        digest.update(b"\x1d" + str(name).encode("utf-8"))
        for record in conn.execute(f"SELECT * FROM {quote(name)} ORDER BY {order}"):
            digest.update(b"".join(_encode(v) for v in record) + b"\x1e")
    return digest.hexdigest()
