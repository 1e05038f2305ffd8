"""Card files read from disk: a PNG (``ccv3`` chunk first, else ``chara``) or a JSON card, size
capped and validated, each refusal naming the file and the field."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from tui_updater.cards.models import Card, parse_card
from tui_updater.cards.png import (
    KEYWORD_V2,
    KEYWORD_V3,
    MAX_CARD_FILE_BYTES,
    decode_json,
    image_of,
    read_card_chunks,
)
from tui_updater.characters.schema import CharacterSchema, quote
from tui_updater.errors import InvalidParameters

CARD_SUFFIXES = (".png", ".json")


@dataclass(frozen=True)
class LoadedCard:
    card: Card
    image: bytes | None  # the PNG's picture without its text chunks; None for a JSON card


def load_card(path: Path, source: str | None = None) -> LoadedCard:
    """Read and validate one card file; InvalidParameters naming the file (and field)."""
    name = source or path.name
    try:
        size = path.stat().st_size
        if size > MAX_CARD_FILE_BYTES:
            raise InvalidParameters(name, f"larger than {MAX_CARD_FILE_BYTES // 2**20} MiB")
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidParameters(name, f"cannot read: {exc.strerror or exc}") from None
    if path.suffix.lower() == ".json" or data[:1] in (b"{", b" ", b"\n", b"\t", b"\r"):
        return LoadedCard(parse_card(decode_json(data, name), name), None)
    chunks = read_card_chunks(data, name)
    # V3 writers add a V2 chunk for older readers; the V3 one is the card.
    keyword = KEYWORD_V3 if KEYWORD_V3 in chunks else KEYWORD_V2
    card = parse_card(chunks[keyword], f"{name} ({keyword} chunk)")
    return LoadedCard(card, image_of(data))


@dataclass(frozen=True)
class TableRules:
    """What the table demands of a new row."""

    not_null: frozenset[str]  # NOT NULL columns
    required: frozenset[str]  # NOT NULL without a default (the id aside)
    owner_references: tuple[str, str] | None  # (table, column) the owner column points at


def table_rules(conn: sqlite3.Connection, schema: CharacterSchema, owner: str | None) -> TableRules:
    info = conn.execute(f"PRAGMA table_info({schema.qtable})").fetchall()
    not_null = frozenset(str(r[1]) for r in info if r[3])
    required = frozenset(
        str(r[1]) for r in info if r[3] and r[4] is None and str(r[1]) != schema.column("id")
    )
    references = None
    if owner is not None:
        for fk in conn.execute(f"PRAGMA foreign_key_list({schema.qtable})").fetchall():
            if str(fk[3]) == owner:
                references = (str(fk[2]), str(fk[4] or "id"))
    return TableRules(not_null, required, references)


def owner_exists(conn: sqlite3.Connection, references: tuple[str, str], value: object) -> bool:
    table, column = references
    try:
        row = conn.execute(
            f"SELECT 1 FROM {quote(table)} WHERE {quote(column)} = ? LIMIT 1", (value,)
        ).fetchone()
    except sqlite3.OperationalError:  # the referenced table is not there: nothing to check
        return True
    return row is not None


def card_files(directory: Path) -> list[str]:
    """The card files directly in ``directory`` (names, sorted)."""
    return sorted(
        p.name for p in directory.iterdir() if p.is_file() and p.suffix.lower() in CARD_SUFFIXES
    )
