"""Characters written out as card files: V2 PNG (``chara``), V3 PNG (``ccv3`` plus a V2 ``chara``
for older readers) or V3 JSON, the avatar as the picture (a placeholder when there is none)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from tui_updater.cards.mapping import card_data, card_document, owner_column
from tui_updater.cards.png import KEYWORD_V2, KEYWORD_V3, write_card_png
from tui_updater.cards.reading import table_rules
from tui_updater.characters.schema import CharacterSchema, quote
from tui_updater.errors import InvalidParameters

CardFormat = Literal["v2", "v3", "json"]
CARD_FORMATS: tuple[str, ...] = ("v2", "v3", "json")
MAX_EXPORT = 10_000
_UNSAFE = re.compile(r"[^\w .-]+")


def _rows(
    conn: sqlite3.Connection, schema: CharacterSchema, ids: Sequence[str | int]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        cursor = conn.execute(
            f"SELECT * FROM {schema.qtable} WHERE {schema.q('id')} IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        names = [d[0] for d in cursor.description]
        out.extend(dict(zip(names, row, strict=True)) for row in cursor.fetchall())
    return out


def _creators(
    conn: sqlite3.Connection, schema: CharacterSchema, rows: Sequence[dict[str, Any]]
) -> dict[Any, str]:
    """Owner id → the user's name, where the owner column points at a table with one."""
    owner = owner_column(schema)
    if owner is None:
        return {}
    references = table_rules(conn, schema, owner).owner_references
    if references is None:
        return {}
    table, column = references
    columns = {
        str(r[1]).lower(): str(r[1]) for r in conn.execute(f"PRAGMA table_info({quote(table)})")
    }
    name = columns.get("username") or columns.get("name")
    if name is None:
        return {}
    wanted = sorted({str(r[owner]) for r in rows if r.get(owner) is not None})
    found: dict[Any, str] = {}
    for key in wanted:
        hit = conn.execute(
            f"SELECT {quote(name)} FROM {quote(table)} WHERE {quote(column)} = ?", (key,)
        ).fetchone()
        if hit is not None and hit[0] is not None:
            found[key] = str(hit[0])
    return found


def file_stem(name: str, character_id: str) -> str:
    """A file name for a character: its name made safe, then its id (names repeat)."""
    safe = _UNSAFE.sub("_", name).strip(" ._")[:60] or "character"
    return f"{safe}-{_UNSAFE.sub('_', character_id)[:40]}"


def _avatar_bytes(avatar_dir: Path | None, value: Any) -> bytes | None:
    if not value or avatar_dir is None:
        return None
    candidate = avatar_dir / PurePosixPath(str(value)).name
    try:
        if candidate.is_file() and candidate.stat().st_size <= 32 * 1024 * 1024:
            return candidate.read_bytes()
    except OSError:
        return None
    return None


def _write_new(path: Path, data: bytes) -> None:
    """Write through a temporary name, then rename: a reader never sees half a card."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _export_one(
    schema: CharacterSchema,
    row: dict[str, Any],
    creator: str,
    fmt: CardFormat,
    out_dir: Path,
    avatar_dir: Path | None,
) -> Path:
    character_id = str(row[schema.column("id")])
    name = str(row.get(schema.column("name")) or "") if schema.has("name") else ""
    stem = file_stem(name, character_id)
    v3 = card_document(card_data(schema, row, creator=creator, v3=True), v3=True)
    if fmt == "json":
        path = out_dir / f"{stem}.json"
        _write_new(path, json.dumps(v3, ensure_ascii=False, indent=2).encode("utf-8"))
        return path
    v2 = card_document(card_data(schema, row, creator=creator, v3=False), v3=False)
    chunks = {KEYWORD_V2: v2} if fmt == "v2" else {KEYWORD_V3: v3, KEYWORD_V2: v2}
    avatar = row.get(schema.column("avatar")) if schema.has("avatar") else None
    path = out_dir / f"{stem}.png"
    _write_new(path, write_card_png(_avatar_bytes(avatar_dir, avatar), chunks))
    return path


async def export_cards(
    db: Any,
    ids: Sequence[str],
    fmt: str,
    out_dir: Path,
    avatar_dir: Path | None,
) -> dict[str, Any]:
    """Write one card file per character into ``out_dir``; report the files and unknown ids."""
    if fmt not in CARD_FORMATS:
        raise InvalidParameters("format", f"{fmt!r} is not one of {', '.join(CARD_FORMATS)}")
    if not ids:
        raise InvalidParameters("ids", "no characters to export")
    if len(ids) > MAX_EXPORT:
        raise InvalidParameters("ids", f"at most {MAX_EXPORT} characters per export")
    schema: CharacterSchema = db.schema
    values = [v for v in (schema.id_value(k) for k in ids) if v is not None]

    def read(conn: sqlite3.Connection) -> tuple[list[dict[str, Any]], dict[Any, str]]:
        rows = _rows(conn, schema, values)
        return rows, _creators(conn, schema, rows)

    rows, creators = await db.run(read)
    owner = owner_column(schema)
    card_format: CardFormat = fmt  # type: ignore[assignment]

    def write_all() -> list[str]:
        out_dir.mkdir(parents=True, exist_ok=True)
        return [
            str(
                _export_one(
                    schema,
                    row,
                    creators.get(str(row.get(owner)), "") if owner else "",
                    card_format,
                    out_dir,
                    avatar_dir,
                )
            )
            for row in rows
        ]

    try:
        files = await asyncio.to_thread(write_all)
    except OSError as exc:
        raise InvalidParameters(
            "out", f"cannot write into {out_dir}: {exc.strerror or exc}"
        ) from None
    found = {str(row[schema.column("id")]) for row in rows}
    return {
        "format": fmt,
        "directory": str(out_dir),
        "files": files,
        "exported": len(files),
        "unknownIds": [k for k in ids if str(schema.id_value(k)) not in found],
    }
